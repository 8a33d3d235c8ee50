"""Test files need unique basenames: pytest imports them by basename (tests/ has no
__init__.py), so a second test_gradient.py anywhere stops collection of the whole suite."""

import collections
import pathlib


def test_test_file_basenames_are_unique():
    root = pathlib.Path(__file__).parent
    names = collections.Counter(p.name for p in root.rglob("test_*.py"))
    assert [n for n, c in names.items() if c > 1] == []

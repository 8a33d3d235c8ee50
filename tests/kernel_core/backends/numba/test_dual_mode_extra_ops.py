"""NUMBA = PYTHON, part "extra_ops" of the dual-mode suite: extra ops (repeat, sort,
cumsum, ...) and the everyday ones (linspace, roll, unique, searchsorted, ...).

The cases are in _dual_mode_cases.py (PARTS["extra_ops"]): each family is one function with
many outputs, compiled in both modes, every output compared.
"""

import pytest

import _dual_mode_cases as cases


@pytest.mark.parametrize("family", cases.PARTS["extra_ops"])
def test_numba_equals_python(family):
    assert cases.seen_by(family)

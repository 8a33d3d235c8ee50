"""NUMBA = PYTHON, part "shape_indexing" of the dual-mode suite: shape ops, join / split,
construction (alloc, arange, eye, ...), indexing and inc/set_subtensor.

The cases are in _dual_mode_cases.py (PARTS["shape_indexing"]): each family is one function with
many outputs, compiled in both modes, every output compared.
"""

import pytest

import _dual_mode_cases as cases


@pytest.mark.parametrize("family", cases.PARTS["shape_indexing"])
def test_numba_equals_python(family):
    assert cases.seen_by(family)

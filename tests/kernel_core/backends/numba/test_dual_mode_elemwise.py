"""NUMBA = PYTHON, part "elemwise" of the dual-mode suite: elementwise ops of every dtype,
reductions, pt.special and the special functions.

The cases are in _dual_mode_cases.py (PARTS["elemwise"]): each family is one function with
many outputs, compiled in both modes, every output compared.
"""

import pytest

import _dual_mode_cases as cases


@pytest.mark.parametrize("family", cases.PARTS["elemwise"])
def test_numba_equals_python(family):
    assert cases.seen_by(family)


def test_bool_to_float_cast():
    cases.bool_to_float_cast()

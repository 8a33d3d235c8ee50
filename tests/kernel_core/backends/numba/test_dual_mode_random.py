"""NUMBA = PYTHON, part "random" of the dual-mode suite: every distribution (the graphs of
tests/kernel_core/tensor/random/test_statistics.py, four functions of about ten draws).

The cases are in _dual_mode_cases.py (PARTS["random"]): each family is one function with
many outputs, compiled in both modes, every output compared.
"""

import pytest

import _dual_mode_cases as cases


@pytest.mark.parametrize("family", cases.PARTS["random"])
def test_numba_equals_python(family):
    assert cases.seen_by(family)

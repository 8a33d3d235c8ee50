"""NUMBA = PYTHON, part "structured" of the dual-mode suite: OpFromGraph, Scan and IfElse,
CheckParameterValue, the 1-D / 2-D / FFT convolutions.

The cases are in _dual_mode_cases.py (PARTS["structured"]): each family is one function with
many outputs, compiled in both modes, every output compared.
"""

import pytest

import _dual_mode_cases as cases


@pytest.mark.parametrize("family", cases.PARTS["structured"])
def test_numba_equals_python(family):
    assert cases.seen_by(family)

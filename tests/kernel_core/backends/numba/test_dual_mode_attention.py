"""NUMBA = PYTHON, part "attention" of the dual-mode suite: FusedAttention and
FusedAttentionGrad.

The cases are in _dual_mode_cases.py (PARTS["attention"]): each family is one function with
many outputs, compiled in both modes, every output compared.
"""

import pytest

import _dual_mode_cases as cases


@pytest.mark.parametrize("family", cases.PARTS["attention"])
def test_numba_equals_python(family):
    assert cases.seen_by(family)

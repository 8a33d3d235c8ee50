"""NUMBA = PYTHON, part "factorizations" of the dual-mode suite: LU / expm / pinv /
matrix_power and pt.optimize's solvers (objmode allowed).

The cases are in _dual_mode_cases.py (PARTS["factorizations"]): each family is one function with
many outputs, compiled in both modes, every output compared.
"""

import pytest

import _dual_mode_cases as cases


@pytest.mark.parametrize("family", cases.PARTS["factorizations"])
def test_numba_equals_python(family):
    assert cases.seen_by(family)

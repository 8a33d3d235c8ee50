"""NUMBA = PYTHON, part "linalg" of the dual-mode suite: dot / matmul / Blockwise and the
linear algebra ops (solve, cholesky, eigh, svd, qr, ...).

The cases are in _dual_mode_cases.py (PARTS["linalg"]): each family is one function with
many outputs, compiled in both modes, every output compared.
"""

import pytest

import _dual_mode_cases as cases


@pytest.mark.parametrize("family", cases.PARTS["linalg"])
def test_numba_equals_python(family):
    assert cases.seen_by(family)

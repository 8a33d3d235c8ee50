"""``solve_triangular(check_finite=...)`` as SciPy: True raises ValueError on an inf or
nan in ``a`` or ``b``; False lets them propagate (both modes, batched too)."""

import numpy as np
import pytest
import scipy.linalg

import opgraph
import opgraph.tensor as pt
from opgraph.tensor.linalg import solve_triangular

A = np.array([[2.0, 0.0, 0.0], [1.0, 3.0, 0.0], [0.5, -1.0, 4.0]])
B = np.array([1.0, 2.0, 3.0])


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_check_finite(mode):
    a, b = pt.matrix("a"), pt.vector("b")
    stack = pt.tensor(shape=(None, 3, 3), name="stack")
    f = opgraph.function([a, b, stack], [solve_triangular(a, b, lower=True),
                                         solve_triangular(a, b, lower=True, check_finite=False),
                                         solve_triangular(stack, b, lower=True)], mode=mode)
    checked, unchecked, batched = f(A, B, np.stack([A, 2 * A]))
    np.testing.assert_allclose(checked, scipy.linalg.solve_triangular(A, B, lower=True))
    np.testing.assert_allclose(unchecked, checked)
    np.testing.assert_allclose(batched[1], checked / 2)

    with pytest.raises(ValueError, match="array must not contain infs or NaNs") as scipy_error:
        scipy.linalg.solve_triangular(A, np.array([1.0, np.nan, 3.0]), lower=True)
    bad_a = A.copy()
    bad_a[2, 0] = np.inf
    bad_b = np.array([1.0, np.nan, 3.0])
    g = opgraph.function([a, b], solve_triangular(a, b, lower=True), mode=mode)
    for args in [(bad_a, B), (A, bad_b)]:
        with pytest.raises(ValueError, match=str(scipy_error.value)):
            g(*args)
    h = opgraph.function([a, b], solve_triangular(a, b, lower=True, check_finite=False), mode=mode)
    for bad in [(A, bad_b), (bad_a, B)]:
        np.testing.assert_allclose(h(*bad), scipy.linalg.solve_triangular(*bad, lower=True, check_finite=False))

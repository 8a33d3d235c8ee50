"""Solve in mode NUMBA calls LAPACK's gesv itself (solve_kernels.py), not numba's
np.linalg.solve: the values of np.linalg.solve for every dtype and both right-hand-side
ranks, its LinAlgErrors (singular, not finite), the caller's arrays untouched, and no
array-valued setitem (numba's string-formatting error path) in the compiled graph; expm's
Pade solve goes the same way."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
import opgraph.tensor.linalg as la

NUMBA = opgraph.Mode("NUMBA", tiered=False)


@pytest.fixture(scope="module")
def solvers():
    """One compiled function: float64 / float32 / complex128 / int systems, vector and
    matrix right-hand sides, a symmetric and a positive definite assume_a, a batch."""
    A, b, B = pt.matrix("A"), pt.vector("b"), pt.matrix("B")
    A32, b32 = pt.matrix("A32", dtype="float32"), pt.vector("b32", dtype="float32")
    Ac, Bc = pt.matrix("Ac", dtype="complex128"), pt.matrix("Bc", dtype="complex128")
    Ai = pt.matrix("Ai", dtype="int64")
    T = pt.tensor3("T")
    inputs = [A, b, B, A32, b32, Ac, Bc, Ai, T]
    outs = [la.solve(A, b), la.solve(A, B), la.solve(A32, b32), la.solve(Ac, Bc), la.solve(Ai, b),
            la.solve(A, B, assume_a="sym", lower=True), la.solve(A, b, assume_a="pos"), la.solve(T, B)]
    return inputs, opgraph.function(inputs, outs, mode=NUMBA)


def _values(rng):
    spd = rng.normal(size=(4, 4))
    spd = spd @ spd.T + 4.0 * np.eye(4)
    ac = rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3)) + 3.0 * np.eye(3)
    return [spd, rng.normal(size=4), rng.normal(size=(4, 2)), spd.astype(np.float32),
            rng.normal(size=4).astype(np.float32), ac, rng.normal(size=(3, 2)) + 1j * rng.normal(size=(3, 2)),
            np.array([[4, 1, 0, 0], [1, 5, 2, 0], [0, 2, 6, 1], [0, 0, 1, 7]]), spd + rng.normal(size=(2, 4, 4)) * 0.1]


def test_values_equal_numpy_and_inputs_are_left_alone(solvers):
    _, f = solvers
    vals = _values(np.random.default_rng(0))
    before = [v.copy() for v in vals]
    spd, b, B, A32, b32, ac, bc, ai, T = vals
    want = [np.linalg.solve(spd, b), np.linalg.solve(spd, B), np.linalg.solve(A32, b32), np.linalg.solve(ac, bc),
            np.linalg.solve(ai.astype(float), b), np.linalg.solve(np.tril(spd) + np.tril(spd, -1).T, B),
            np.linalg.solve(spd, b), np.linalg.solve(T, B)]
    got = f(*vals)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-5 if g.dtype == np.float32 else 1e-12)
    for v, b0 in zip(vals, before):
        np.testing.assert_array_equal(v, b0)
    llvm = "".join(f.maker.thunk.dispatcher.inspect_llvm().values())
    assert "raise_with_shape_context" not in llvm


def test_singular_and_non_finite_systems_raise_numpys_errors(solvers):
    _, f = solvers
    vals = _values(np.random.default_rng(1))
    singular = list(vals)
    singular[0] = np.ones((4, 4))
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        f(*singular)
    for pos in (0, 1):
        bad = list(vals)
        bad[pos] = bad[pos].copy()
        bad[pos][1] = np.nan
        with pytest.raises(np.linalg.LinAlgError, match="infs or NaNs"):
            f(*bad)


def test_expm_solves_through_gesv_too():
    A = pt.matrix("A")
    f = opgraph.function([A], la.expm(A), mode=NUMBA)
    a = np.array([[0.1, 2.0, 0.0], [-1.0, 0.3, 0.5], [0.0, 0.2, -0.4]])
    w, v = np.linalg.eig(a)
    np.testing.assert_allclose(f(a), (v @ np.diag(np.exp(w)) @ np.linalg.inv(v)).real, rtol=1e-12, atol=1e-12)
    assert "raise_with_shape_context" not in "".join(f.maker.thunk.dispatcher.inspect_llvm().values())


def test_empty_system():
    A, B = pt.matrix("A"), pt.matrix("B")
    f = opgraph.function([A, B], la.solve(A, B), mode=NUMBA)
    out = f(np.empty((0, 0)), np.empty((0, 3)))
    assert out.shape == (0, 3)

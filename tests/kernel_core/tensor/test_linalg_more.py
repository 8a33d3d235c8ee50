"""The linear algebra PyTensor users reach for beyond the basics: lu / lu_factor / lu_solve,
cho_solve, expm, pinv, matrix_power, tensorinv, tensorsolve, solve's ``transposed`` and
structured ``assume_a``, batched matrix norms.  Values against NumPy / SciPy (Python
mode here; the Numba kernels are checked in tests/kernel_core/backends/numba/
test_dual_mode_ops.py), gradients against finite differences, shapes, errors."""

import numpy as np
import pytest
import scipy.linalg as sl

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.gradient import verify_grad
from opgraph.kernel_core.tensor import linalg as la
from opgraph.kernel_core.tensor.shape import shape_i

RNG = np.random.default_rng(7)
A_VAL = RNG.normal(size=(4, 4))
B_VAL = RNG.normal(size=(4, 2))
b_VAL = RNG.normal(size=4)
SPD = A_VAL @ A_VAL.T + 4 * np.eye(4)


def _py(inputs, outputs):
    return opgraph.function(inputs, outputs, mode="PYTHON")


def test_values_match_scipy():
    A, b, B = pt.matrix("A"), pt.vector("b"), pt.matrix("B")
    S = pt.matrix("S")
    outs = [*la.lu(A), *la.lu(A, permute_l=True), *la.lu(A, p_indices=True), *la.lu_factor(A),
            la.lu_solve(la.lu_factor(A), b), la.lu_solve(la.lu_factor(A), B, trans=1),
            la.cho_solve((la.cholesky(S), True), b), la.cho_solve((la.cholesky(S, lower=False), False), B),
            la.expm(A), la.expm(10 * A), la.pinv(A[:, :3]), la.pinv(S, hermitian=True),
            la.matrix_power(A, 5), la.matrix_power(A, -2), la.matrix_power(A, 0),
            la.solve(A, b, transposed=True), la.solve(A, B, assume_a="diagonal"),
            la.solve(A, B, assume_a="tridiagonal"), la.solve(A, b, assume_a="lower triangular"),
            la.solve(S, b, assume_a="positive definite"),
            la.tensorinv(A.reshape((2, 2, 4)), 2), la.tensorsolve(A.reshape((2, 2, 2, 2)), B.reshape((2, 4))[0].reshape((2, 2)))]
    got = _py([A, b, B, S], outs)(A_VAL, b_VAL, B_VAL, SPD)
    lu_f = sl.lu_factor(A_VAL)
    want = [*sl.lu(A_VAL), *sl.lu(A_VAL, permute_l=True), *sl.lu(A_VAL, p_indices=True), *lu_f,
            sl.lu_solve(lu_f, b_VAL), sl.lu_solve(lu_f, B_VAL, trans=1),
            sl.cho_solve((np.linalg.cholesky(SPD), True), b_VAL),
            sl.cho_solve((np.linalg.cholesky(SPD).T, False), B_VAL),
            sl.expm(A_VAL), sl.expm(10 * A_VAL), np.linalg.pinv(A_VAL[:, :3]), np.linalg.pinv(SPD, hermitian=True),
            np.linalg.matrix_power(A_VAL, 5), np.linalg.matrix_power(A_VAL, -2), np.eye(4),
            sl.solve(A_VAL, b_VAL, transposed=True), sl.solve(A_VAL, B_VAL, assume_a="diagonal"),
            sl.solve(A_VAL, B_VAL, assume_a="tridiagonal"), sl.solve(A_VAL, b_VAL, assume_a="lower triangular"),
            sl.solve(SPD, b_VAL, assume_a="pos"),
            np.linalg.tensorinv(A_VAL.reshape(2, 2, 4), 2),
            np.linalg.tensorsolve(A_VAL.reshape(2, 2, 2, 2), B_VAL.reshape(2, 4)[0].reshape(2, 2))]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-11)
    # lu_factor's pivots are int32, as scipy's.
    assert outs[9].type.dtype == "int32"


def test_rectangular_and_batched_lu():
    A = pt.matrix("A")
    T = pt.tensor3("T")
    wide, tall = RNG.normal(size=(3, 5)), RNG.normal(size=(5, 3))
    batch = RNG.normal(size=(2, 3, 3))
    outs = [*la.lu(A), *la.lu(T), *la.lu_factor(T), la.lu_solve(la.lu_factor(T), T[:, :, 0], b_ndim=1),
            la.lu_solve(la.lu_factor(T), T[0])]
    f = _py([A, T], outs)
    for mat in (wide, tall):
        got = f(mat, batch)
        for g, w in zip(got[:3], sl.lu(mat)):
            np.testing.assert_allclose(g, w, atol=1e-12)
    got = f(wide, batch)
    for k in range(2):
        for g, w in zip(got[3:6], sl.lu(batch[k])):
            np.testing.assert_allclose(g[k], w, atol=1e-12)
        np.testing.assert_allclose(got[6][k], sl.lu_factor(batch[k])[0], atol=1e-12)
        np.testing.assert_array_equal(got[7][k], sl.lu_factor(batch[k])[1])
        np.testing.assert_allclose(got[8][k], np.linalg.solve(batch[k], batch[k][:, 0]), atol=1e-10)
        np.testing.assert_allclose(got[9][k], np.linalg.solve(batch[k], batch[0]), atol=1e-10)


def test_static_and_inferred_shapes():
    A = pt.matrix("A", shape=(3, 5))
    P, L, U = la.lu(A)
    assert P.type.shape == (3, 3) and L.type.shape == (3, 3) and U.type.shape == (3, 5)
    assert la.pinv(A).type.shape == (5, 3)
    X = pt.matrix("X")
    for out in (*la.lu(X), *la.lu_factor(X), la.pinv(X), la.expm(X[:2, :2])):
        node = out.owner
        ishapes = [tuple(shape_i(i, d) for d in range(i.type.ndim)) for i in node.inputs]
        oshape = node.op.infer_shape(None, node, ishapes)[out.index]
        val = RNG.normal(size=(4, 6))
        got = tuple(int(s) if isinstance(s, (int, np.integer)) else int(s.eval({X: val})) for s in oshape)
        assert got == out.eval({X: val}).shape


@pytest.mark.parametrize("fun", [
    lambda a: la.lu(a)[1].sum() * 2 + (la.lu(a)[2] ** 2).sum(),
    lambda a: (la.lu(a, permute_l=True)[0] * 3).sum() + la.lu(a, permute_l=True)[1].sum(),
    lambda a: (la.lu(a, p_indices=True)[1] ** 2).sum() + la.lu(a, p_indices=True)[2].sum(),
    lambda a: (la.lu_factor(a)[0] ** 2).sum(),
    lambda a: la.lu_solve(la.lu_factor(a), pt.constant(b_VAL)),
    lambda a: la.lu_solve(la.lu_factor(a), pt.constant(B_VAL), trans=1),
    la.expm,
    lambda a: la.pinv(a[:, :3]),
    lambda a: la.matrix_power(a, 3),
    lambda a: la.matrix_power(a, -1),
    lambda a: la.solve(a, pt.constant(b_VAL), transposed=True),
    lambda a: la.solve(a, pt.constant(B_VAL), assume_a="tridiagonal"),
    lambda a: la.solve(a, pt.constant(b_VAL), assume_a="diagonal"),
    lambda a: la.tensorinv(a.reshape((2, 2, 4)), 2),
], ids=["lu", "lu_permute_l", "lu_p_indices", "lu_factor", "lu_solve", "lu_solve_trans", "expm", "pinv",
        "matrix_power", "matrix_power_neg", "solve_transposed", "solve_tridiagonal", "solve_diagonal", "tensorinv"])
def test_gradients(fun):
    # A well-conditioned matrix with a clear pivot order, so finite differences never flip pivots.
    a = A_VAL + np.diag([6.0, -5.0, 4.0, 7.0])
    verify_grad(fun, [a], rng=np.random.default_rng(3))


def test_cho_solve_gradient():
    verify_grad(lambda c, b: la.cho_solve((la.cholesky(c), True), b), [SPD, b_VAL],
                rng=np.random.default_rng(4))
    verify_grad(lambda c, b: la.cho_solve((la.cholesky(c, lower=False), False), b), [SPD, B_VAL],
                rng=np.random.default_rng(5))


def test_batched_matrix_norm_with_ord():
    T = pt.tensor3("T")
    val = RNG.normal(size=(3, 4, 5))
    outs = [la.norm(T, ord=o) for o in ("fro", "nuc", 1, -1, 2, np.inf)] + [la.norm(T)]
    got = _py([T], outs)(val)
    for g, o in zip(got, ("fro", "nuc", 1, -1, 2, np.inf)):
        np.testing.assert_allclose(g, np.linalg.norm(val, ord=o, axis=(-2, -1)), rtol=1e-10)
    np.testing.assert_allclose(got[-1], np.linalg.norm(val.ravel()))


def test_errors_are_clear():
    A = pt.matrix("A")
    with pytest.raises(ValueError, match="assume_a must be one of .*'tridiagonal'"):
        la.solve(A, pt.vector("b"), assume_a="banana")
    with pytest.raises(TypeError, match="exponent must be a Python int"):
        la.matrix_power(A, 1.5)
    with pytest.raises(ValueError, match="permute_l=True and p_indices=True"):
        la.lu(A, permute_l=True, p_indices=True)
    W = pt.matrix("W", shape=(2, 3))
    with pytest.raises(NotImplementedError, match="square"):
        opgraph.grad(la.lu(W)[2].sum(), W)
    with pytest.raises(ValueError, match="ind must be"):
        la.tensorinv(A, 2)


def test_public_names():
    for name in ("lu", "lu_factor", "lu_solve", "cho_solve", "expm", "pinv", "matrix_power", "tensorinv",
                 "tensorsolve"):
        assert hasattr(pt.linalg, name), name

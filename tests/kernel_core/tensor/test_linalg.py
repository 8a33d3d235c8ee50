"""pt.linalg against NumPy / SciPy: values (batched too), printing, static shapes,
infer_shape, pullbacks and error messages."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings, strategies as st

import opgraph.tensor as pt
from opgraph.gradient import grad
from opgraph.kernel_core.gradient import verify_grad
from opgraph.kernel_core.tensor import linalg as la
from opgraph.kernel_core.tensor.blockwise import Blockwise
from opgraph.kernel_core.tensor.shape import shape_i

FAST = settings(max_examples=20, deadline=None)


def _var(data, name="x"):
    return pt.tensor(name, shape=(None,) * data.ndim, dtype=data.dtype.name)


def _eval_infer_shape(out, givens):
    node = out.owner
    ishapes = [tuple(shape_i(i, d) for d in range(i.type.ndim)) for i in node.inputs]
    oshape = node.op.infer_shape(None, node, ishapes)[out.index]
    got = tuple(int(s) if isinstance(s, (int, np.integer)) else int(s.eval(givens)) for s in oshape)
    assert got == out.eval(givens).shape


def _spd(rng, batch, n):
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


batches = st.sampled_from([(), (2,), (2, 3), (0,)])
sizes = st.integers(1, 4)


# -- printing and props ------------------------------------------------------------
def test_names_and_blockwise_for_batched_inputs():
    A, B = pt.matrix("A"), pt.tensor3("B")
    assert str(la.det(A).owner.op) == "Det"
    assert str(la.det(B).owner.op) == "Blockwise{Det, (m,m)->()}"
    assert str(la.inv(A).owner.op) == "MatrixInverse"
    assert str(la.cholesky(A).owner.op) == "Cholesky{lower=True}"
    assert str(la.cholesky(A, lower=False).owner.op) == "Cholesky{lower=False}"
    assert str(la.solve_triangular(A, pt.vector("b"), lower=True).owner.op) == "SolveTriangular{lower=True}"
    assert str(la.solve(B, pt.matrix("b")).owner.op) == "Blockwise{Solve{assume_a='gen', b_ndim=2}, (m,m),(m,n)->(m,n)}"
    assert la.Cholesky(lower=True) == la.Cholesky() and la.Cholesky(lower=False) != la.Cholesky()
    assert la.det(B).dprint(file="str") == "Blockwise{Det, (m,m)->()} [id A]\n └─ B [id B]\n"
    assert pt.diag is la.diag and pt.trace is la.trace and pt.linalg.kron is la.kron
    assert "det" in la.__all__ and "norm" in la.__all__


def test_square_errors_name_the_variable():
    X = pt.tensor("X", shape=(2, 3))
    for fn in (la.det, la.inv, la.cholesky, la.slogdet, la.eigh):
        with pytest.raises(ValueError, match=r"X must be square, got shape \(2, 3\)"):
            fn(X)
    with pytest.raises(ValueError, match="must be a matrix"):
        la.det(pt.vector("v"))
    with pytest.raises(ValueError, match="do not match"):
        la.solve(pt.tensor("A", shape=(3, 3)), pt.tensor("b", shape=(4,)))
    with pytest.raises(ValueError, match="assume_a"):
        la.solve(pt.matrix("A"), pt.vector("b"), assume_a="banana")


def test_cholesky_of_non_pd_matrix_errors_clearly():
    A = pt.matrix("A")
    with pytest.raises(Exception, match="not positive definite"):
        la.cholesky(A).eval({A: -np.eye(2)})
    assert np.isnan(la.cholesky(A, on_error="nan").eval({A: -np.eye(2)})).all()


# -- values ---------------------------------------------------------------------------
@FAST
@given(batch=batches, n=sizes, dtype=st.sampled_from(["float64", "float32", "int32"]))
def test_det_slogdet_inv(batch, n, dtype):
    rng = np.random.default_rng(0)
    # Strictly diagonally dominant, so invertible in every dtype.
    a = rng.integers(-3, 4, size=batch + (n, n)).astype(dtype) + ((3 * n + 1) * np.eye(n)).astype(dtype)
    x = _var(a)
    tol = 1e-4 if dtype == "float32" else 1e-7
    np.testing.assert_allclose(la.det(x).eval({x: a}), np.linalg.det(a), rtol=tol * 10)
    sign, logdet = la.slogdet(x)
    es, el = np.linalg.slogdet(a)
    np.testing.assert_allclose(sign.eval({x: a}), es)
    np.testing.assert_allclose(logdet.eval({x: a}), el, rtol=tol * 10, atol=tol)
    inv = la.inv(x)
    np.testing.assert_allclose(inv.eval({x: a}), np.linalg.inv(a), rtol=tol * 100, atol=tol)
    _eval_infer_shape(inv, {x: a})
    assert inv.type.dtype == ("float32" if dtype == "float32" else "float64")


@FAST
@given(batch=batches, n=sizes, k=st.integers(0, 3), vector_b=st.booleans(),
       assume_a=st.sampled_from(["gen", "sym", "pos"]))
def test_solve(batch, n, k, vector_b, assume_a):
    rng = np.random.default_rng(1)
    A = _spd(rng, batch, n)
    b = rng.standard_normal(batch + ((n,) if vector_b else (n, k)))
    vA, vb = _var(A, "A"), _var(b, "b")
    out = la.solve(vA, vb, assume_a=assume_a, b_ndim=1 if vector_b else 2)
    if vector_b:
        expected = np.linalg.solve(A, b[..., None])[..., 0]
    else:
        expected = np.linalg.solve(A, b)
    np.testing.assert_allclose(out.eval({vA: A, vb: b}), expected, rtol=1e-6, atol=1e-8)
    _eval_infer_shape(out, {vA: A, vb: b})


@FAST
@given(n=sizes, lower=st.booleans(), trans=st.sampled_from([0, 1, "T"]), unit=st.booleans(),
       vector_b=st.booleans())
def test_solve_triangular(n, lower, trans, unit, vector_b):
    rng = np.random.default_rng(2)
    A = rng.standard_normal((n, n)) + 3 * np.eye(n)
    b = rng.standard_normal((n,) if vector_b else (n, 2))
    vA, vb = _var(A, "A"), _var(b, "b")
    out = la.solve_triangular(vA, vb, trans=trans, lower=lower, unit_diagonal=unit)
    expected = scipy.linalg.solve_triangular(A, b, trans=trans, lower=lower, unit_diagonal=unit)
    np.testing.assert_allclose(out.eval({vA: A, vb: b}), expected, rtol=1e-7)


@FAST
@given(batch=batches, n=sizes, lower=st.booleans())
def test_cholesky_eigh(batch, n, lower):
    rng = np.random.default_rng(3)
    A = _spd(rng, batch, n)
    x = _var(A)
    L = np.linalg.cholesky(A)
    expected = L if lower else np.swapaxes(L, -1, -2)
    c = la.cholesky(x, lower=lower)
    np.testing.assert_allclose(c.eval({x: A}), expected)
    _eval_infer_shape(c, {x: A})
    w, v = la.eigh(x)
    ew, _ = np.linalg.eigh(A)
    np.testing.assert_allclose(w.eval({x: A}), ew)
    vv = v.eval({x: A})
    np.testing.assert_allclose(vv @ (ew[..., None] * np.swapaxes(vv, -1, -2)), A, atol=1e-8)


@FAST
@given(batch=batches, m=sizes, n=sizes, full=st.booleans())
def test_svd_qr(batch, m, n, full):
    rng = np.random.default_rng(4)
    a = rng.standard_normal(batch + (m, n))
    x = _var(a)
    s = la.svd(x, compute_uv=False)
    np.testing.assert_allclose(s.eval({x: a}), np.linalg.svd(a, compute_uv=False))
    U, s2, Vh = la.svd(x, full_matrices=full)
    eu, es, evh = np.linalg.svd(a, full_matrices=full)
    assert U.eval({x: a}).shape == eu.shape and Vh.eval({x: a}).shape == evh.shape
    np.testing.assert_allclose(s2.eval({x: a}), es)
    for mode in ("reduced", "complete"):
        Q, R = la.qr(x, mode=mode)
        eq, er = np.linalg.qr(a, mode=mode)
        np.testing.assert_allclose(Q.eval({x: a}) @ R.eval({x: a}), a, atol=1e-10)
        assert Q.eval({x: a}).shape == eq.shape and R.eval({x: a}).shape == er.shape
    if not batch:
        _eval_infer_shape(s, {x: a})
        _eval_infer_shape(la.qr(x)[0], {x: a})


@FAST
@given(sa=st.sampled_from([(2,), (2, 3), (1, 2), (0, 2)]), sb=st.sampled_from([(3,), (2, 2), (3, 1)]))
def test_kron(sa, sb):
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    va, vb = _var(a, "a"), _var(b, "b")
    out = la.kron(va, vb)
    np.testing.assert_allclose(out.eval({va: a, vb: b}), np.kron(a, b))
    sa_static = pt.tensor("p", shape=(2, 3))
    assert la.kron(sa_static, pt.tensor("q", shape=(4, 5))).type.shape == (8, 15)


@FAST
@given(n=st.integers(0, 4), m=st.integers(0, 4), k=st.integers(-3, 3))
def test_diag_and_trace(n, m, k):
    rng = np.random.default_rng(6)
    v = rng.standard_normal(n)
    M = rng.standard_normal((n, m))
    vv, vm = _var(v, "v"), _var(M, "M")
    d = pt.diag(vv, k)
    np.testing.assert_allclose(d.eval({vv: v}), np.diag(v, k))
    _eval_infer_shape(d, {vv: v})
    e = pt.diag(vm, k)
    np.testing.assert_allclose(e.eval({vm: M}), np.diag(M, k))
    _eval_infer_shape(e, {vm: M})
    np.testing.assert_allclose(pt.trace(vm, k).eval({vm: M}), np.trace(M, k))
    T = rng.standard_normal((2, 3, 4))
    vt = _var(T, "T")
    np.testing.assert_allclose(la.diagonal(vt, 1, 1, 2).eval({vt: T}), np.diagonal(T, 1, 1, 2))
    np.testing.assert_allclose(pt.trace(vt, 0, 0, 2).eval({vt: T}), np.trace(T, 0, 0, 2))


@pytest.mark.parametrize("ord", [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf])
def test_matrix_norms(ord):
    rng = np.random.default_rng(7)
    a = rng.standard_normal((3, 4))
    x = _var(a)
    np.testing.assert_allclose(la.norm(x, ord).eval({x: a}), np.linalg.norm(a, ord))
    b = rng.standard_normal((2, 3, 4))
    y = _var(b)
    np.testing.assert_allclose(la.norm(y, ord, axis=(2, 1)).eval({y: b}), np.linalg.norm(b, ord, axis=(2, 1)))


@pytest.mark.parametrize("ord", [None, 0, 1, 2, 3, 0.5, np.inf, -np.inf])
def test_vector_norms(ord):
    rng = np.random.default_rng(8)
    a = rng.standard_normal((3, 4))
    x = _var(a)
    np.testing.assert_allclose(la.norm(x, ord, axis=1).eval({x: a}), np.linalg.norm(a, ord, axis=1))
    np.testing.assert_allclose(la.norm(x, ord, axis=0, keepdims=True).eval({x: a}),
                               np.linalg.norm(a, ord, axis=0, keepdims=True))
    v = rng.standard_normal(5)
    y = _var(v)
    np.testing.assert_allclose(la.norm(y, ord).eval({y: v}), np.linalg.norm(v, ord))


def test_norm_errors():
    with pytest.raises(ValueError, match="invalid matrix norm"):
        la.norm(pt.matrix("m"), ord=3)
    with pytest.raises(ValueError, match="out of bounds"):
        la.norm(pt.matrix("m"), axis=3)


# -- gradients ------------------------------------------------------------------------
def _rng():
    return np.random.default_rng(9)


def test_det_slogdet_inv_gradients():
    rng = _rng()
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    verify_grad(la.det, [a], rng=rng)
    verify_grad(lambda x: la.slogdet(x)[1], [a], rng=rng)
    verify_grad(la.inv, [a], rng=rng)
    batched = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    verify_grad(la.det, [batched], rng=rng)
    verify_grad(la.inv, [batched], rng=rng)


@pytest.mark.parametrize("assume_a", ["gen", "sym", "pos"])
@pytest.mark.parametrize("b_shape", [(3,), (3, 2), (2, 3, 2)])
def test_solve_gradients(assume_a, b_shape):
    rng = _rng()
    A = _spd(rng, (), 3)
    verify_grad(lambda a, b: la.solve(a, b, assume_a=assume_a, b_ndim=1 if len(b_shape) == 1 else 2),
                [A, rng.standard_normal(b_shape)], rng=rng)


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("trans", [0, 1])
@pytest.mark.parametrize("unit", [False, True])
def test_solve_triangular_gradients(lower, trans, unit):
    rng = _rng()
    A = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    verify_grad(lambda a, b: la.solve_triangular(a, b, lower=lower, trans=trans, unit_diagonal=unit),
                [A, rng.standard_normal((3, 2))], rng=rng)
    verify_grad(lambda a, b: la.solve_triangular(a, b, lower=lower, trans=trans, unit_diagonal=unit),
                [A, rng.standard_normal(3)], rng=rng)


@pytest.mark.parametrize("lower", [True, False])
def test_cholesky_gradient(lower):
    rng = _rng()
    verify_grad(lambda a: la.cholesky(a, lower=lower), [_spd(rng, (), 3)], rng=rng)
    verify_grad(lambda a: la.cholesky(a, lower=lower), [_spd(rng, (2,), 3)], rng=rng)


def test_eigh_gradients():
    rng = _rng()
    A = _spd(rng, (), 3)
    verify_grad(lambda a: la.eigh(a)[0], [A], rng=rng)
    # Eigenvectors are defined up to sign: differentiate a sign-invariant function of them.
    verify_grad(lambda a: la.eigh(a)[1] ** 2, [A], rng=rng)
    verify_grad(lambda a: la.eigh(a)[0], [_spd(rng, (2,), 3)], rng=rng)


def test_svd_qr_gradients():
    rng = _rng()
    a = rng.standard_normal((4, 3))
    verify_grad(lambda x: la.svd(x, compute_uv=False), [a], rng=rng)
    verify_grad(lambda x: la.svd(x, full_matrices=True)[1], [a], rng=rng)
    verify_grad(lambda x: la.svd(x, compute_uv=False), [rng.standard_normal((2, 3, 4))], rng=rng)
    verify_grad(lambda x: la.qr(x)[1], [a], rng=rng)
    verify_grad(lambda x: la.qr(x)[0], [a], rng=rng)
    x = pt.matrix("x", shape=(4, 3))
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        grad((la.svd(x)[0] ** 2).sum(), x)   # U's fourth column is arbitrary


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 3, 4)])
def test_svd_singular_vector_gradients(shape):
    rng = _rng()
    a = rng.standard_normal(shape)
    # Singular vectors are defined up to sign: differentiate sign-invariant functions of them.
    verify_grad(lambda x: la.svd(x, full_matrices=False)[0] ** 2, [a], rng=rng)
    verify_grad(lambda x: la.svd(x, full_matrices=False)[2] ** 2, [a], rng=rng)

    def reweighted(x):
        U, s, Vh = la.svd(x, full_matrices=False)
        return pt.matmul(U * pt.expand_dims(s ** 2, -2), Vh)

    verify_grad(reweighted, [a], rng=rng)
    if shape[-1] == shape[-2]:
        verify_grad(lambda x: la.svd(x, full_matrices=True)[2] ** 2, [a], rng=rng)


def test_kron_diag_trace_norm_gradients():
    rng = _rng()
    verify_grad(la.kron, [rng.standard_normal((2, 3)), rng.standard_normal((3, 2))], rng=rng)
    verify_grad(la.kron, [rng.standard_normal(2), rng.standard_normal(3)], rng=rng)
    verify_grad(lambda v: pt.diag(v, 1), [rng.standard_normal(3)], rng=rng)
    verify_grad(lambda m: pt.diag(m, -1), [rng.standard_normal((3, 4))], rng=rng)
    verify_grad(lambda m: pt.trace(m), [rng.standard_normal((3, 3))], rng=rng)
    verify_grad(lambda m: la.norm(m), [rng.standard_normal((3, 4))], rng=rng)
    verify_grad(lambda m: la.norm(m, 2, axis=1), [rng.standard_normal((3, 4))], rng=rng)
    verify_grad(lambda m: la.norm(m, "fro"), [rng.standard_normal((3, 4))], rng=rng)

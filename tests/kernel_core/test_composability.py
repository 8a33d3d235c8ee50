"""Graph transformations chain: every one takes graphs and returns graphs (checked against NumPy)."""

import numpy as np
import pytest

import opgraph.tensor as pt
from opgraph.kernel_core.rewriting import api as rewriting
from opgraph.gradient import Lop, Rop, grad, hessian, jacobian
from opgraph.graph.replace import graph_replace, vectorize_graph

RNG = np.random.default_rng(11)


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def test_gradient_of_a_vectorized_graph():
    x = pt.dscalar("x")
    w = pt.dvector("w")
    y = pt.log(1 + pt.exp(x * w)).sum()  # core: scalar x
    xb = pt.dvector("xb")
    y_vec = vectorize_graph(y, {x: xb})  # one value per batch entry
    g = grad(y_vec.sum(), [xb, w])
    xv, wv = np.array([0.3, -1.2]), np.array([0.5, 2.0, -1.0])
    s = _sigmoid(xv[:, None] * wv[None, :])
    np.testing.assert_allclose(g[0].eval({xb: xv, w: wv}), (s * wv).sum(axis=1))
    np.testing.assert_allclose(g[1].eval({xb: xv, w: wv}), (s * xv[:, None]).sum(axis=0))


def test_vectorization_of_a_gradient():
    x = pt.dscalar("x")
    a = pt.dscalar("a")
    gx = grad(pt.sin(a * x) * x ** 2, x)
    xb, ab = pt.dvector("xb"), pt.dmatrix("ab")
    g_vec = vectorize_graph(gx, {x: xb, a: ab})
    xv, av = np.array([0.1, 0.7, 1.5]), RNG.normal(size=(2, 3))
    expected = av * np.cos(av * xv) * xv ** 2 + 2 * xv * np.sin(av * xv)
    np.testing.assert_allclose(g_vec.eval({xb: xv, ab: av}), expected)


def test_replace_then_rewrite_then_grad():
    x = pt.tensor("x", shape=(3,))
    y = pt.log(1 + x)
    new_y = graph_replace(y, replace={x: pt.exp(x)})
    stable = rewriting.rewrite_graph(new_y, include=("stabilize",))
    g = grad(stable.sum(), x)
    xv = np.array([-30.0, 0.0, 40.0])
    np.testing.assert_allclose(stable.eval({x: xv}), np.logaddexp(0, xv))
    np.testing.assert_allclose(g.eval({x: xv}), _sigmoid(xv))
    # Rewriting the gradient keeps its value.
    g2 = rewriting.rewrite_graph(g, include=("canonicalize", "specialize"))
    np.testing.assert_allclose(g2.eval({x: xv}), _sigmoid(xv))


def test_rewrite_of_seed_gradient_keeps_value():
    x = pt.tensor("x", shape=(None,))
    g = grad(rewriting.rewrite_graph(pt.log(1 + x), include=("stabilize",)).sum(), x)
    r = rewriting.rewrite_graph(g, include=("canonicalize", "specialize"))
    xv = np.array([0.5, 2.0])
    np.testing.assert_allclose(r.eval({x: xv}), 1 / (1 + xv))


@pytest.mark.parametrize("vectorize", [True, False])
def test_jacobian_of_a_vectorized_graph(vectorize):
    A = pt.dmatrix("A")
    v = pt.dvector("v")
    out = pt.tanh(pt.dot(A, v))  # core: (m,)
    vb = pt.tensor("vb", shape=(2, 3))
    out_b = vectorize_graph(out, {v: vb})  # (2, m)
    J = jacobian(out_b.flatten(), vb, vectorize=vectorize)
    Av, vv = RNG.normal(size=(4, 3)), RNG.normal(size=(2, 3))
    got = J.eval({A: Av, vb: vv})
    assert got.shape == (8, 2, 3)
    expected = np.zeros((2, 4, 2, 3))
    for b in range(2):
        d = 1 - np.tanh(Av @ vv[b]) ** 2
        expected[b, :, b, :] = d[:, None] * Av
    np.testing.assert_allclose(got, expected.reshape(8, 2, 3))


def test_hessian_of_vectorized_then_replaced_graph():
    x = pt.dscalar("x")
    y = pt.exp(x) * x
    xb = pt.tensor("xb", shape=(3,))
    total = vectorize_graph(y, {x: xb}).sum()
    u = pt.tensor("u", shape=(3,))
    total_u = graph_replace(total, {xb: 2 * u})
    H = hessian(total_u, u)
    uv = np.array([0.1, -0.3, 0.8])
    # d2/du2 of exp(2u)*2u = 4 * (2 exp(2u) + 2u exp(2u))
    np.testing.assert_allclose(H.eval({u: uv}), np.diag(4 * np.exp(2 * uv) * (2 + 2 * uv)))


def test_lop_and_rop_of_a_blockwise_graph():
    a, b = pt.dtensor3("a"), pt.dmatrix("b")
    out = a @ b
    u, v = pt.dtensor3("u"), pt.dtensor3("v")
    av, bv = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(4, 2))
    uv, vv = RNG.normal(size=(2, 3, 2)), RNG.normal(size=(2, 3, 4))
    la, lb = Lop(out, [a, b], u)
    np.testing.assert_allclose(la.eval({a: av, b: bv, u: uv}), uv @ bv.T)
    np.testing.assert_allclose(lb.eval({a: av, b: bv, u: uv}), np.einsum("bij,bik->jk", av, uv))
    r = Rop(out, a, v)
    np.testing.assert_allclose(r.eval({b: bv, v: vv}), vv @ bv)


def test_vectorize_a_jacobian():
    x = pt.tensor("x", shape=(2,))
    J = jacobian(pt.sin(x) * x[::-1], x)
    xb = pt.dmatrix("xb")
    Jb = vectorize_graph(J, {x: xb})
    xv = RNG.normal(size=(3, 2))
    got = Jb.eval({xb: xv})
    for i in range(3):
        x0, x1 = xv[i]
        expected = np.array([[np.cos(x0) * x1, np.sin(x0)], [np.sin(x1), np.cos(x1) * x0]])
        np.testing.assert_allclose(got[i], expected)

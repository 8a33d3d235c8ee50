"""pt.special: Softmax / LogSoftmax ops (and the log(softmax) stabilization), the
elementwise special functions (polygamma, xlogx, xlogy0, log_ndtr, ...) against SciPy,
their gradients, and one NUMBA function checking every kernel against the Python mode."""

import numpy as np
import pytest
from scipy import special as sp

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad, verify_grad
from opgraph.graph import rewrite_graph
from opgraph.kernel_core.tensor.special import LogSoftmax, Softmax

X = np.array([[1.0, 800.0, -3.0], [0.5, 0.2, 0.1]])   # 800: a naive exp overflows


def _ops(var):
    from opgraph.kernel_core.graph.traversal import io_toposort, graph_inputs

    return [type(n.op) for n in io_toposort(list(graph_inputs([var])), [var])]


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_softmax_and_log_softmax_are_stable_and_match_scipy(axis):
    x = pt.dmatrix("x")
    np.testing.assert_allclose(pt.special.softmax(x, axis=axis).eval({x: X}), sp.softmax(X, axis=axis))
    np.testing.assert_allclose(pt.special.log_softmax(x, axis=axis).eval({x: X}), sp.log_softmax(X, axis=axis))


def test_softmax_is_one_op_with_a_clear_axis_error():
    x = pt.dmatrix("x")
    assert isinstance(pt.special.softmax(x, axis=-1).owner.op, Softmax)
    assert pt.special.softmax(x, axis=-1).owner.op.axis == 1
    assert str(pt.special.log_softmax(x, axis=0).owner.op) == "LogSoftmax{axis=0}"
    with pytest.raises(ValueError, match="softmax: axis 2 is out of bounds"):
        pt.special.softmax(x, axis=2)
    with pytest.raises(TypeError, match="axis must be an int"):
        pt.special.log_softmax(x, axis="rows")
    iv = pt.lvector("iv")
    assert pt.special.softmax(iv).dtype == "float64"


def test_log_of_softmax_is_rewritten_to_log_softmax():
    x = pt.dmatrix("x")
    naive = pt.log(pt.special.softmax(x, axis=1))
    stable = rewrite_graph(naive, include=("stabilize",))
    assert isinstance(stable.owner.op, LogSoftmax) and stable.owner.op.axis == 1
    big = np.array([[0.0, 1000.0]])
    assert np.isneginf(naive.eval({x: big})[0, 0])               # exp(-1000) underflowed
    np.testing.assert_allclose(stable.eval({x: big}), [[-1000.0, 0.0]])
    # compiled functions get it too (stabilize is part of FAST_RUN)
    assert LogSoftmax in _ops(rewrite_graph(naive, include=("fast_run",)))


def test_elementwise_special_functions_match_scipy():
    a, b, p = pt.dvector("a"), pt.dvector("b"), pt.dvector("p")
    av, bv, pv = np.array([0.5, 2.0, 10.0]), np.array([1.5, 3.0, 0.2]), np.array([0.1, 0.5, 0.9])
    vals = {a: av, b: bv, p: pv}
    np.testing.assert_allclose(pt.special.logit(p).eval(vals), sp.logit(pv))
    np.testing.assert_allclose(pt.special.betaln(a, b).eval(vals), sp.betaln(av, bv))
    np.testing.assert_allclose(pt.special.beta(a, b).eval(vals), sp.beta(av, bv))
    np.testing.assert_allclose(pt.special.poch(a, b).eval(vals), sp.poch(av, bv))
    np.testing.assert_allclose(pt.special.factorial(a).eval(vals), sp.factorial(av, exact=False))
    np.testing.assert_allclose(pt.special.expit(pt.special.logit(p)).eval(vals), pv)
    for n in (0, 1, 3):
        np.testing.assert_allclose(pt.special.polygamma(n, a).eval(vals), sp.polygamma(n, av))
    np.testing.assert_allclose(pt.special.digamma(a).eval(vals), sp.digamma(av))
    np.testing.assert_allclose(pt.special.gammaln(a).eval(vals), sp.gammaln(av))
    np.testing.assert_allclose(pt.special.erfcx(a).eval(vals), sp.erfcx(av))
    zx = np.array([0.0, 0.5, 3.0])
    np.testing.assert_allclose(pt.special.xlogx(a).eval({a: zx}), [0.0, 0.5 * np.log(0.5), 3 * np.log(3.0)])
    np.testing.assert_allclose(pt.special.xlogy0(a, b).eval({a: zx, b: np.array([0.0, 2.0, 4.0])}),
                               sp.xlogy(zx, [0.0, 2.0, 4.0]))
    tails = np.array([-60.0, -10.0, -1.0, 0.0, 3.0, 12.0])
    got = pt.special.log_ndtr(a).eval({a: tails})
    assert np.all(np.isfinite(got))                        # log(ndtr(-60)) is -inf
    np.testing.assert_allclose(got, sp.log_ndtr(tails), rtol=1e-13)


def test_polygamma_order_must_be_an_integer():
    with pytest.raises(TypeError, match="polygamma: the order n must be an integer"):
        pt.special.polygamma(pt.dscalar("n"), pt.dvector("x"))


def test_gradients():
    rng = np.random.default_rng(0)
    verify_grad(lambda x: pt.special.softmax(x, axis=1), [rng.normal(size=(2, 3))], rng=rng)
    verify_grad(lambda x: pt.special.softmax(x), [rng.normal(size=(2, 3))], rng=rng)
    verify_grad(lambda x: pt.special.log_softmax(x, axis=0), [rng.normal(size=(2, 3))], rng=rng)
    verify_grad(lambda a, b: pt.special.betaln(a, b), [np.array([0.5, 2.0]), np.array([1.5, 3.0])], rng=rng)
    pos = np.array([0.7, 1.9, 4.2])
    verify_grad(lambda x: pt.special.polygamma(1, x), [pos], rng=rng)
    verify_grad(lambda x: pt.special.tri_gamma(x), [pos], rng=rng)      # polygamma(2, x)
    verify_grad(pt.special.xlogx, [pos], rng=rng)
    verify_grad(pt.special.xlogy0, [pos, pos[::-1].copy()], rng=rng)
    verify_grad(pt.special.log_ndtr, [np.array([-8.0, -1.5, 0.3, 4.0])], rng=rng)
    # far in the left tail the gradient stays finite (about -x)
    x = pt.dvector("x")
    g = grad(pt.special.log_ndtr(x).sum(), x).eval({x: np.array([-40.0])})
    np.testing.assert_allclose(g, [40.025], rtol=1e-3)


def test_numba_matches():
    """One NUMBA function: every kernel of pt.special against SciPy."""
    x, p, a, b = pt.dmatrix("x"), pt.dvector("p"), pt.dvector("a"), pt.dvector("b")
    outs = [pt.special.softmax(x, axis=-1), pt.special.log_softmax(x, axis=None),
            pt.special.softmax(x, axis=0), pt.special.logit(p),
            pt.special.polygamma(0, a), pt.special.polygamma(1, a), pt.special.polygamma(4, a),
            pt.special.xlogx(b), pt.special.xlogy0(b, a), pt.special.log_ndtr(-a * 10)]
    f = opgraph.function([x, p, a, b], outs, mode="NUMBA")
    assert "objmode" not in f.maker.thunk.source   # every op has its Numba kernel
    av, bv = np.array([0.3, 1.5, 7.0, -2.5]), np.array([0.0, 0.5, 2.0, 1.0])
    got = f(X, np.array([0.25, 0.75, 0.5, 0.1]), av, bv)
    want = [sp.softmax(X, axis=-1), sp.log_softmax(X, axis=None), sp.softmax(X, axis=0),
            sp.logit([0.25, 0.75, 0.5, 0.1]), sp.polygamma(0, av), sp.polygamma(1, av), sp.polygamma(4, av),
            sp.xlogy(bv, bv), sp.xlogy(bv, av), sp.log_ndtr(-av * 10)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, equal_nan=True)

"""pt.special: softmax, log_softmax, logit, betaln, beta, poch, factorial (graphs of existing ops)."""

import numpy as np
import pytest
from scipy import special as sp

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import verify_grad

X = np.array([[1.0, 800.0, -3.0], [0.5, 0.2, 0.1]])   # 800: a naive exp overflows


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_softmax_and_log_softmax_are_stable_and_match_scipy(axis):
    x = pt.dmatrix("x")
    np.testing.assert_allclose(pt.special.softmax(x, axis=axis).eval({x: X}), sp.softmax(X, axis=axis))
    np.testing.assert_allclose(pt.special.log_softmax(x, axis=axis).eval({x: X}), sp.log_softmax(X, axis=axis))


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


def test_gradients():
    rng = np.random.default_rng(0)
    verify_grad(lambda x: pt.special.softmax(x, axis=1), [rng.normal(size=(2, 3))], rng=rng)
    verify_grad(lambda x: pt.special.log_softmax(x, axis=0), [rng.normal(size=(2, 3))], rng=rng)
    verify_grad(lambda a, b: pt.special.betaln(a, b), [np.array([0.5, 2.0]), np.array([1.5, 3.0])], rng=rng)


def test_numba_matches():
    x, p = pt.dmatrix("x"), pt.dvector("p")
    f = opgraph.function([x, p], [pt.special.softmax(x, axis=-1), pt.special.log_softmax(x, axis=None),
                                  pt.special.logit(p)], mode="NUMBA")
    s, ls, lg = f(X, np.array([0.25, 0.75]))
    np.testing.assert_allclose(s, sp.softmax(X, axis=-1))
    np.testing.assert_allclose(ls, sp.log_softmax(X, axis=None))
    np.testing.assert_allclose(lg, sp.logit([0.25, 0.75]))

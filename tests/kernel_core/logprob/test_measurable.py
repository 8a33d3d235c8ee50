"""Measurable transformations derived from the graph: exp (lognormal), a + b * x (location-scale),
log, abs, sigmoid / logit with their Jacobians, clip (censoring), each against its closed form."""

import warnings

import numpy as np
import pytest
import scipy.stats as st

import opgraph.tensor as pt
from opgraph.logprob import NotMeasurableError, logcdf, logp


def ev(graph, **vals):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return graph.eval({graph_input(graph, k): v for k, v in vals.items()})


def graph_input(graph, name):
    from opgraph.kernel_core.graph.traversal import graph_inputs

    return next(v for v in graph_inputs([graph]) if v.name == name)


X = np.array([1e-10, 0.3, 1.0, 4.0, 1e6])


def test_exp_of_normal_is_lognormal():
    y = pt.exp(pt.random.normal(0.5, 2.0))
    v = pt.vector("v")
    np.testing.assert_allclose(ev(logp(y, v), v=X), st.lognorm(s=2.0, scale=np.exp(0.5)).logpdf(X), rtol=1e-12)
    assert np.all(ev(logp(y, v), v=np.array([0.0, -1.0])) == -np.inf)


def test_location_scale_of_any_continuous_variable():
    v = pt.vector("v")
    vals = np.array([-30.0, -1.0, 0.0, 2.5, 100.0])
    g = pt.random.gumbel(0.0, 1.0)
    np.testing.assert_allclose(ev(logp(3.0 + 2.0 * g, v), v=vals), st.gumbel_r(3.0, 2.0).logpdf(vals), rtol=1e-12)
    # negative scale, division, subtraction from a constant, n-ary mul, neg
    t = pt.random.t(5.0, 0.0, 1.0)
    np.testing.assert_allclose(ev(logp(1.0 - t / 0.5, v), v=vals), st.t(5.0, 1.0, 2.0).logpdf(vals), rtol=1e-12)
    np.testing.assert_allclose(ev(logp(-(t * 2.0 * 1.5), v), v=vals), st.t(5.0, 0.0, 3.0).logpdf(vals), rtol=1e-12)
    # symbolic location and scale
    a, b = pt.scalar("a"), pt.scalar("b")
    np.testing.assert_allclose(ev(logp(a + b * pt.random.normal(0.0, 1.0), v), v=vals, a=1.0, b=-3.0),
                               st.norm(1.0, 3.0).logpdf(vals), rtol=1e-12)
    # a shift of a discrete variable stays discrete
    k = pt.lvector("k")
    pz = pt.random.poisson(3.0) + 2
    np.testing.assert_allclose(ev(logp(pz, k), k=np.array([2, 5])), st.poisson(3.0, loc=2).logpmf([2, 5]), rtol=1e-12)
    with pytest.raises(NotMeasurableError, match="discrete"):
        logp(pt.random.poisson(3.0) * 2, k)


def test_log_of_a_positive_variable_and_logcdf_through_a_shift():
    v = pt.vector("v")
    vals = np.array([-5.0, 0.0, 1.3])
    e = pt.random.exponential(2.0)
    # log(E), E ~ Exp(scale 2): log density v - log 2 - exp(v) / 2
    np.testing.assert_allclose(ev(logp(pt.log(e), v), v=vals), vals - np.log(2.0) - np.exp(vals) / 2.0, rtol=1e-12)
    n = pt.random.normal(0.0, 1.0)
    np.testing.assert_allclose(ev(logcdf(n * 2.0 + 1.0, v), v=vals), st.norm(1.0, 2.0).logcdf(vals), rtol=1e-12)
    with pytest.raises(NotMeasurableError, match="increasing"):
        logcdf(-n, v)


def test_abs_folds_both_signs():
    v = pt.vector("v")
    vals = np.array([-1.0, 0.0, 0.5, 3.0])
    n = pt.random.normal(1.0, 2.0)
    want = np.where(vals < 0, -np.inf, np.logaddexp(st.norm(1, 2).logpdf(vals), st.norm(1, 2).logpdf(-vals)))
    np.testing.assert_allclose(ev(logp(pt.abs(n), v), v=vals), want, rtol=1e-12)
    np.testing.assert_allclose(ev(logp(pt.abs(pt.random.normal(0.0, 3.0)), v), v=vals[1:]),
                               st.halfnorm(scale=3.0).logpdf(vals[1:]), rtol=1e-12)
    k = pt.lvector("k")
    ki = pt.random.integers(-2, 3)     # |U{-2..2}|: P(0) = 1/5, P(1) = P(2) = 2/5
    np.testing.assert_allclose(np.exp(ev(logp(pt.abs(ki), k), k=np.array([0, 1, 2, 3]))), [0.2, 0.4, 0.4, 0.0],
                               rtol=1e-12)


def test_sigmoid_and_logit_with_jacobians():
    v = pt.vector("v")
    u = np.array([1e-9, 0.2, 0.5, 0.99])
    n = pt.random.normal(0.3, 1.5)
    # sigmoid(N) is logit-normal
    x = np.log(u) - np.log1p(-u)
    want = st.norm(0.3, 1.5).logpdf(x) - np.log(u) - np.log1p(-u)
    np.testing.assert_allclose(ev(logp(pt.sigmoid(n), v), v=u), want, rtol=1e-12)
    assert np.all(ev(logp(pt.sigmoid(n), v), v=np.array([0.0, 1.0, 2.0])) == -np.inf)
    # logit(Beta(a, b)): density beta(sigmoid(v)) * sigmoid(v) * (1 - sigmoid(v))
    b = pt.random.beta(2.0, 3.0)
    w = np.array([-20.0, -1.0, 0.0, 2.0, 15.0])
    s = 1.0 / (1.0 + np.exp(-w))
    want = st.beta(2.0, 3.0).logpdf(s) + np.log(s) + np.log1p(-s)
    np.testing.assert_allclose(ev(logp(pt.special.logit(b), v), v=w), want, rtol=1e-10)


def test_clip_is_censoring():
    v = pt.vector("v")
    n = pt.random.normal(0.0, 1.0)
    c = pt.clip(n, -1.0, 2.0)
    vals = np.array([-1.0, -0.5, 0.0, 2.0, 3.0, -2.0])
    want = np.array([st.norm.logcdf(-1.0), st.norm.logpdf(-0.5), st.norm.logpdf(0.0), st.norm.logsf(2.0),
                     -np.inf, -np.inf])
    np.testing.assert_allclose(ev(logp(c, v), v=vals), want, rtol=1e-12)
    # discrete: the upper mass is P(X >= hi) = 1 - P(X <= hi - 1)
    k = pt.lvector("k")
    pc = pt.clip(pt.random.geometric(0.3), 1, 4)
    got = np.exp(ev(logp(pc, k), k=np.array([1, 2, 3, 4])))
    np.testing.assert_allclose(got, [0.3, 0.21, 0.147, 0.343], rtol=1e-12)
    np.testing.assert_allclose(got.sum(), 1.0, rtol=1e-12)


def test_underivable_transforms_name_the_op():
    v = pt.vector("v")
    n = pt.random.normal(0.0, 1.0, size=(3,), name="n")
    y = pt.sin(n)
    y.name = "y"
    with pytest.raises(NotMeasurableError, match=r"'y'.*Sin"):
        logp(y, v)
    with pytest.raises(NotMeasurableError, match="several random inputs"):
        logp(n * n, v)
    with pytest.raises(NotMeasurableError, match="no logcdf rule"):
        logp(pt.clip(pt.random.categorical(np.array([0.2, 0.3, 0.5]), size=(3,)), 0, 1), v)


def test_censored_gamma_uses_the_incomplete_gamma_logcdf():
    v = pt.vector("v")
    lp = logp(pt.clip(pt.random.gamma(2.0, scale=1.5, size=(3,)), 0.5, 4.0), v)
    ref = st.gamma(2.0, scale=1.5)
    got = ev(lp, v=np.array([0.5, 1.7, 4.0]))
    np.testing.assert_allclose(got, [ref.logcdf(0.5), ref.logpdf(1.7), ref.logsf(4.0)], rtol=1e-12)


def test_stack_of_dependent_variables_is_a_random_walk():
    """stack([a, b, c]) with b ~ N(a, 1), c ~ N(b, 1): each slice conditioned on the others' slices."""
    a = pt.random.normal(0.0, 1.0, name="a")
    b = pt.random.normal(a, 1.0, name="b")
    c = pt.random.normal(b, 1.0, name="c")
    v = pt.vector("v")
    vals = np.array([0.3, -1.0, 0.4])
    want = st.norm(0, 1).logpdf(0.3) + st.norm(0.3, 1).logpdf(-1.0) + st.norm(-1.0, 1).logpdf(0.4)
    got = ev(logp(pt.stack([a, b, c]), v), v=vals)
    assert got.shape == (3,)
    np.testing.assert_allclose(got.sum(), want, rtol=1e-12)


def test_concatenate_of_random_variables_and_max_of_iid_draws():
    v = pt.vector("v")
    x = pt.random.exponential(2.0, size=(2,))
    y = pt.exp(pt.random.normal(0.0, 1.0, size=(3,)))
    vals = np.array([0.5, 1.0, 0.1, 0.2, 3.0])
    want = np.concatenate([st.expon(scale=2.0).logpdf(vals[:2]), st.lognorm(1.0).logpdf(vals[2:])])
    np.testing.assert_allclose(ev(logp(pt.concatenate([x, y]), v), v=vals), want, rtol=1e-12)
    s = pt.scalar("s")
    m = pt.max(pt.random.gumbel(1.0, 2.0, size=(7,)))
    # the max of 7 iid Gumbel(1, 2) is Gumbel(1 + 2 log 7, 2)
    np.testing.assert_allclose(ev(logp(m, s), s=0.3), st.gumbel_r(1 + 2 * np.log(7), 2).logpdf(0.3), rtol=1e-12)
    with pytest.raises(NotMeasurableError, match="not iid"):
        logp(pt.max(pt.random.normal(np.zeros(3), 1.0)), s)

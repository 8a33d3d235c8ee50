"""Value transforms: round trips, log-Jacobians against numerical determinants, and an
unconstrained logp + gradient of a small hierarchical model (gradient by finite differences)."""

import numpy as np
import pytest
import scipy.stats as st

import opgraph.tensor as pt
from opgraph.gradient import grad
from opgraph.logprob.transforms import (IntervalTransform, Transform, log, logodds, simplex,
                                        transformed_conditional_logp)


def _num_log_jac(f, y, eps=1e-6):
    """log|det d f / d y| by central differences (f maps R^n -> R^n)."""
    y = np.asarray(y, dtype=float)
    n = y.size
    jac = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = eps
        jac[:, j] = (f(y + e) - f(y - e)) / (2 * eps)
    return np.linalg.slogdet(jac)[1]


@pytest.mark.parametrize("tr,x", [(log, np.array([1e-8, 0.5, 3.0, 1e8])),
                                  (logodds, np.array([1e-8, 0.25, 0.5, 1 - 1e-6])),
                                  (IntervalTransform(-2.0, 5.0), np.array([-1.999, 0.0, 4.5])),
                                  (IntervalTransform(lower=1.0), np.array([1.001, 7.0])),
                                  (IntervalTransform(upper=1.0), np.array([-7.0, 0.999]))],
                         ids=["log", "logodds", "interval", "lower", "upper"])
def test_scalar_transforms_round_trip_and_jacobian(tr, x):
    v = pt.vector("v")
    y = tr.forward(v).eval({v: x})
    # atol: a round trip through exp/sigmoid is exact only to rounding near x = 0
    np.testing.assert_allclose(tr.backward(v).eval({v: y}), x, rtol=1e-9, atol=1e-14)
    back = tr.backward(v)
    ljd = tr.log_jac_det(v).eval({v: y})
    for yi, li in zip(y, ljd):
        num = _num_log_jac(lambda z: back.eval({v: z}), [yi], eps=1e-6 * max(1.0, abs(yi)))
        np.testing.assert_allclose(li, num, rtol=1e-6, atol=1e-6)


def test_logodds_jacobian_is_finite_far_out():
    v = pt.vector("v")
    out = logodds.log_jac_det(v).eval({v: np.array([-800.0, 800.0])})
    np.testing.assert_allclose(out, [-800.0, -800.0], rtol=1e-12)


def test_simplex_round_trip_and_jacobian_of_the_first_k_minus_1_coordinates():
    v = pt.vector("v")
    x = np.array([0.1, 0.2, 0.3, 0.4])
    y = simplex.forward(v).eval({v: x})
    assert y.shape == (3,)
    back = simplex.backward(v)
    np.testing.assert_allclose(back.eval({v: y}), x, rtol=1e-12)
    num = _num_log_jac(lambda z: back.eval({v: z})[:-1], y)
    np.testing.assert_allclose(simplex.log_jac_det(v).eval({v: y}), num, rtol=1e-7)
    m = pt.matrix("m")     # batched: one simplex per row
    xs = np.array([[0.5, 0.5], [0.9, 0.1]])
    np.testing.assert_allclose(simplex.backward(m).eval({m: simplex.forward(m).eval({m: xs})}), xs, rtol=1e-12)


def test_dirichlet_on_the_simplex_transform_is_a_logit_beta_and_integrates_to_one():
    """K = 2: Dirichlet([2, 3]) of y in R is Beta(2, 3) of sigmoid(y) with its Jacobian."""
    d = pt.random.dirichlet(np.array([2.0, 3.0]))
    yv = pt.vector("yv")
    (term,) = transformed_conditional_logp({d: yv}, {d: simplex})
    import scipy.special as sp

    grid = np.linspace(-30, 30, 201)
    got = np.array([term.eval({yv: np.array([g])}) for g in grid])
    log_s, log_1ms = -np.logaddexp(0, -grid), -np.logaddexp(0, grid)    # log sigmoid, log(1 - sigmoid)
    np.testing.assert_allclose(got, 2 * log_s + 3 * log_1ms - sp.betaln(2, 3), rtol=1e-10)
    # ... and the density of y integrates to one (trapezoid rule on [-30, 30])
    np.testing.assert_allclose(np.trapezoid(np.exp(got), grid), 1.0, rtol=1e-6)


def test_unconstrained_logp_and_gradient_of_a_hierarchical_model():
    tau = pt.random.halfnormal(0.0, 5.0, name="tau")
    p = pt.random.beta(2.0, 2.0, name="p")
    theta = pt.random.normal(0.0, tau, size=(4,), name="theta")
    u = pt.random.uniform(-1.0, tau, name="u")
    values = {tau: pt.scalar("tau_log__"), p: pt.scalar("p_logodds__"), theta: pt.vector("theta"),
              u: pt.scalar("u_interval__")}
    terms = transformed_conditional_logp(values, {tau: log, p: logodds, u: IntervalTransform(-1.0, tau)})
    assert [t.name for t in terms] == ["tau_logprob", "p_logprob", "theta_logprob", "u_logprob"]
    total = sum(pt.sum(t) for t in terms)
    ins = list(values.values())
    grads = grad(total, ins)
    point = [np.float64(0.4), np.float64(-0.3), np.array([0.5, -1.0, 2.0, 0.1]), np.float64(0.2)]
    env = dict(zip(ins, point))
    T, P = np.exp(0.4), 1 / (1 + np.exp(0.3))
    U = -1.0 + (T + 1.0) / (1 + np.exp(-0.2))
    want = (st.halfnorm(scale=5).logpdf(T) + 0.4 + st.beta(2, 2).logpdf(P) + np.log(P) + np.log1p(-P)
            + st.norm(0, T).logpdf(point[2]).sum() + st.uniform(-1, T + 1).logpdf(U) + np.log(T + 1.0)
            - np.log1p(np.exp(-0.2)) - np.log1p(np.exp(0.2)))
    np.testing.assert_allclose(total.eval(env), want, rtol=1e-12)
    f0 = total.eval(env)
    for i, (var, val) in enumerate(zip(ins, point)):
        g = grads[i].eval(env)
        flat = np.atleast_1d(np.asarray(val, dtype=float))
        num = np.empty_like(flat)
        for j in range(flat.size):
            step = np.zeros_like(flat)
            step[j] = 1e-6
            up, dn = dict(env), dict(env)
            up[var] = (flat + step).reshape(np.shape(val))
            dn[var] = (flat - step).reshape(np.shape(val))
            num[j] = (total.eval(up) - total.eval(dn)) / 2e-6
        np.testing.assert_allclose(np.atleast_1d(g), num, rtol=1e-6, atol=1e-8)
    assert np.isfinite(f0)


def test_bad_transform_arguments_are_named():
    n = pt.random.normal(0.0, 1.0, name="n")
    with pytest.raises(ValueError, match="no value variable"):
        transformed_conditional_logp({}, {n: log})
    with pytest.raises(TypeError, match="must be a Transform"):
        transformed_conditional_logp({n: pt.scalar("v")}, {n: "log"})
    with pytest.raises(ValueError, match="lower, upper or both"):
        IntervalTransform()
    assert isinstance(log, Transform)

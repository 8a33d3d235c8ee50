"""Finite-difference checks of the pullbacks of the von Mises CDF op (scalar/vonmises_cdf.py)
and of the two Newton quantiles (scalar/iterative_quantiles.py): VonMisesCdf in x and mu,
WaldUnitQuantile in q and phi (implicit-function gradient), VonMisesLowerQuantile in p and mu.
The points avoid the kinks (x = +-pi, q or p at 0 / 1, the wrap of mu); kappa's derivative is
not implemented and says so."""

import numpy as np
import pytest

import opgraph.tensor as pt
from opgraph.kernel_core.gradient import grad, verify_grad
from opgraph.kernel_core.logprob.iterative_quantiles import vonmises_cdf, vonmises_lower_quantile, wald_unit_quantile

RNG = np.random.default_rng(20261202)

XS = np.array([-2.9, -1.0, -0.2, 0.4, 1.3, 2.8])
MUS = np.array([0.3, -1.2, 2.5, 0.0, -2.9, 1.0])
KAPPAS = np.array([0.5, 3.0, 30.0, 800.0, 1.0, 12.0])


def test_vonmises_cdf_pullback_in_x_and_mu():
    verify_grad(lambda x, mu: vonmises_cdf(x, mu, pt.constant(KAPPAS)), [XS, MUS], rng=RNG,
                eps=1e-6, abs_tol=1e-6, rel_tol=1e-5)


@pytest.mark.parametrize("phi", [0.05, 1.0, 6.0, 400.0])
def test_wald_unit_quantile_pullback_in_q_and_phi(phi):
    qs = np.array([1e-4, 0.02, 0.3, 0.5, 0.8, 0.999])
    verify_grad(lambda q, f: wald_unit_quantile(q, f), [qs, np.full(qs.shape, phi)], rng=RNG,
                eps=1e-8, abs_tol=1e-6, rel_tol=1e-5)


def test_vonmises_lower_quantile_pullback_in_p_and_mu():
    ps_ = np.array([1e-3, 0.05, 0.2, 0.3, 0.45, 0.1])
    verify_grad(lambda p, mu: vonmises_lower_quantile(p, mu, pt.constant(KAPPAS)), [ps_, MUS], rng=RNG,
                eps=1e-7, abs_tol=1e-6, rel_tol=1e-5)


@pytest.mark.parametrize("build", [lambda x, k: vonmises_cdf(x, 0.3, k),
                                   lambda x, k: vonmises_lower_quantile(x * 0.1 + 0.2, 0.3, k)],
                         ids=["vonmises_cdf", "vonmises_lower_quantile"])
def test_kappa_gradient_is_refused_by_name(build):
    x, k = pt.vector("x"), pt.vector("k")
    with pytest.raises(NotImplementedError, match="kappa"):
        grad(build(x, k).sum(), k)


def test_wald_icdf_gradient_in_mean_and_scale():
    from opgraph.logprob import icdf

    qs = pt.constant(np.array([1e-6, 0.01, 0.2, 0.5, 0.9, 0.99]))
    verify_grad(lambda m, s: icdf(pt.random.wald(m, s), qs), [np.float64(3.0), np.float64(0.5)], rng=RNG,
                eps=1e-7, abs_tol=1e-5, rel_tol=1e-5)


def test_wald_icdf_gradient_is_finite_with_q_at_the_ends():
    """q = 0 and q = 1 (icdf 0 and inf) contribute nothing: the summed gradient stays finite."""
    import opgraph
    from opgraph.logprob import icdf

    q, m, s = pt.vector("q"), pt.scalar("m"), pt.scalar("s")
    w = icdf(pt.random.wald(m, s), q)
    f = opgraph.function([q, m, s], grad(w.sum(), [q, m, s]), mode="PYTHON")
    inner = np.array([0.2, 0.7])
    at_ends = f(np.array([0.0, 0.2, 0.7, 1.0]), np.float64(3.0), np.float64(0.5))
    inner_only = f(inner, np.float64(3.0), np.float64(0.5))
    np.testing.assert_array_equal(at_ends[0][[0, 3]], 0.0)
    np.testing.assert_allclose(at_ends[1], inner_only[1], rtol=1e-14)
    np.testing.assert_allclose(at_ends[2], inner_only[2], rtol=1e-14)

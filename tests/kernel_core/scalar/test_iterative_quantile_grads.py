"""Finite-difference checks of the pullbacks of the von Mises CDF op (scalar/vonmises_cdf.py)
and of the two Newton quantiles (scalar/iterative_quantiles.py): VonMisesCdf in x and mu,
WaldUnitQuantile in q and phi (implicit-function gradient), VonMisesLowerQuantile in p and mu.
VonMisesCdf's derivative in kappa (the op VonMisesCdfDKappa) and VonMisesLowerQuantile's (the
implicit function), also through the logcdf / icdf rules, by finite differences in log kappa for
kappa from 1e-3 to 1e3.  The points avoid the kinks (x = +-pi, q or p at 0 / 1, the wrap of mu)."""

import numpy as np
import pytest

import opgraph
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


# kappa from 1e-3 to 1e3; x near -pi, 0 and pi (both tails and the mode) for mu = 0, and mu != 0.
KAPPA_GRID = np.array([1e-3, 0.1, 1.0, 7.0, 60.0, 1e3])
X_GRID = np.array([-np.pi + 1e-7, -np.pi + 0.02, -3.0, -0.3, -1e-4, 0.0, 1e-4, 0.5, 3.0, np.pi - 0.02,
                   np.pi - 1e-7])
MU_GRID = np.array([0.0, 0.3, -2.5])


def _d_dlogk(fn, kappa, h=2e-3):
    """d fn / d log kappa by the five-point central difference (h in log kappa; -inf values, the
    log of an underflowed tail, give nan)."""
    m2, m1, p1, p2 = (fn(kappa * np.exp(j * h)) for j in (-2, -1, 1, 2))
    with np.errstate(invalid="ignore"):
        return (m2 - 8 * m1 + 8 * p1 - p2) / (12 * h)


def _grid():
    x, mu, k = np.meshgrid(X_GRID, MU_GRID, KAPPA_GRID, indexing="ij")
    return x.ravel(), mu.ravel(), k.ravel()


def test_vonmises_cdf_pullback_in_kappa_by_finite_differences():
    """Differences of the log of the CDF's accurate side (the lower tail below 1/2, the upper
    tail ``P(X > x) = F(-x; -mu)`` above: smooth in kappa where the tail is exp(-2 kappa)
    small): relative agreement in both tails and at the mode."""
    x, mu, k = pt.vector("x"), pt.vector("mu"), pt.vector("k")
    cdf = vonmises_cdf(x, mu, k)
    f = opgraph.function([x, mu, k], [cdf, grad(cdf.sum(), k)], mode="PYTHON")
    xv, muv, kv = _grid()
    value, dk = f(xv, muv, kv)
    lower = value < 0.5
    side_x, side_mu, sign = np.where(lower, xv, -xv), np.where(lower, muv, -muv), np.where(lower, 1.0, -1.0)
    side = f(side_x, side_mu, kv)[0]   # the side's mass
    seen = side > 0.0                  # (0: underflowed, e.g. exp(-2000) at kappa = 1e3)
    assert np.all(dk[~seen] == 0.0) and np.count_nonzero(seen) > 0.9 * seen.size
    with np.errstate(divide="ignore"):
        fd = sign * side * _d_dlogk(lambda kk: np.log(f(side_x, side_mu, kk)[0]), kv) / kv
    # elementwise relative, beyond the differences' rounding (log side to 1e-16, over h kappa);
    # at x = mu = 0 the CDF is 1/2 for every kappa
    zero = (xv == 0.0) & (muv == 0.0)
    rounding = 1e-14 * side * (1.0 + np.abs(np.log(np.where(seen, side, 1.0)))) / (2e-3 * kv)
    ok = np.abs(dk - fd) <= 1e-7 * np.abs(fd) + rounding
    assert np.all(ok[seen & ~zero]), list(zip(xv[~ok], muv[~ok], kv[~ok], dk[~ok], fd[~ok]))
    assert np.all(np.abs(dk[zero]) < 1e-15)


def test_vonmises_cdf_dkappa_against_quadrature():
    """The op against 30-digit quadrature of ``(cos t - I1/I0) f0``: relative in the tails (to
    2e-11 deep in them, as the CDF's tanh-sinh sums; 1e-14 elsewhere)."""
    import mpmath

    from opgraph.kernel_core.scalar.vonmises_cdf import vonmises_cdf_dkappa

    cases = [(-3.0, 0.0, 1e3), (-np.pi + 1e-7, 0.3, 60.0), (np.pi - 0.02, -2.5, 7.0), (-0.3, 0.0, 0.1),
             (0.5, 0.3, 1e-3), (1e-4, 0.0, 60.0), (-2.0, 0.3, 300.0), (3.0, 0.0, 1e3)]
    with mpmath.workdps(30):
        for xv, muv, kv in cases:
            x, mu, k = mpmath.mpf(xv), mpmath.mpf(muv), mpmath.mpf(kv)
            ratio = mpmath.besseli(1, k) / mpmath.besseli(0, k)

            def f(t):
                return (mpmath.cos(t - mu) - ratio) * mpmath.exp(k * (mpmath.cos(t - mu) - 1))
            h = 1 / (k * abs(mpmath.sin(x - mu)) + mpmath.sqrt(k) + 1)
            if xv < 0.5:   # the lower tail: from -pi to x, nodes clustered at x
                pts = sorted({-mpmath.pi, *[x - j * h for j in range(1, 60) if x - j * h > -mpmath.pi], x})
                sign = 1
            else:          # the upper tail (the integral over the circle is 0)
                pts = sorted({x, *[x + j * h for j in range(1, 60) if x + j * h < mpmath.pi], mpmath.pi})
                sign = -1
            want = sign * mpmath.quad(f, pts) / (2 * mpmath.pi * mpmath.besseli(0, k) * mpmath.exp(-k))
            got = vonmises_cdf_dkappa.impl(xv, muv, kv)
            assert abs(got - float(want)) <= 2e-11 * abs(float(want)), (xv, muv, kv, got, float(want))


def test_vonmises_lower_quantile_pullback_in_kappa_by_finite_differences():
    p, mu, k = pt.vector("p"), pt.vector("mu"), pt.vector("k")
    q = vonmises_lower_quantile(p, mu, k)
    f = opgraph.function([p, mu, k], [q, grad(q.sum(), k)], mode="PYTHON")
    pv, muv, kv = (a.ravel() for a in np.meshgrid(np.array([1e-8, 1e-3, 0.1, 0.3, 0.5]), MU_GRID, KAPPA_GRID,
                                                   indexing="ij"))
    _, dk = f(pv, muv, kv)
    fd = _d_dlogk(lambda kk: f(pv, muv, kk)[0], kv) / kv
    np.testing.assert_allclose(dk * kv, fd * kv, rtol=1e-6, atol=1e-10)


def test_vonmises_logcdf_and_icdf_gradients_in_kappa():
    """Through the logprob rules (the reflection above 1/2 included), against finite differences;
    the logcdf where the CDF does not underflow (its log is -inf there, its gradient nan)."""
    from opgraph.logprob import icdf, logcdf

    k, x = pt.scalar("k"), pt.vector("x")
    q = pt.constant(np.array([1e-9, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-9]))
    vm = pt.random.vonmises(0.3, k)
    lc, ic = logcdf(vm, x), icdf(vm, q)
    f = opgraph.function([k, x], [lc, ic, grad(lc.sum(), k), grad(ic.sum(), k)], mode="PYTHON")
    for kv in KAPPA_GRID:
        xs = X_GRID[np.isfinite(f(kv * np.exp(-4e-3), X_GRID)[0])]
        assert xs.size >= 7
        _, _, g_lc, g_ic = f(kv, xs)
        fd_lc = _d_dlogk(lambda kk: f(kk, xs)[0].sum(), kv) / kv
        fd_ic = _d_dlogk(lambda kk: f(kk, xs)[1].sum(), kv) / kv
        assert np.isfinite(g_lc) and np.isfinite(g_ic)
        np.testing.assert_allclose(g_lc, fd_lc, rtol=1e-7, err_msg=f"logcdf, kappa = {kv}")
        np.testing.assert_allclose(g_ic * kv, fd_ic * kv, rtol=1e-6, atol=1e-9, err_msg=f"icdf, kappa = {kv}")


def test_vonmises_cdf_dkappa_pullback_in_x_and_mu():
    from opgraph.kernel_core.scalar.vonmises_cdf import cdf_dkappa

    verify_grad(lambda x, mu: cdf_dkappa(x, mu, pt.constant(KAPPAS)), [XS, MUS], rng=RNG,
                eps=1e-6, abs_tol=1e-6, rel_tol=1e-5)


def test_second_derivative_in_kappa_is_refused_by_name():
    from opgraph.kernel_core.scalar.vonmises_cdf import cdf_dkappa

    x, k = pt.vector("x"), pt.vector("k")
    with pytest.raises(NotImplementedError, match="second derivative of vonmises_cdf with respect to kappa"):
        grad(cdf_dkappa(x, 0.3, k).sum(), k)


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

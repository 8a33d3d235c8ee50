"""The von Mises log-CDF op (scalar/vonmises_logcdf.py, issue 15): values against 40-digit mpmath
quadrature on a grid with kappa from 1e-3 to 1e4, tails where F is 1e-300 and far below
(finite), gradients in x, mu and kappa by finite differences (deep tails included), the
deep-tail kappa derivative against vonmises_cdf_dkappa / F where both apply, and the logcdf
rule's graph finite with finite gradients where the CDF underflows.  NUMBA = PYTHON (= JAX):
the dual-mode family "wald_vonmises"."""

import numpy as np
import pytest
import scipy.special as sp

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.gradient import grad
from opgraph.kernel_core.logprob.iterative_quantiles import vonmises_logcdf_op
from opgraph.kernel_core.scalar import vonmises_logcdf as vml
from opgraph.kernel_core.scalar.vonmises_cdf import cdf_array, cdf_dkappa_array
from opgraph.kernel_core.tensor.elemwise import Elemwise

from vonmises_logcdf_reference import grid, load_table, reference_logcdf


def _logcdf(x, mu, k):
    with np.errstate(all="ignore"):
        return vml.logcdf_array(x, mu, k, np, sp.i0e)


def test_values_against_mpmath_including_underflowed_tails():
    # The 162 references are stored (vonmises_logcdf_reference.py: ~30 s of quadrature);
    # the next test recomputes some of them live.
    x, mu, k, want = load_table()
    gx, gmu, gk = grid()
    np.testing.assert_array_equal(np.stack([x, mu, k]), np.stack([gx, gmu, gk]))
    got = _logcdf(x, mu, k)
    assert np.count_nonzero(want < -700) >= 10   # F below 1e-300: log F finite
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=0)


# Rows of the stored table recomputed live: small and large kappa, both sides of F = 1/2,
# and two where F underflows (log F < -700).
LIVE_ROWS = [(0.4, 0.3, 0.001), (-2.0, 0.0, 30.0), (3.0, -2.5, 1.0), (2.0, 0.3, 1e3),
             (-2.0, 0.0, 1e3), (-3.0, 0.3, 1e4)]


def test_stored_references_are_the_mpmath_reference():
    x, mu, k, want = load_table()
    table = {(a, b, c): v for a, b, c, v in zip(x, mu, k, want)}
    assert sum(table[r] < -700 for r in LIVE_ROWS) >= 2
    live = [reference_logcdf(*row) for row in LIVE_ROWS]
    # (40 digits rounded to a float: equal, but for a last-bit tie with another mpmath)
    np.testing.assert_allclose(live, [table[r] for r in LIVE_ROWS], rtol=4e-16, atol=0)


def test_equals_the_log_of_the_cdf_where_it_does_not_underflow():
    rng = np.random.default_rng(15)
    x, mu = rng.uniform(-np.pi, np.pi, 400), rng.uniform(-7.0, 7.0, 400)
    k = np.exp(rng.uniform(np.log(1e-3), np.log(1e4), 400))
    lower, upper = cdf_array(x, mu, k, np, sp.i0e), cdf_array(-x, -mu, k, np, sp.i0e)
    with np.errstate(divide="ignore"):
        want = np.where(lower < 0.5, np.log(lower), np.log1p(-upper))
    seen = np.isfinite(want) & (lower > 1e-300)
    assert np.count_nonzero(seen) > 300
    np.testing.assert_allclose(_logcdf(x, mu, k)[seen], want[seen], rtol=1e-13, atol=1e-300)


def test_limits():
    x = np.array([-4.0, 4.0, 0.0, -1.0, 1.0, np.nan, 0.0, 0.0])
    mu = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, np.inf, 0.0])
    k = np.array([3.0, 3.0, 0.0, np.inf, np.inf, 1.0, 1.0, -1.0])
    got = _logcdf(x, mu, k)
    np.testing.assert_array_equal(got[:5], [-np.inf, 0.0, np.log(0.5), -np.inf, 0.0])
    assert np.all(np.isnan(got[5:]))


# away from the kinks (x = +-pi, the wrap of mu); deep tails included (log F down to -2e4)
GX = np.array([-3.0, -2.0, -0.5, 0.4, 2.0, 3.0])
GMU = np.array([0.0, 0.3, -2.5])
GK = np.array([1e-3, 1.0, 30.0, 1e3, 1e4])


def _grid():
    x, mu, k = np.meshgrid(GX, GMU, GK, indexing="ij")
    return x.ravel(), mu.ravel(), k.ravel()


def _five_point(fn, h):
    return (fn(-2 * h) - 8 * fn(-h) + 8 * fn(h) - fn(2 * h)) / (12 * h)


@pytest.fixture(scope="module")
def grads():
    x, mu, k = pt.vector("x"), pt.vector("mu"), pt.vector("k")
    lc = vonmises_logcdf_op(x, mu, k)
    return opgraph.function([x, mu, k], [lc, *grad(lc.sum(), [x, mu, k])], mode="PYTHON")


def test_gradients_in_x_mu_kappa_by_finite_differences(grads):
    """Relative agreement per element.  Steps 1e-3 / (1 + kappa) in x, mu and log kappa: a tail
    varies as exp(-kappa (1 - cos)), whose rate is up to 2 kappa (the five-point error, (h
    rate)^4, stays below 1e-11)."""
    x, mu, k = _grid()
    value, dx, dmu, dk = grads(x, mu, k)
    assert np.all(np.isfinite(value)) and np.count_nonzero(value < -700) >= 5
    h = 1e-3 / (1.0 + k)
    fd_x = _five_point(lambda d: _logcdf(x + d, mu, k), h)
    fd_mu = _five_point(lambda d: _logcdf(x, mu + d, k), h)
    fd_k = _five_point(lambda d: _logcdf(x, mu, k * np.exp(d)), h) / k
    # rounding of the differences: log F to 1e-14 relative, over the step
    for got, fd, step in [(dx, fd_x, h), (dmu, fd_mu, h), (dk, fd_k, h * k)]:
        tol = 1e-7 * np.abs(fd) + 1e-14 * np.abs(value) / step
        bad = np.abs(got - fd) > tol
        assert not bad.any(), list(zip(x[bad], mu[bad], k[bad], got[bad], fd[bad]))


def test_deep_kappa_derivative_agrees_with_the_linear_one_where_both_apply():
    """Around log F = -600 (where the op switches): ``c - E[1 - cos t]`` from the scaled sums
    against ``vonmises_cdf_dkappa / F``."""
    # tails, a wrapped interval (mu = 0.1, x = -3), a short one at -pi
    k = np.array([400.0, 400.0, 1e3, 1e3, 1e4, 1e4, 2e4, 150.0, 300.0])
    x = np.array([-1.6, -1.3, -1.2, -0.8, -0.35, -2.9, -0.2, -3.0, -np.pi + 1e-3])
    mu = np.array([0.0, 0.5, 0.0, 0.0, 0.0, 3.1, 0.05, 0.1, 0.0])
    with np.errstate(all="ignore"):
        log_f, m = vml._lower_log(x, mu, k, np, sp.i0e, vml._keep_order)
        deep = vml.one_minus_bessel_ratio(k, np) - m
        linear = cdf_dkappa_array(x, mu, k, np, sp.i0e) / cdf_array(x, mu, k, np, sp.i0e)
    assert np.all((log_f > -700) & (log_f < -10)), log_f
    np.testing.assert_allclose(deep, linear, rtol=1e-11)


def test_dkappa_pullback_in_x_and_mu_by_finite_differences():
    x, mu, k = _grid()
    keep = k <= 1e3   # its x / mu derivatives: the step must resolve exp(k ...) at k = 1e4
    x, mu, k = x[keep], mu[keep], k[keep]
    xv, muv, kv = pt.vector("x"), pt.vector("mu"), pt.vector("k")
    dk = Elemwise(vml.vonmises_logcdf_dkappa)(xv, muv, kv)
    f = opgraph.function([xv, muv, kv], [dk, *grad(dk.sum(), [xv, muv])], mode="PYTHON")
    value, gx, gmu = f(x, mu, k)
    h = 1e-3 / (1.0 + k)
    fd_x = _five_point(lambda e: f(x + e, mu, k)[0], h)
    fd_mu = _five_point(lambda e: f(x, mu + e, k)[0], h)
    for got, fd in [(gx, fd_x), (gmu, fd_mu)]:
        tol = 1e-6 * np.abs(fd) + 1e-13 * (1.0 + np.abs(value)) / h
        bad = np.abs(got - fd) > tol
        assert not bad.any(), list(zip(x[bad], mu[bad], k[bad], got[bad], fd[bad]))


def test_second_derivative_in_kappa_is_refused_by_name():
    x, k = pt.vector("x"), pt.vector("k")
    dk = Elemwise(vml.vonmises_logcdf_dkappa)(x, 0.3, k)
    with pytest.raises(NotImplementedError, match="second derivative of vonmises_logcdf with respect to kappa"):
        grad(dk.sum(), k)


def test_logcdf_rule_is_finite_with_finite_gradients_where_the_cdf_underflows():
    """Issue 15: kappa = 1e3 at x - mu = -2 (F = exp(-1420)) was -inf with a nan gradient."""
    from opgraph.logprob import logcdf

    x, mu, k = pt.vector("x"), pt.scalar("mu"), pt.scalar("k")
    lc = logcdf(pt.random.vonmises(mu, k), x)
    f = opgraph.function([x, mu, k], [lc, *grad(lc.sum(), [x, mu, k])], mode="PYTHON")
    xs = np.array([-2.0, -3.0, -1.0])
    value, gx, gmu, gk = f(xs, np.float64(0.0), np.float64(1e3))
    np.testing.assert_allclose(value, [reference_logcdf(v, 0.0, 1e3) for v in xs], rtol=1e-10)
    assert np.all(np.isfinite(gx)) and np.isfinite(gmu) and np.isfinite(gk)
    # deep in the tail d log F / d kappa is about cos(x - mu) - 1
    np.testing.assert_allclose(gk, np.sum(np.cos(xs) - 1.0), rtol=1e-2)

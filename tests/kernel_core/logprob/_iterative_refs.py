"""Independent references for the Wald icdf and the von Mises logcdf / icdf (iterative_quantiles.py):

- the von Mises CDF on [-pi, pi] by SciPy's adaptive quadrature of the density (split
  geometrically around the mode and the ends, relative tolerance 1.2e-14; it agrees with
  30-digit mpmath quadrature to 6e-14 on the distribution grid), not the op's algorithm; its
  log with the integrand factored at its maximum (finite where the CDF underflows);
- quantiles by Newton steps on those CDFs (the Wald's exact CDF in 60-digit arithmetic),
  from a given start (SciPy's ppf for the Wald, the value under test for the von Mises).
"""

import warnings

import mpmath
import numpy as np
import scipy.integrate as si
import scipy.special as sp

PI_LO = 1.2246467991473532e-16


def _vonmises_log_mass(x, mu, k):
    """log P(X <= x), X von Mises(mu, k) on [-pi, pi], for x in [-pi, pi]: the mass of exp(k (cos
    s - 1)) over s in [-pi - mu, x - mu], as L * int_0^1 f(a + L u) du (the density is 2 pi
    periodic), the integrand factored at the interval's greatest cos (finite where the mass
    underflows)."""
    a = (-np.pi - mu) % (2 * np.pi)
    a = a - 2 * np.pi if a >= np.pi else a
    length = (x + np.pi) + PI_LO
    b = a + length
    top = 1.0 if (a <= 0.0 <= b or b >= 2 * np.pi) else max(np.cos(a), np.cos(b))

    def f(u):
        return np.exp(k * (np.cos(a + length * u) - top))
    cuts = set()
    for e in (0.0, 2 * np.pi, a, a + length):
        d = 1.0 / (k * abs(np.sin(e)) + np.sqrt(k) + 1.0)
        for j in range(-10, 30):
            for p in (e + d * 2 ** (j / 2), e - d * 2 ** (j / 2), e):
                u = (p - a) / length
                if 0 < u < 1:
                    cuts.add(u)
    edges = [0.0] + sorted(cuts) + [1.0]
    with warnings.catch_warnings():
        # quad warns that it cannot prove 1.2e-14 on pieces where the density underflows
        warnings.simplefilter("ignore", si.IntegrationWarning)
        total = sum(si.quad(f, lo, hi, epsabs=0, epsrel=1.2e-14, limit=100)[0]
                    for lo, hi in zip(edges[:-1], edges[1:]))
    return k * (top - 1.0) + np.log(length * total / (2 * np.pi * sp.i0e(k)))


def vonmises_cdf_quad(x, mu, k):
    """P(X <= x), X von Mises(mu, k) on [-pi, pi] (``_vonmises_log_mass``)."""
    if x < -np.pi:
        return 0.0
    if x > np.pi:
        return 1.0
    return float(np.exp(_vonmises_log_mass(x, mu, k)))


def vonmises_logcdf_ref(mu, k):
    def logcdf(x):
        out = np.empty(np.shape(x))
        for i, (m, kk, v) in enumerate(np.broadcast(mu, k, x)):
            if not -np.pi <= v <= np.pi:
                out[i] = -np.inf if v < -np.pi else 0.0
                continue
            lower = _vonmises_log_mass(v, m, kk)
            out[i] = lower if lower < np.log(0.5) else np.log1p(-vonmises_cdf_quad(-v, -m, kk))
        return out
    return logcdf


def vonmises_quantile_ref(mu, k, q, start):
    """Newton steps on the quadrature CDF (its complement for q > 1/2) from ``start``."""
    out = np.empty(np.shape(q))
    for i, (m, kk, qq, x) in enumerate(np.broadcast(mu, k, q, start)):
        for _ in range(2):
            dens = np.exp(kk * (np.cos(x - m) - 1.0)) / (2 * np.pi * sp.i0e(kk))
            if dens == 0:
                break
            if qq <= 0.5:
                x = x - (vonmises_cdf_quad(x, m, kk) - qq) / dens
            else:
                x = x + (vonmises_cdf_quad(-x, -m, kk) - (1.0 - qq)) / dens
        out[i] = x
    return out


def wald_quantile_ref(mean, lam, q, start):
    """Newton steps in 60 digits on the exact CDF of the Wald(mean, lam), from ``start``."""
    out = np.empty(np.shape(q))
    with mpmath.workdps(60):
        for i, (m, lm, qq, x0) in enumerate(np.broadcast(mean, lam, q, start)):
            m, lm, qm, x = mpmath.mpf(m), mpmath.mpf(lm), mpmath.mpf(qq), mpmath.mpf(x0)
            for _ in range(6):
                r = mpmath.sqrt(lm / x)
                cdf = mpmath.ncdf(r * (x / m - 1)) + mpmath.exp(2 * lm / m) * mpmath.ncdf(-r * (x / m + 1))
                dens = mpmath.sqrt(lm / (2 * mpmath.pi * x ** 3)) * mpmath.exp(-lm * (x - m) ** 2 / (2 * m * m * x))
                x -= (cdf - qm) / dens
            out[i] = float(x)
    return out

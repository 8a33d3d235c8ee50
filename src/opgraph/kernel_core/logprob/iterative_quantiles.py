"""Quantiles without a closed form or a special function: the Wald (inverse Gaussian)
icdf, and the von Mises logcdf / icdf on the von Mises CDF op (``scalar/vonmises_cdf.py``).

Each quantile is a graph-level Newton iteration of a fixed number of steps (elementwise
ops only, so every backend runs it and the steps fuse into a few loops), then one more
Newton step from the result ``x*`` held constant for the gradient:
``x = x* + (q - F(x*; theta)) / f(x*)``.  Its value is ``x*`` corrected by the last
residual; its gradient is the implicit function's, ``dx/dq = 1 / f(x)`` and
``dx/dtheta = -(dF/dtheta) / f(x)``, not a derivative through the iterations.

Wald(mean, lam): ``X = mean U`` with U inverse Gaussian of mean 1 and shape ``phi = lam /
mean``.  Newton in ``z = log u`` on ``log P(U <= u) - log q`` (q <= 1/2) or ``log P(U > u) -
log(1 - q)``: the log-density of ``log U``, ``-z/2 - phi (cosh z - 1)``, is concave, so both
are concave and monotone in z and Newton converges monotonically after its first step
(steps are limited to 2 in z, so a far first step cannot overshoot to where the CDF
underflows).  Start: the lognormal with the same mean and variance.  The upper tail
``P(U > u) = exp(-z1^2/2) (erfcx(z1/sqrt2) - erfcx(z2/sqrt2)) / 2`` for u >= 1 (z1, z2 =
sqrt(phi/u) (u -+ 1)): no exp(2 phi) overflow; the difference keeps a relative accuracy
of about 1e-16 u, which moves the quantile by at most 1e-16 / phi relatively.

von Mises(mu, kappa) on [-pi, pi]: logcdf is ``log F`` below 1/2 and ``log1p(-F(-x; -mu))``
above (the reflection ``X -> -X`` maps mu to -mu: the upper tail keeps its digits).  The
quantile solves the lower half directly and the upper half by the reflection, with a
bracketed Newton in log space (``log F - log q``, bisection where a step leaves the
bracket) from the normal approximation around the mode (kappa > 2) or the uniform
quantile.
"""

from __future__ import annotations

import numpy as np

import opgraph.kernel_core.tensor.math as pm
from opgraph.kernel_core.gradient import disconnected_grad
from opgraph.kernel_core.logprob.check import check_parameters
from opgraph.kernel_core.logprob.continuous import _check_prob, normal_lcdf
from opgraph.kernel_core.logprob.rules import _icdf, _logcdf
from opgraph.kernel_core.scalar.vonmises_cdf import PI_LO
from opgraph.kernel_core.scalar.vonmises_cdf import vonmises_cdf as _vonmises_cdf_scalar
from opgraph.kernel_core.tensor.elemwise import Elemwise
from opgraph.kernel_core.tensor.random import basic as rv
from opgraph.kernel_core.tensor.special_functions import i0e, ndtri

vonmises_cdf = Elemwise(_vonmises_cdf_scalar)

_SQRT2 = np.sqrt(2.0)
_WALD_STEPS = 40
_WALD_MAX_STEP = 2.0
_VONMISES_STEPS = 40


# -- Wald --------------------------------------------------------------------------------------------
def wald_unit_logcdf(z1, z2):
    """log P(U <= u) from z1, z2 = sqrt(phi / u) (u -+ 1): ``Phi(z1) + exp(2 phi) Phi(-z2)`` with
    ``exp(2 phi) Phi(-z2) = exp(-z1^2 / 2) erfcx(z2 / sqrt2) / 2`` (z2^2 - z1^2 = 4 phi: no
    exp(2 phi), no difference of huge exponents); below the mean (z1 < 0) both terms share
    the factor exp(-z1^2 / 2)."""
    from opgraph.kernel_core.logprob.basic import _logaddexp

    half_sq = 0.5 * pm.sqr(z1)
    second = -half_sq + pm.log(0.5 * pm.erfcx(z2 / _SQRT2))
    left = pm.lt(z1, 0.0)
    z1l = pm.switch(left, z1, -1.0)
    both_left = -0.5 * pm.sqr(z1l) + pm.log(0.5 * (pm.erfcx(-z1l / _SQRT2) + pm.erfcx(z2 / _SQRT2)))
    return pm.switch(left, both_left, _logaddexp(normal_lcdf(pm.switch(left, 0.0, z1)), second))


def _wald_parts(u, phi):
    """(log P(U <= u), log P(U > u), log f(u)) for U ~ IG(1, phi), u > 0."""
    r = pm.sqrt(phi / u)
    z1, z2 = r * (u - 1.0), r * (u + 1.0)
    log_cdf = wald_unit_logcdf(z1, z2)
    above = pm.ge(u, 1.0)
    z1a = pm.switch(above, z1, 0.0)
    z2a = pm.switch(above, z2, 1.0)
    log_sf_right = -0.5 * pm.sqr(z1a) + pm.log(0.5 * (pm.erfcx(z1a / _SQRT2) - pm.erfcx(z2a / _SQRT2)))
    log_sf_left = pm.log1p(-pm.exp(pm.switch(above, -1.0, log_cdf)))
    log_sf = pm.switch(above, log_sf_right, log_sf_left)
    log_pdf = 0.5 * (pm.log(phi) - np.log(2.0 * np.pi) - 3.0 * pm.log(u)) - phi * pm.sqr(u - 1.0) / (2.0 * u)
    return log_cdf, log_sf, log_pdf


def wald_unit_quantile(q, phi):
    """The q-quantile of the inverse Gaussian of mean 1 and shape ``phi`` (0 < q < 1)."""
    upper = pm.gt(q, 0.5)
    qs = pm.switch(pm.and_(pm.gt(q, 0.0), pm.lt(q, 1.0)), q, 0.5)
    target = pm.switch(upper, pm.log1p(-qs), pm.log(qs))
    s2 = pm.log1p(1.0 / phi)
    z = -0.5 * s2 + pm.sqrt(s2) * ndtri(qs)
    for _ in range(_WALD_STEPS):
        u = pm.exp(z)
        log_cdf, log_sf, log_pdf = _wald_parts(u, phi)
        # d/dz log F = u f / F, d/dz log S = -u f / S
        h = pm.switch(upper, log_sf, log_cdf) - target
        slope = pm.switch(upper, -pm.exp(z + log_pdf - log_sf), pm.exp(z + log_pdf - log_cdf))
        step = pm.clip(-h / slope, -_WALD_MAX_STEP, _WALD_MAX_STEP)
        z = z + pm.switch(pm.isnan(step), 0.0, step)
    u_star = disconnected_grad(pm.exp(z))
    log_cdf, log_sf, log_pdf = _wald_parts(u_star, phi)
    resid = pm.switch(upper, pm.exp(log_sf) - (1.0 - qs), qs - pm.exp(log_cdf))
    return u_star + resid / pm.exp(log_pdf)


@_icdf.register(rv.WaldRV)
def wald_icdf(op, value, mean, scale):
    u = wald_unit_quantile(value, scale / mean)
    res = pm.switch(pm.eq(value, 0.0), 0.0, pm.switch(pm.eq(value, 1.0), np.inf, mean * u))
    res = check_parameters(res, pm.gt(mean, 0), pm.gt(scale, 0), msg="mean > 0, scale > 0")
    return _check_prob(value, res)


# -- von Mises ------------------------------------------------------------------------------------------
@_logcdf.register(rv.VonMisesRV)
def vonmises_logcdf(op, value, mu, kappa):
    lower = vonmises_cdf(value, mu, kappa)
    upper_tail = vonmises_cdf(-value, -mu, kappa)   # P(X > x), by the reflection
    res = pm.switch(pm.lt(lower, 0.5), pm.log(lower), pm.log1p(-upper_tail))
    return check_parameters(res, pm.gt(kappa, 0), msg="kappa > 0")


def _vonmises_density(x, mu, kappa):
    return pm.exp(kappa * (pm.cos(x - mu) - 1.0)) / (2.0 * np.pi * i0e(kappa))


def _vonmises_lower_quantile(p, mu, kappa):
    """x in [-pi, pi] with P(X <= x) = p, for 0 < p <= 1/2."""
    # the mode in [-pi, pi] and the mass below it
    n = pm.floor(-mu / (2.0 * np.pi))
    odd = 2.0 * n + 1.0
    a = (-mu - odd * np.pi) - odd * PI_LO
    mode = pm.switch(pm.gt(a, 0.0), np.pi - a, -np.pi - a)
    mode = pm.clip(mode, -np.pi, np.pi)
    below_mode = vonmises_cdf(mode, mu, kappa)
    centered = pm.clip(p - below_mode + 0.5, 1e-300, 1.0 - 1e-16)
    guess_normal = mode + ndtri(centered) / pm.sqrt(kappa)
    guess = pm.switch(pm.gt(kappa, 2.0), guess_normal, -np.pi + 2.0 * np.pi * p)
    x = pm.clip(guess, -np.pi, np.pi)
    lo = pm.zeros_like(x) - np.pi
    hi = pm.zeros_like(x) + np.pi
    log_p = pm.log(p)
    for _ in range(_VONMISES_STEPS):
        F = vonmises_cdf(x, mu, kappa)
        below = pm.lt(F, p)
        lo = pm.switch(below, x, lo)
        hi = pm.switch(below, hi, x)
        newton = x - (pm.log(F) - log_p) * F / _vonmises_density(x, mu, kappa)
        ok = pm.and_(pm.gt(newton, lo), pm.lt(newton, hi))
        x = pm.switch(ok, newton, 0.5 * (lo + hi))
    x_star = disconnected_grad(x)
    dens = _vonmises_density(x_star, mu, kappa)
    resid = p - vonmises_cdf(x_star, mu, kappa)
    return x_star + pm.switch(pm.gt(dens, 0.0), resid / pm.switch(pm.gt(dens, 0.0), dens, 1.0), 0.0)


@_icdf.register(rv.VonMisesRV)
def vonmises_icdf(op, value, mu, kappa):
    upper = pm.gt(value, 0.5)
    p = pm.switch(upper, 1.0 - value, value)
    ps = pm.switch(pm.gt(p, 0.0), p, 0.5)
    mu_s = pm.switch(upper, -mu, mu)
    x = _vonmises_lower_quantile(ps, mu_s, kappa)
    res = pm.switch(upper, -x, x)
    res = pm.switch(pm.eq(value, 0.0), -np.pi, pm.switch(pm.eq(value, 1.0), np.pi, res))
    res = check_parameters(res, pm.gt(kappa, 0), msg="kappa > 0")
    return _check_prob(value, res)

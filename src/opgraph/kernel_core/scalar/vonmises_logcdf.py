"""The von Mises log-CDF as one scalar op: ``vonmises_logcdf(x, mu, kappa) = log P(X <= x)``
(X as in ``vonmises_cdf.py``: von Mises(mu, kappa) on [-pi, pi]), finite wherever the CDF
underflows in linear space (kappa = 1e3 at x - mu = -2: F = exp(-1416)).

Below 1/2 (``vonmises_cdf`` decides) every piece of ``cdf_array`` is computed as a logarithm:
the integrand ``exp(kappa (cos t - 1))`` is factored at the point ``v`` of its interval where
``cos`` is greatest (an end of the interval, or the mode), ``exp(kappa (cos v - 1)) int
exp(kappa (cos t - cos v)) dt``, with ``cos t - cos v = -2 sin((t + v) / 2) sin((t - v) / 2)``
(no difference of nearly equal cosines; ``t - v`` from the node's offset).  So:

- short intervals: ``-2 kappa sin^2(v / 2) + log`` of the scaled Gauss-Legendre sum;
- the tails ``T(y)``: Gauss-Legendre on [y, pi] scaled at ``y``; the tanh-sinh form
  ``exp(-kappa A) R / 2 sum`` as ``-kappa A + log(R / 2 sum)``; the central branch (T >= 0.08)
  as the log of its value;
- their combinations: a difference ``T_a - T_b`` as ``log T_a + log(1 - exp(log T_b - log
  T_a))`` (``cdf_array``'s branches keep T_b below e^-4 of T_a or so), a sum by log-add-exp,
  ``1 - T`` by ``log1p(-T)``.

Above 1/2, ``log1p(-P(X > x))`` with ``P(X > x) = vonmises_cdf(-x, -mu, kappa)`` (the
reflection: the upper tail keeps its digits).  The normalizer ``log(2 pi i0e(kappa))``.

Accuracy, measured against 40-digit mpmath quadrature on the grid of
``tests/kernel_core/scalar/test_vonmises_logcdf.py`` (kappa from 1e-3 to 1e4, mu 0, 0.3, -2.5,
x from -pi to pi, log F down to -2e4; the test asserts 1e-10): at most 8e-16 relative in log F
where log F < -1 (the pieces' relative errors become absolute ones of log F), 1.3e-13 where
log F is in [-1, 0] (there log F is about -P(X > x): the CDF's relative accuracy, documented
as about 1e-11 in ``vonmises_cdf.py``).

Derivatives: ``d log F / dx = f(x) / F = exp(log f(x) - log F)``, ``d/dmu`` the same at both
ends; ``d log F / d kappa`` is the op ``VonMisesLogCdfDKappa``: ``vonmises_cdf_dkappa / F``
where F > e^-600 (both accurate in relative terms), below that ``c - E[1 - cos t]``, with ``c
= 1 - I1/I0`` and the mean of ``1 - cos t`` over the interval weighted by the integrand,
from the same scaled sums (``d log int exp(kappa (cos t - 1)) / d kappa = -E[1 - cos t]``,
``d log i0e / d kappa = -c``).  That deep in a tail ``E[1 - cos t] >= 600 / kappa`` while ``c
< 1 / kappa``: no cancellation.  Its own pullback has x and mu, not kappa.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.scalar.basic import _special, _tm
from opgraph.kernel_core.scalar.vonmises_cdf import (
    _KA_SMALL, _KB_SMALL, GL_W, GL_X, PI_LO, FloatArrayOp, _geometry, _gl, _interval, _keep_order, _ts_nodes,
    cdf_array, cdf_dkappa_array, one_minus_bessel_ratio)

__all__ = ["VonMisesLogCdf", "VonMisesLogCdfDKappa", "vonmises_logcdf", "vonmises_logcdf_dkappa", "logcdf_array",
           "logcdf_dkappa_array", "DEEP_LOG_F"]

DEEP_LOG_F = -600.0   # below: d log F / d kappa from the scaled moments (vonmises_cdf_dkappa / F underflows)
_AT_PEAK, _AT_START, _AT_END = 0, 1, 2


def _log_gl(xp, a, length, k, at):
    """``(log int_a^{a + length} exp(k (cos t - 1)) dt, the mean of 1 - cos t under it)`` by
    20-point Gauss-Legendre, factored at v: 0 (``at`` = _AT_PEAK: the interval holds the mode),
    a (_AT_START) or a + length (_AT_END)."""
    half = (0.5 * length)[..., None]
    h = half * (1.0 + GL_X)            # node - a
    t = a[..., None] + h
    start, end = at[..., None] == _AT_START, at[..., None] == _AT_END
    v = xp.where(start, a[..., None], xp.where(end, (a + length)[..., None], 0.0))
    dt = xp.where(start, h, xp.where(end, -(half * (1.0 - GL_X)), t))   # node - v
    expo = xp.minimum(-2.0 * k[..., None] * xp.sin(0.5 * (t + v)) * xp.sin(0.5 * dt), 0.0)
    e = GL_W * xp.exp(expo)
    s = xp.sin(0.5 * t)
    s0, s1 = xp.sum(e, axis=-1), xp.sum(e * (2.0 * s * s), axis=-1)
    sv = xp.sin(0.5 * v[..., 0])
    return -2.0 * k * sv * sv + xp.log(0.5 * length * s0), s1 / s0


def _log_tail(xp, y, k, norm, log_norm, keep):
    """``(log T(y), the mean of 1 - cos t over [y, pi])`` for 0 <= y <= pi (``_tail``'s branches;
    the central one's mean is not computed: 0, as it is never that deep in a tail)."""
    sa, ca = xp.sin(0.5 * y), xp.cos(0.5 * y)
    A, B = 2.0 * sa * sa, 2.0 * ca * ca
    kA, kB = k * A, k * B
    direct, direct_m = _log_gl(xp, y, keep(np.pi - y) + PI_LO, k, xp.full(y.shape, _AT_START))
    central = xp.log(0.5 - _gl(xp, xp.zeros_like(y), y, k) / norm)
    w, g, R = _ts_nodes(xp, k, A, B)
    s0 = xp.sum(g, axis=-1)
    far, far_m = -kA + xp.log((0.5 * R) * s0), A + xp.sum(g * w, axis=-1) / s0
    use_direct, use_central = kB <= _KB_SMALL, kA <= _KA_SMALL
    log_t = xp.where(use_direct, direct - log_norm, xp.where(use_central, central, far - log_norm))
    return log_t, xp.where(use_direct, direct_m, xp.where(use_central, 0.0, far_m))


def _log1mexp(d, xp):
    """log(1 - exp(d)) for d <= 0."""
    return xp.where(d > -0.6931471805599453, xp.log(-xp.expm1(d)), xp.log1p(-xp.exp(d)))


def _lower_log(x, mu, kappa, xp, i0e, keep):
    """``(log F, the mean of 1 - cos t over the interval)`` by the log-space pieces, for finite
    kappa > 0 and x in [-pi, pi] (other entries: any value); ``cdf_array``'s branches."""
    _, _, _, k, _, a, L, _ = _interval(x, mu, kappa, xp, keep)
    b, wraps, bw, short = _geometry(a, L, k, xp, keep)
    norm = 2.0 * np.pi * i0e(k)
    log_norm = xp.log(norm)
    ca, cb = xp.cos(a), xp.cos(b)
    peak = ((a <= 0.0) & (b >= 0.0)) | (b >= 2.0 * np.pi)
    at = xp.where(peak, _AT_PEAK, xp.where(ca >= cb, _AT_START, _AT_END))
    by_gl, m_gl = _log_gl(xp, a, L, k, at)
    by_gl = by_gl - log_norm
    lta, ma = _log_tail(xp, xp.abs(a), k, norm, log_norm, keep)
    ltb, mb = _log_tail(xp, xp.abs(bw), k, norm, log_norm, keep)
    # the pieces of cdf_array: U(a) = int_a^pi f0, the lower mass up to bw, and the inside differences
    log_upper_a = xp.where(a >= 0.0, lta, xp.log1p(-xp.exp(lta)))
    log_lower_bw = xp.where(bw <= 0.0, ltb, xp.log1p(-xp.exp(ltb)))
    hi = xp.maximum(log_upper_a, log_lower_bw)
    hi_f = xp.where(xp.isfinite(hi), hi, 0.0)
    pu, pl = xp.exp(log_upper_a - hi_f), xp.exp(log_lower_bw - hi_f)
    by_wrap = hi_f + xp.log(pu + pl)
    m_wrap = (pu * ma + pl * mb) / (pu + pl)   # deep in a tail both pieces are tails T
    ra, rb = xp.exp(ltb - lta), xp.exp(lta - ltb)   # each below 1 where its branch is taken
    linear_mid = (1.0 - xp.exp(lta)) - xp.exp(ltb)
    inside = xp.where(a >= 0.0, lta + _log1mexp(xp.minimum(ltb - lta, 0.0), xp),
                      xp.where(bw <= 0.0, ltb + _log1mexp(xp.minimum(lta - ltb, 0.0), xp), xp.log(linear_mid)))
    m_inside = xp.where(a >= 0.0, (ma - ra * mb) / (1.0 - ra), (mb - rb * ma) / (1.0 - rb))
    log_f = xp.where(short, by_gl, xp.where(wraps, by_wrap, inside))
    return xp.minimum(log_f, 0.0), xp.where(short, m_gl, xp.where(wraps, m_wrap, m_inside))


def logcdf_array(x, mu, kappa, xp, i0e, keep=_keep_order):
    """``vonmises_logcdf`` on broadcast float64 arrays (``cdf_array``'s arguments)."""
    x, mu, kappa = xp.broadcast_arrays(xp.asarray(x, dtype="float64"), xp.asarray(mu, dtype="float64"),
                                       xp.asarray(kappa, dtype="float64"))
    lower = cdf_array(x, mu, kappa, xp, i0e, keep)
    upper = cdf_array(-x, -mu, kappa, xp, i0e, keep)
    log_lower, _ = _lower_log(x, mu, kappa, xp, i0e, keep)
    regular = (kappa > 0.0) & (kappa < np.inf) & (x >= -np.pi) & (x <= np.pi)
    lo = lower < 0.5
    # kappa = 0 / inf, x outside [-pi, pi], nan: the log of the CDF's own limits
    res = xp.where(lo, xp.where(regular, log_lower, xp.log(lower)), xp.log1p(-upper))
    return xp.where(xp.isnan(lower), np.nan, res)


def logcdf_dkappa_array(x, mu, kappa, xp, i0e, keep=_keep_order):
    """``vonmises_logcdf_dkappa``: ``d log F / d kappa`` (0 where F is constant in kappa: x
    outside [-pi, pi], kappa = inf)."""
    x, mu, kappa = xp.broadcast_arrays(xp.asarray(x, dtype="float64"), xp.asarray(mu, dtype="float64"),
                                       xp.asarray(kappa, dtype="float64"))
    log_f = logcdf_array(x, mu, kappa, xp, i0e, keep)
    linear = cdf_dkappa_array(x, mu, kappa, xp, i0e, keep) / xp.exp(xp.maximum(log_f, DEEP_LOG_F))
    _, m = _lower_log(x, mu, kappa, xp, i0e, keep)
    c = one_minus_bessel_ratio(xp.where((kappa > 0.0) & (kappa < np.inf), kappa, 1.0), xp)
    res = xp.where(log_f < DEEP_LOG_F, c - m, linear)
    res = xp.where((x < -np.pi) | (x > np.pi) | (kappa == np.inf), 0.0, res)
    return xp.where(xp.isnan(log_f), np.nan, res)


def _log_density(s, kappa):
    """log f0(s) as a tensor graph (the pullbacks')."""
    from opgraph.kernel_core.tensor.special_functions import i0e

    tm = _tm()
    return kappa * (tm.cos(s) - 1.0) - tm.log(2.0 * np.pi * i0e(kappa))


def _end_ratios(x, mu, kappa, log_f, factor):
    """``d/dx`` and ``d/dmu`` of a log-space integral over [-pi - mu, x - mu]: ``factor(s) f0(s)
    / F`` at the ends as ``exp(log f0(s) - log F)`` (0 where x is outside [-pi, pi])."""
    tm = _tm()
    inside = tm.and_(tm.ge(x, -np.pi), tm.le(x, np.pi))
    safe = tm.switch(inside, log_f, 0.0)

    def at(s):
        return factor(s) * tm.exp(_log_density(s, kappa) - safe)
    at_x = at(x - mu)
    return tm.switch(inside, at_x, 0.0), tm.switch(inside, at(-np.pi - mu) - at_x, 0.0)


class VonMisesLogCdf(FloatArrayOp):
    """``log P(X <= x)`` for X von Mises(mu, kappa) on [-pi, pi] (see the module docstring)."""

    nin = 3

    def array_impl(self, x, mu, kappa):
        return logcdf_array(x, mu, kappa, xp=np, i0e=_special("i0e"))

    def pullback(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.elemwise import Elemwise

        x, mu, kappa = inputs
        (g,) = output_grads
        d_x, d_mu = _end_ratios(x, mu, kappa, outputs[0], lambda s: 1.0)
        return [g * d_x, g * d_mu, g * Elemwise(vonmises_logcdf_dkappa)(x, mu, kappa)]


class VonMisesLogCdfDKappa(FloatArrayOp):
    """``d vonmises_logcdf(x, mu, kappa) / d kappa`` (``logcdf_dkappa_array``)."""

    nin = 3

    def array_impl(self, x, mu, kappa):
        return logcdf_dkappa_array(x, mu, kappa, xp=np, i0e=_special("i0e"))

    def pullback(self, inputs, outputs, output_grads):
        # out = D / F (D = dF/dkappa): d out = (dD - out dF) / F, and at each end dD = (cos s -
        # I1/I0) dF: the factor (cos s - I1/I0 - out) times f0(s) / F
        from opgraph.kernel_core.gradient import grad_not_implemented
        from opgraph.kernel_core.tensor.elemwise import Elemwise
        from opgraph.kernel_core.tensor.special_functions import i0e, i1e

        tm = _tm()
        x, mu, kappa = inputs
        (g,) = output_grads
        out = outputs[0]
        ratio = i1e(kappa) / i0e(kappa)
        log_f = Elemwise(vonmises_logcdf)(x, mu, kappa)
        d_x, d_mu = _end_ratios(x, mu, kappa, log_f, lambda s: tm.cos(s) - ratio - out)
        d_kappa = grad_not_implemented(self, 2, kappa, "the second derivative of vonmises_logcdf with respect "
                                       "to kappa is not implemented")
        return [g * d_x, g * d_mu, d_kappa]


vonmises_logcdf = VonMisesLogCdf()
vonmises_logcdf_dkappa = VonMisesLogCdfDKappa()

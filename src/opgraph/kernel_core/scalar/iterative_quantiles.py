"""Quantiles by Newton iteration as scalar ops (one node each: an unrolled graph of 40 steps
costs NUMBA a minute of compiling):

- ``wald_unit_quantile(q, phi)``: the q-quantile of the inverse Gaussian of mean 1 and shape
  ``phi``.  Newton in ``z = log u`` on ``log P(U <= u) - log q`` (q <= 1/2) or ``log P(U > u)
  - log(1 - q)``; the log-density of ``log U``, ``-z/2 - phi (cosh z - 1)``, is concave, so
  both are concave and monotone in z and Newton converges monotonically after its first
  step (steps limited to 2 in z).  Start: the lognormal with the same mean and variance.
  ``log P(U <= u) = log(Phi(z1) + exp(2 phi) Phi(-z2))`` with ``exp(2 phi) Phi(-z2) =
  exp(-z1^2/2) erfcx(z2/sqrt2) / 2`` (z1, z2 = sqrt(phi/u) (u -+ 1), z2^2 - z1^2 = 4 phi: no
  exp(2 phi)); ``P(U > u) = exp(-z1^2/2) (erfcx(z1/sqrt2) - erfcx(z2/sqrt2)) / 2`` for u >= 1
  (relative accuracy about 1e-16 u: the quantile moves by at most 1e-16 / phi relatively).
  Checked against 60-digit Newton to 7e-11 for phi from 5e-6 to 1e18, q from 1e-12 to 1 - 1e-12.
- ``vonmises_lower_quantile(p, mu, kappa)``: x in [-pi, pi] with ``vonmises_cdf(x, mu, kappa)
  = p`` for 0 < p <= 1/2 (the upper half by the reflection X -> -X, in the logprob rule):
  bracketed Newton in log space (``log F - log p``; bisection where a step leaves the
  bracket) from the normal approximation around the mode (kappa > 2) or the uniform quantile.

Each has an array algorithm (``*_array(..., xp, fns)``: NumPy for ``perform``, jax.numpy in
the JAX backend, with a fixed number of steps, converged entries unchanged by further
steps) and a Numba kernel with the same arithmetic per element.  Gradients by the implicit
function: ``du/dq = 1 / f(u)``, ``du/dphi = -(dF/dphi) / f(u)``; for the von Mises quantile
``dx/dp = 1 / f(x)``, ``dx/dmu = 1 - f0(-pi - mu) / f0(x - mu)``, ``dx/dkappa = -(dF/dkappa) /
f(x)`` (``vonmises_cdf.VonMisesCdfDKappa``).
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.scalar.basic import _special, _tm
from opgraph.kernel_core.scalar.vonmises_cdf import PI_LO, FloatArrayOp, cdf_array, cdf_dkappa, density_f0

__all__ = ["WaldUnitQuantile", "VonMisesLowerQuantile", "wald_unit_quantile", "vonmises_lower_quantile",
           "wald_quantile_array", "vonmises_lower_quantile_array", "WALD_STEPS", "VONMISES_STEPS"]

WALD_STEPS = 40
WALD_MAX_STEP = 2.0
VONMISES_STEPS = 40
_SQRT2 = np.sqrt(2.0)
_LOG_2PI = np.log(2.0 * np.pi)


def _wald_logs(xp, fns, u, phi):
    """(log P(U <= u), log P(U > u), log f(u)) for U ~ IG(1, phi)."""
    r = xp.sqrt(phi / u)
    z1, z2 = r * (u - 1.0), r * (u + 1.0)
    half_sq = 0.5 * z1 * z1
    ex2 = fns.erfcx(z2 / _SQRT2)
    left = z1 < 0.0
    both_left = -half_sq + xp.log(0.5 * (fns.erfcx(-z1 / _SQRT2) + ex2))
    # right of the mean: log(Phi(z1) + small), Phi(z1) = 1 - erfc(z1/sqrt2)/2
    small = xp.exp(-half_sq) * 0.5 * ex2
    right = xp.log1p(small - 0.5 * fns.erfc(z1 / _SQRT2))
    log_cdf = xp.where(left, both_left, right)
    log_sf = xp.where(u >= 1.0, -half_sq + xp.log(0.5 * (fns.erfcx(z1 / _SQRT2) - ex2)),
                      xp.log1p(-xp.exp(log_cdf)))
    log_pdf = 0.5 * (xp.log(phi) - _LOG_2PI - 3.0 * xp.log(u)) - phi * (u - 1.0) ** 2 / (2.0 * u)
    return log_cdf, log_sf, log_pdf


def wald_quantile_array(q, phi, xp, fns, loop):
    """``wald_unit_quantile`` on arrays; ``fns`` has ``erfc``, ``erfcx``, ``ndtri``, and
    ``loop(n, body, state)`` runs ``state = body(state)`` n times."""
    q, phi = xp.broadcast_arrays(xp.asarray(q, dtype="float64"), xp.asarray(phi, dtype="float64"))
    bad = xp.isnan(q) | xp.isnan(phi) | (q < 0.0) | (q > 1.0) | ~(phi > 0.0)
    inside = (q > 0.0) & (q < 1.0) & ~bad
    qs = xp.where(inside, q, 0.5)
    ph = xp.where(bad, 1.0, phi)
    ph = xp.where(ph == np.inf, 1e300, ph)
    upper = qs > 0.5
    target = xp.where(upper, xp.log1p(-qs), xp.log(qs))
    s2 = xp.log1p(1.0 / ph)
    z0 = -0.5 * s2 + xp.sqrt(s2) * fns.ndtri(qs)

    def body(z):
        u = xp.exp(z)
        log_cdf, log_sf, log_pdf = _wald_logs(xp, fns, u, ph)
        h = xp.where(upper, log_sf, log_cdf) - target
        slope = xp.where(upper, -xp.exp(z + log_pdf - log_sf), xp.exp(z + log_pdf - log_cdf))
        step = xp.clip(-h / slope, -WALD_MAX_STEP, WALD_MAX_STEP)
        return z + xp.where(xp.isnan(step), 0.0, step)

    u = xp.exp(loop(WALD_STEPS, body, z0))
    res = xp.where(q == 0.0, 0.0, xp.where(q == 1.0, np.inf, u))
    return xp.where(bad, np.nan, res)


def _vm_density(xp, i0e, x, mu, k):
    return xp.exp(k * (xp.cos(x - mu) - 1.0)) / (2.0 * np.pi * i0e(k))


def vonmises_lower_quantile_array(p, mu, kappa, xp, fns, loop):
    """``vonmises_lower_quantile`` on arrays; ``fns`` has ``i0e`` and ``ndtri``."""
    p, mu, kappa = xp.broadcast_arrays(xp.asarray(p, dtype="float64"), xp.asarray(mu, dtype="float64"),
                                       xp.asarray(kappa, dtype="float64"))
    bad = xp.isnan(p) | xp.isnan(mu) | xp.isinf(mu) | ~(kappa > 0.0) | (kappa == np.inf) | (p < 0.0) | (p > 0.5)
    ps = xp.where(bad | (p == 0.0), 0.25, p)
    m = xp.where(bad, 0.0, mu)
    k = xp.where(bad, 1.0, kappa)
    n = xp.floor(-m / (2.0 * np.pi))
    odd = 2.0 * n + 1.0
    a = (-m - odd * np.pi) - odd * PI_LO
    mode = xp.clip(xp.where(a > 0.0, np.pi - a, -np.pi - a), -np.pi, np.pi)
    below_mode = cdf_array(mode, m, k, xp, fns.i0e, fns.keep)
    centered = xp.clip(ps - below_mode + 0.5, 1e-300, 1.0 - 1e-16)
    guess = xp.where(k > 2.0, mode + fns.ndtri(centered) / xp.sqrt(k), -np.pi + 2.0 * np.pi * ps)
    x0 = xp.clip(guess, -np.pi, np.pi)
    log_p = xp.log(ps)

    def body(state):
        x, lo, hi = state
        F = cdf_array(x, m, k, xp, fns.i0e, fns.keep)
        below = F < ps
        lo = xp.where(below, x, lo)
        hi = xp.where(below, hi, x)
        newton = x - (xp.log(F) - log_p) * F / _vm_density(xp, fns.i0e, x, m, k)
        ok = (newton >= lo) & (newton <= hi)
        return xp.where(ok, newton, 0.5 * (lo + hi)), lo, hi

    x, lo, hi = loop(VONMISES_STEPS, body, (x0, xp.zeros_like(x0) - np.pi, xp.zeros_like(x0) + np.pi))
    # a last Newton step on F itself (where the log-space steps stalled at a bracket end)
    dens = _vm_density(xp, fns.i0e, x, m, k)
    last = x + (ps - cdf_array(x, m, k, xp, fns.i0e, fns.keep)) / xp.where(dens > 0.0, dens, 1.0)
    x = xp.where(dens > 0.0, xp.clip(last, lo, hi), x)
    res = xp.where(p == 0.0, -np.pi, x)
    return xp.where(bad, np.nan, res)


def _python_loop(n, body, state):
    for _ in range(n):
        state = body(state)
    return state


class _NumPyFns:
    erfc, erfcx, ndtri, i0e = _special("erfc"), _special("erfcx"), _special("ndtri"), _special("i0e")

    @staticmethod
    def keep(v):   # cdf_array's order-keeping identity (NumPy does not reassociate)
        return v


class WaldUnitQuantile(FloatArrayOp):
    """The q-quantile of the inverse Gaussian of mean 1 and shape phi (see the module docstring)."""

    nin = 2

    def array_impl(self, q, phi):
        return wald_quantile_array(q, phi, xp=np, fns=_NumPyFns, loop=_python_loop)

    def pullback(self, inputs, outputs, output_grads):
        tm = _tm()
        q, phi = inputs
        (u,) = outputs
        (g,) = output_grads
        z1 = tm.sqrt(phi / u) * (u - 1.0)
        z2 = tm.sqrt(phi / u) * (u + 1.0)
        log_pdf = 0.5 * (tm.log(phi) - _LOG_2PI - 3.0 * tm.log(u)) - phi * tm.sqr(u - 1.0) / (2.0 * u)
        d_q = tm.exp(-log_pdf)
        # dF/dphi / f(u) with the common factor exp(-z1^2 / 2) cancelled
        d_phi = -(tm.erfcx(z2 / _SQRT2) - 1.0 / tm.sqrt(2.0 * np.pi * phi * u)) / tm.sqrt(phi / (2.0 * np.pi * u ** 3))
        inside = tm.and_(tm.gt(q, 0.0), tm.lt(q, 1.0))
        return [g * tm.switch(inside, d_q, 0.0), g * tm.switch(inside, d_phi, 0.0)]


class VonMisesLowerQuantile(FloatArrayOp):
    """x in [-pi, pi] with vonmises_cdf(x, mu, kappa) = p, 0 <= p <= 1/2 (nan above)."""

    nin = 3

    def array_impl(self, p, mu, kappa):
        return vonmises_lower_quantile_array(p, mu, kappa, xp=np, fns=_NumPyFns, loop=_python_loop)

    def pullback(self, inputs, outputs, output_grads):
        tm = _tm()
        p, mu, kappa = inputs
        (x,) = outputs
        (g,) = output_grads
        dens = density_f0(x - mu, kappa)
        ratio = tm.exp(kappa * (-tm.cos(mu) - tm.cos(x - mu)))   # f0(-pi - mu) / f0(x - mu)
        ok = tm.gt(p, 0.0)
        d_kappa = -cdf_dkappa(x, mu, kappa) / dens
        return [g * tm.switch(ok, 1.0 / dens, 0.0), g * tm.switch(ok, 1.0 - ratio, 0.0),
                g * tm.switch(ok, d_kappa, 0.0)]


wald_unit_quantile = WaldUnitQuantile()
vonmises_lower_quantile = VonMisesLowerQuantile()

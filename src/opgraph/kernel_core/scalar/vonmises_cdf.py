"""The von Mises CDF as one scalar op: ``vonmises_cdf(x, mu, kappa) = P(X <= x)`` for the
von Mises variable of ``pt.random.vonmises(mu, kappa)``, whose values lie in [-pi, pi]
(NumPy's sampler wraps them there: the density ``exp(kappa cos(x - mu)) / (2 pi I0(kappa))``
on [-pi, pi] for any ``mu``).  For ``mu = 0`` it is ``scipy.stats.vonmises(kappa).cdf`` on
[-pi, pi]; for other ``mu`` it differs from SciPy's ``cdf(x, kappa, loc=mu)`` (support
[mu - pi, mu + pi]) by the constant mass SciPy puts below -pi.

No closed form, and SciPy's method (a Bessel series for kappa < 50, a normal approximation
above: relative errors of 1e-4 in the tails at kappa = 800) is accurate in absolute terms
only.  Here every value is accurate in relative terms, tails included, to about 1e-12
(checked against 30-digit quadrature for kappa from 1e-8 to 1e12; ``tests/kernel_core/
scalar/test_vonmises_cdf.py``).  With ``f0(t) = exp(kappa (cos t - 1)) / (2 pi i0e(kappa))``
the probability is the mass of f0 over ``[a, a + L]``: ``a`` is ``-pi - mu`` reduced to
[-pi, pi), ``L = x + pi`` (pi in two parts, so ``x = -pi`` gives the mass of the 1.2e-16
between float pi and pi).  That mass is

- a 20-point Gauss-Legendre sum over the interval where ``kappa`` times the range of
  ``cos`` on it is at most 4 (the integrand varies by e^4 at most: short intervals and
  small kappa); otherwise
- a sum / difference of the tails ``T(y) = int_y^pi f0`` (0 <= y <= pi) at both ends, never
  a difference of nearly equal terms (the range above 4 keeps the smaller tail below e^-4
  of the larger).

``T(y)``: with ``A = 1 - cos y``, ``B = 1 + cos y`` (as ``2 sin^2(y/2)``, ``2 cos^2(y/2)``),
Gauss-Legendre on [y, pi] where ``kappa B <= 4``; ``1/2 - `` Gauss-Legendre on [0, y] where
``kappa A <= 1`` (the center: T >= 0.08, no cancellation); elsewhere ``w = cos y - cos t``
and ``r = 1 - exp(-kappa w)`` turn it into ``exp(-kappa A) / kappa int_0^R dr /
sqrt((A + w)(B - w))``, ``R = 1 - exp(-kappa B)``, summed by tanh-sinh quadrature (161
nodes, step 1/16: the 1/sqrt endpoint singularity at R is where tanh-sinh is exact to the
last digits; ``1 - r`` and ``B - w`` near R come from the node's distance to R, not from
rounded differences).

Limits: ``x`` below -pi gives 0, above pi 1; ``kappa = 0`` the uniform CDF ``(x + pi) /
(2 pi)``; ``kappa = inf`` a step at ``mu`` reduced to [-pi, pi); ``kappa < 0`` and any nan
or an infinite ``mu`` give nan.

``cdf_array(x, mu, kappa, xp, i0e, keep)`` is the algorithm on arrays of any array namespace
``xp`` with NumPy's functions (NumPy for ``perform``; the JAX backend passes its own).
``keep`` marks the sums whose order carries digits (``(x + pi) + PI_LO``): a compiler that
reassociates constants (XLA folds ``(v + c1) + c2`` into ``v + (c1 + c2)``, losing ``PI_LO``:
the 1e-19 mass at ``x = -pi``) must not look through it; the JAX backend passes
``jax.lax.optimization_barrier``, NumPy the identity;
the Numba kernel is the same arithmetic per element.  The pullback: ``dF/dx`` is the
density, ``dF/dmu = f0(-pi - mu) - f0(x - mu)``; the derivative in ``kappa`` (an integral
of ``cos`` against the density) is not implemented.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.scalar.basic import ScalarOp, _as_float_args, _real_only, _special, _tm, upgrade_to_float

__all__ = ["VonMisesCdf", "vonmises_cdf", "cdf_array", "i0e_array", "PI_LO", "GL_X", "GL_W", "TS_ONE_PLUS", "TS_ONE_MINUS",
           "TS_W"]

PI_LO = 1.2246467991473532e-16   # pi - float(pi)
GL_X, GL_W = np.polynomial.legendre.leggauss(20)


def _tanh_sinh(h, n):
    """Nodes of tanh-sinh quadrature on [-1, 1] as (1 + x, 1 - x) (each exact near its end)
    and weights; nodes whose weight underflows are dropped."""
    t = h * np.arange(-n, n + 1)
    s = 0.5 * np.pi * np.sinh(t)
    with np.errstate(over="ignore"):
        one_minus = 2.0 / (np.exp(2.0 * s) + 1.0)
        one_plus = 2.0 / (np.exp(-2.0 * s) + 1.0)
        w = h * 0.5 * np.pi * np.cosh(t) / np.cosh(s) ** 2
    keep = (one_minus > 0.0) & (one_plus > 0.0) & (w > 0.0)
    return one_plus[keep], one_minus[keep], w[keep]


TS_ONE_PLUS, TS_ONE_MINUS, TS_W = _tanh_sinh(1.0 / 16.0, 80)
_V_MAX = 4.0       # kappa times the range of cos over an interval summed by Gauss-Legendre
_KB_SMALL = 4.0    # T(y) by Gauss-Legendre on [y, pi] where kappa (1 + cos y) <= 4
_KA_SMALL = 1.0    # T(y) = 1/2 - Gauss-Legendre on [0, y] where kappa (1 - cos y) <= 1


def _gl(xp, a, length, k):
    """int_a^{a + length} exp(kappa (cos t - 1)) dt (unnormalized), 20-point Gauss-Legendre."""
    t = a[..., None] + (0.5 * length)[..., None] * (1.0 + GL_X)
    s = xp.sin(0.5 * t)
    return 0.5 * length * xp.sum(GL_W * xp.exp(-2.0 * k[..., None] * s * s), axis=-1)


def _keep_order(v):
    return v


def _tail(xp, y, k, norm, keep=_keep_order):
    """T(y) = int_y^pi f0 for 0 <= y <= pi (k > 0 finite)."""
    sa, ca = xp.sin(0.5 * y), xp.cos(0.5 * y)
    A, B = 2.0 * sa * sa, 2.0 * ca * ca
    kA, kB = k * A, k * B
    direct = _gl(xp, y, keep(np.pi - y) + PI_LO, k)
    central = 0.5 * norm - _gl(xp, xp.zeros_like(y), y, k)
    # tanh-sinh in r = 1 - exp(-k w), w = cos y - cos t in [0, B]
    R = -xp.expm1(-kB)
    r = (0.5 * R)[..., None] * TS_ONE_PLUS
    Rr = (0.5 * R)[..., None] * TS_ONE_MINUS          # R - r, exact near R
    kk, AA, BB, kBB = k[..., None], A[..., None], B[..., None], kB[..., None]
    near_end = r > 0.5
    one_minus_r = xp.where(near_end, xp.exp(-kBB) + Rr, 1.0)
    log_1mr = xp.where(near_end, xp.log(one_minus_r), xp.log1p(-xp.where(near_end, 0.0, r)))
    w = -log_1mr / kk
    # B - w = log1p((R - r) e^{kB}) / k; where e^{kB} overflows, B + log(R - r) / k (the
    # nodes there carry no weight).
    huge = kBB > 700.0
    b_minus_w = xp.where(huge, xp.maximum(BB + xp.log(xp.where(Rr > 0.0, Rr, 1.0)) / kk, 0.0),
                         xp.log1p(Rr * xp.exp(xp.minimum(kBB, 700.0))) / kk)
    prod = (AA + w) * b_minus_w
    ok = prod > 0.0
    g = xp.where(ok, 1.0 / (kk * xp.sqrt(xp.where(ok, prod, 1.0))), 0.0)
    far = xp.exp(-kA) * (0.5 * R) * xp.sum(TS_W * g, axis=-1)
    return xp.where(kB <= _KB_SMALL, direct, xp.where(kA <= _KA_SMALL, central, far)) / norm


def i0e_array(k, xp):
    """``i0e(k)`` for k > 0 finite, by the same quadratures: ``pi i0e(k) = int_0^pi exp(k (cos t
    - 1)) dt`` (Gauss-Legendre for k <= 2, the tanh-sinh form of the tails at y = 0 above;
    within 2e-15 of SciPy's for k from 1e-10 to 1e14).  For array libraries whose own i0e is
    not accurate to the last digits (jax.scipy.special.i0e: 3e-7)."""
    y = xp.zeros_like(k)
    direct = _gl(xp, y, y + (np.pi + PI_LO), k)
    kB = 2.0 * k
    R = -xp.expm1(-kB)
    r = (0.5 * R)[..., None] * TS_ONE_PLUS
    Rr = (0.5 * R)[..., None] * TS_ONE_MINUS
    kk, kBB = k[..., None], kB[..., None]
    near_end = r > 0.5
    log_1mr = xp.where(near_end, xp.log(xp.exp(-kBB) + Rr), xp.log1p(-xp.where(near_end, 0.0, r)))
    w = -log_1mr / kk
    b_minus_w = xp.where(kBB > 700.0, xp.maximum(2.0 + xp.log(xp.where(Rr > 0.0, Rr, 1.0)) / kk, 0.0),
                         xp.log1p(Rr * xp.exp(xp.minimum(kBB, 700.0))) / kk)
    prod = w * b_minus_w
    ok = prod > 0.0
    g = xp.where(ok, 1.0 / (kk * xp.sqrt(xp.where(ok, prod, 1.0))), 0.0)
    far = (0.5 * R) * xp.sum(TS_W * g, axis=-1)
    return xp.where(kB <= _KB_SMALL, direct, far) / np.pi


def cdf_array(x, mu, kappa, xp, i0e, keep=_keep_order):
    """``vonmises_cdf`` on broadcast float64 arrays, with the array namespace ``xp``, its
    exponentially scaled Bessel function ``i0e`` and its order-keeping identity ``keep``."""
    x, mu, kappa = xp.broadcast_arrays(xp.asarray(x, dtype="float64"), xp.asarray(mu, dtype="float64"),
                                       xp.asarray(kappa, dtype="float64"))
    bad = xp.isnan(x) | xp.isnan(mu) | xp.isnan(kappa) | xp.isinf(mu) | (kappa < 0.0)
    finite_k = (kappa > 0.0) & (kappa < np.inf)
    k = xp.where(finite_k, kappa, 1.0)
    m = xp.where(bad, 0.0, mu)
    xs = xp.clip(xp.where(xp.isnan(x), 0.0, x), -np.pi, np.pi)
    # a = -pi - mu reduced to [-pi, pi); length L = x + pi
    n = xp.floor(-m / (2.0 * np.pi))
    odd = 2.0 * n + 1.0
    a = xp.clip((-m - odd * np.pi) - odd * PI_LO, -np.pi, np.pi)
    a = xp.where(a >= np.pi, -np.pi, a)
    L = keep(xs + np.pi) + PI_LO
    b = a + L
    wraps = b > np.pi
    bw = xp.where(wraps, keep(b - 2.0 * np.pi) - 2.0 * PI_LO, b)
    bw = xp.clip(bw, -np.pi, np.pi)
    norm = 2.0 * np.pi * i0e(k)
    # range of cos over [a, b] on the real line (b <= a + 2 pi): max 1 at 0 or 2 pi inside,
    # min -1 at pi inside
    ca, cb = xp.cos(a), xp.cos(b)
    has_peak = ((a <= 0.0) & (b >= 0.0)) | (b >= 2.0 * np.pi)
    has_trough = b >= np.pi
    vmax = xp.where(has_peak, 1.0, xp.maximum(ca, cb))
    vmin = xp.where(has_trough, -1.0, xp.minimum(ca, cb))
    short = k * (vmax - vmin) <= _V_MAX
    by_gl = _gl(xp, a, L, k) / norm
    ta, tb = _tail(xp, xp.abs(a), k, norm, keep), _tail(xp, xp.abs(bw), k, norm, keep)
    # upper mass U(s) = int_s^pi f0, lower mass int_-pi^s f0, from the tails
    upper_a = xp.where(a >= 0.0, ta, 1.0 - ta)
    lower_bw = xp.where(bw <= 0.0, tb, 1.0 - tb)
    inside = xp.where(a >= 0.0, ta - tb, xp.where(bw <= 0.0, tb - ta, (1.0 - ta) - tb))
    by_tails = xp.where(wraps, upper_a + lower_bw, inside)
    res = xp.clip(xp.where(short, by_gl, by_tails), 0.0, 1.0)
    # limits
    uniform = xp.minimum(L / (2.0 * np.pi), 1.0)
    mode = xp.where(a > 0.0, np.pi - a, -np.pi - a)   # x where t - mu is 0 or 2 pi: mu reduced to [-pi, pi]
    step = xp.where(xs >= mode, 1.0, 0.0)
    res = xp.where(kappa == 0.0, uniform, xp.where(kappa == np.inf, step, res))
    res = xp.where(x < -np.pi, 0.0, xp.where(x > np.pi, 1.0, res))
    return xp.where(bad, np.nan, res)


def density_f0(s, kappa):
    """The von Mises density at ``s`` (mu = 0) as a tensor graph (the pullback's)."""
    from opgraph.kernel_core.tensor.special_functions import i0e

    tm = _tm()
    return tm.exp(kappa * (tm.cos(s) - 1.0)) / (2.0 * np.pi * i0e(kappa))


class VonMisesCdf(ScalarOp):
    """``P(X <= x)`` for X von Mises(mu, kappa) on [-pi, pi] (see the module docstring)."""

    nin = 3
    output_dtypes = _real_only(upgrade_to_float)

    def impl(self, x, mu, kappa):
        args = [np.asarray(a, dtype="float64") for a in _as_float_args(self, (x, mu, kappa))]
        with np.errstate(all="ignore"):
            return cdf_array(*args, xp=np, i0e=_special("i0e"))

    def pullback(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.gradient import grad_not_implemented

        tm = _tm()
        x, mu, kappa = inputs
        (g,) = output_grads
        inside = tm.and_(tm.ge(x, -np.pi), tm.le(x, np.pi))
        dens_x = density_f0(x - mu, kappa)
        d_x = tm.switch(inside, dens_x, 0.0)
        d_mu = tm.switch(inside, density_f0(-np.pi - mu, kappa) - dens_x, 0.0)
        d_kappa = grad_not_implemented(self, 2, kappa, "the derivative of vonmises_cdf with respect to kappa "
                                       "(an integral against the density) is not implemented")
        return [g * d_x, g * d_mu, d_kappa]


vonmises_cdf = VonMisesCdf()

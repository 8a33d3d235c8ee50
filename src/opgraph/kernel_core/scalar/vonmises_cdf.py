"""The von Mises CDF as one scalar op: ``vonmises_cdf(x, mu, kappa) = P(X <= x)`` for the
von Mises variable of ``pt.random.vonmises(mu, kappa)``, whose values lie in [-pi, pi]
(NumPy's sampler wraps them there: the density ``exp(kappa cos(x - mu)) / (2 pi I0(kappa))``
on [-pi, pi] for any ``mu``).  For ``mu = 0`` it is ``scipy.stats.vonmises(kappa).cdf`` on
[-pi, pi]; for other ``mu`` it differs from SciPy's ``cdf(x, kappa, loc=mu)`` (support
[mu - pi, mu + pi]) by the constant mass SciPy puts below -pi.

No closed form, and SciPy's method (a Bessel series for kappa < 50, a normal approximation
above: relative errors of 1e-4 in the tails at kappa = 800) is accurate in absolute terms
only.  Here every value is accurate in relative terms, tails included, to about 1e-11
(against 30-digit quadrature for kappa from 1e-8 to 1e12: at most 1.1e-12 on the grid of
tests/kernel_core/logprob/test_distributions.py, whose references are in
``_iterative_refs.py``; 6e-12 measured at x = -2, mu = 0.3, kappa = 300).  With ``f0(t) = exp(kappa (cos t - 1)) / (2 pi i0e(kappa))``
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
density, ``dF/dmu = f0(-pi - mu) - f0(x - mu)``, ``dF/dkappa`` the op ``VonMisesCdfDKappa``:
``int (cos t - I1/I0) f0`` over the same interval (``cdf_dkappa_array``, the same quadratures
with the factor ``(1 - I1/I0) - (1 - cos t)``, ``1 - I1/I0`` from ``int (1 - cos t) exp(kappa
(cos t - 1))``: no cancellation at large kappa; each tail's sum of one sign; against 30-digit
quadrature for kappa from 1e-3 to 1e5: within 5e-15 of the integral of the integrand's
magnitude, and relatively where the integrand keeps one sign, to 3e-12 deep in the tails as
the CDF's own tanh-sinh sums; ``tests/kernel_core/scalar/test_iterative_quantile_grads.py``).
Its own pullback has x and mu (the integrand at the ends), not kappa.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.scalar.basic import ScalarOp, _as_float_args, _real_only, _special, _tm, upgrade_to_float

__all__ = ["FloatArrayOp", "VonMisesCdf", "VonMisesCdfDKappa", "vonmises_cdf", "vonmises_cdf_dkappa", "cdf_array",
           "cdf_dkappa_array", "one_minus_bessel_ratio", "i0e_array", "PI_LO", "GL_X", "GL_W", "TS_ONE_PLUS",
           "TS_ONE_MINUS", "TS_W"]

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


def _ts_nodes(xp, k, A, B):
    """tanh-sinh in r = 1 - exp(-k w), w = cos y - cos t in [0, B] (A = 1 - cos y, B = 1 + cos
    y): the nodes w and the weights of ``int_0^R dr / (k sqrt((A + w)(B - w)))``, R = 1 -
    exp(-k B), without the factor R / 2 (``int_y^pi exp(k (cos t - 1)) h(cos t) dt = exp(-k
    A) R / 2 sum(weights h)``)."""
    kB = k * B
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
    return w, TS_W * xp.where(ok, 1.0 / (kk * xp.sqrt(xp.where(ok, prod, 1.0))), 0.0), R


def _tail(xp, y, k, norm, keep=_keep_order):
    """T(y) = int_y^pi f0 for 0 <= y <= pi (k > 0 finite)."""
    sa, ca = xp.sin(0.5 * y), xp.cos(0.5 * y)
    A, B = 2.0 * sa * sa, 2.0 * ca * ca
    kA, kB = k * A, k * B
    direct = _gl(xp, y, keep(np.pi - y) + PI_LO, k)
    central = 0.5 * norm - _gl(xp, xp.zeros_like(y), y, k)
    _, g, R = _ts_nodes(xp, k, A, B)
    far = xp.exp(-kA) * (0.5 * R) * xp.sum(g, axis=-1)
    return xp.where(kB <= _KB_SMALL, direct, xp.where(kA <= _KA_SMALL, central, far)) / norm


def _bessel_sums(k, xp):
    """``(pi i0e(k), pi (i0e(k) - i1e(k)))`` for k > 0 finite: ``int_0^pi h(w) exp(-k w) dt`` with
    ``w = 1 - cos t`` and h = 1, w, by the same nodes (Gauss-Legendre for k <= 2, the tanh-sinh
    form of the tails at y = 0 above).  The second has no difference of nearly equal terms:
    ``1 - I1/I0`` from their ratio keeps its digits at large k (about 1 / (2 k))."""
    y = xp.zeros_like(k)
    t = y[..., None] + (0.5 * (np.pi + PI_LO)) * (1.0 + GL_X)
    s = xp.sin(0.5 * t)
    w_gl = 2.0 * s * s
    e_gl = GL_W * xp.exp(-k[..., None] * w_gl)
    half = 0.5 * (np.pi + PI_LO)
    direct, direct_w = half * xp.sum(e_gl, axis=-1), half * xp.sum(e_gl * w_gl, axis=-1)
    w, g, R = _ts_nodes(xp, k, y, y + 2.0)
    far, far_w = (0.5 * R) * xp.sum(g, axis=-1), (0.5 * R) * xp.sum(g * w, axis=-1)
    small = 2.0 * k <= _KB_SMALL
    return xp.where(small, direct, far), xp.where(small, direct_w, far_w)


def i0e_array(k, xp):
    """``i0e(k)`` for k > 0 finite, by the module's quadratures (``_bessel_sums``; within 2e-15
    of SciPy's for k from 1e-10 to 1e14).  For array libraries whose own i0e is not accurate
    to the last digits (jax.scipy.special.i0e: 3e-7)."""
    return _bessel_sums(k, xp)[0] / np.pi


def one_minus_bessel_ratio(k, xp):
    """``1 - I1(k) / I0(k)`` for k > 0 finite, accurate in relative terms (``_bessel_sums``)."""
    i0, i0_minus_i1 = _bessel_sums(k, xp)
    return i0_minus_i1 / i0


def _interval(x, mu, kappa, xp, keep):
    """The CDF's interval for ``cdf_array`` and ``cdf_dkappa_array``: broadcast float64 inputs,
    where the result is nan, kappa where finite and > 0 (else 1), x clipped to [-pi, pi], ``a``
    (-pi - mu reduced to [-pi, pi)) and ``L`` (x + pi)."""
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
    return x, kappa, bad, k, xs, a, L, m


def _reduced(v, xp):
    """``v`` reduced to [-pi, pi) (by 2 pi in two parts)."""
    n = xp.floor((v + np.pi) / (2.0 * np.pi))
    r = xp.clip((v - n * (2.0 * np.pi)) - n * (2.0 * PI_LO), -np.pi, np.pi)
    return xp.where(r >= np.pi, -np.pi, r)


def _geometry(a, L, k, xp, keep):
    """For the interval [a, a + L] of f0's argument (a in [-pi, pi), L <= 2 pi): its end ``b``,
    whether it wraps past pi, ``bw`` (b wrapped into [-pi, pi]) and whether it is short (kappa
    times the range of cos on it <= 4)."""
    b = a + L
    wraps = b > np.pi
    bw = xp.where(wraps, keep(b - 2.0 * np.pi) - 2.0 * PI_LO, b)
    bw = xp.clip(bw, -np.pi, np.pi)
    # range of cos over [a, b] on the real line (b <= a + 2 pi): max 1 at 0 or 2 pi inside,
    # min -1 at pi inside
    ca, cb = xp.cos(a), xp.cos(b)
    has_peak = ((a <= 0.0) & (b >= 0.0)) | (b >= 2.0 * np.pi)
    has_trough = b >= np.pi
    vmax = xp.where(has_peak, 1.0, xp.maximum(ca, cb))
    vmin = xp.where(has_trough, -1.0, xp.minimum(ca, cb))
    return b, wraps, bw, k * (vmax - vmin) <= _V_MAX


def cdf_array(x, mu, kappa, xp, i0e, keep=_keep_order):
    """``vonmises_cdf`` on broadcast float64 arrays, with the array namespace ``xp``, its
    exponentially scaled Bessel function ``i0e`` and its order-keeping identity ``keep``."""
    x, kappa, bad, k, xs, a, L, _ = _interval(x, mu, kappa, xp, keep)
    b, wraps, bw, short = _geometry(a, L, k, xp, keep)
    norm = 2.0 * np.pi * i0e(k)
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


# -- the derivative in kappa ------------------------------------------------------------------------
def _gl_dk(xp, a, length, k, c):
    """int_a^{a + length} (c - (1 - cos t)) exp(kappa (cos t - 1)) dt (unnormalized; c = 1 - I1/I0,
    so the factor is cos t - I1/I0), 20-point Gauss-Legendre."""
    t = a[..., None] + (0.5 * length)[..., None] * (1.0 + GL_X)
    s = xp.sin(0.5 * t)
    w = 2.0 * s * s
    return 0.5 * length * xp.sum(GL_W * (c[..., None] - w) * xp.exp(-k[..., None] * w), axis=-1)


def _tail_dk(xp, y, k, norm, c, keep=_keep_order):
    """D(y) = int_y^pi (cos t - I1/I0) f0 for 0 <= y <= pi (k > 0 finite; D(0) = D(pi) = 0,
    D <= 0 between), each branch a sum of terms of one sign: ``-int_0^y`` where cos y > I1/I0
    (1 - cos y < c: the factor is positive on [0, y], and k (1 - cos y) < k c < 1/2), else
    Gauss-Legendre on [y, pi] where k (1 + cos y) <= 4, else ``_tail``'s tanh-sinh form with
    the factor ``c - A - w`` (<= 0) at its nodes."""
    sa, ca = xp.sin(0.5 * y), xp.cos(0.5 * y)
    A, B = 2.0 * sa * sa, 2.0 * ca * ca
    kA, kB = k * A, k * B
    central = -_gl_dk(xp, xp.zeros_like(y), y, k, c)
    direct = _gl_dk(xp, y, keep(np.pi - y) + PI_LO, k, c)
    w, g, R = _ts_nodes(xp, k, A, B)   # the factor c - A - w: both terms <= 0 here
    far = xp.exp(-kA) * (0.5 * R) * ((c - A) * xp.sum(g, axis=-1) - xp.sum(g * w, axis=-1))
    return xp.where(A < c, central, xp.where(kB <= _KB_SMALL, direct, far)) / norm


def cdf_dkappa_array(x, mu, kappa, xp, i0e, keep=_keep_order):
    """``vonmises_cdf_dkappa``: the derivative of ``cdf_array`` in kappa, ``int (cos t - I1/I0)
    f0`` over the CDF's interval (differentiated under the integral; ``d log I0 / d kappa = I1 /
    I0``).  The integral over the whole circle is 0: where the interval is longer than pi, minus
    the integral over the rest of the circle (x to pi: shorter, and the upper tail keeps its
    digits).  Then the CDF's branches: Gauss-Legendre on short intervals without the mode, else
    the tails D of ``_tail_dk`` at both ends (``1 - T`` becomes ``-D``).  Accurate in relative terms where the
    integrand keeps one sign on the interval (the tails, x on one side of the mode); where it
    changes sign, relative to the integral of its magnitude.  kappa = 0: ``(sin(x - mu) +
    sin(mu)) / (2 pi)``; kappa = inf and x outside [-pi, pi]: 0."""
    x, kappa, bad, k, xs, a, L, m = _interval(x, mu, kappa, xp, keep)
    uniform = (xp.sin(a + L) - xp.sin(a)) / (2.0 * np.pi)
    # the interval's end x - mu reduced directly (a + L loses the low digits of x - mu near 0,
    # where the integral is about (x - mu) times the integrand at the mode)
    end = _reduced(xs - m, xp)
    flip = L > np.pi
    a, end = xp.where(flip, end, a), xp.where(flip, a, end)
    L = xp.where(flip, keep(np.pi - xs) + PI_LO, L)
    b, wraps, _, short = _geometry(a, L, k, xp, keep)
    # Gauss-Legendre only where the interval does not hold the mode (its sum changes sign there;
    # the tails' sums keep one sign each: near x = mu = 0, where the integral is 0, no rounding
    # noise of the order of the terms, and the modes agree)
    short = short & ~(((a <= 0.0) & (b >= 0.0)) | (b >= 2.0 * np.pi))
    bw = end
    norm = 2.0 * np.pi * i0e(k)
    c = one_minus_bessel_ratio(k, xp)
    by_gl = _gl_dk(xp, a, L, k, c) / norm
    da, db = _tail_dk(xp, xp.abs(a), k, norm, c, keep), _tail_dk(xp, xp.abs(bw), k, norm, c, keep)
    # int_s^pi and int_-pi^s of the integrand from D (D(|s|) on the far side of 0, -D(|s|) on the near side)
    upper_a = xp.where(a >= 0.0, da, -da)
    lower_bw = xp.where(bw <= 0.0, db, -db)
    inside = xp.where(a >= 0.0, da - db, xp.where(bw <= 0.0, db - da, -da - db))
    res = xp.where(short, by_gl, xp.where(wraps, upper_a + lower_bw, inside))
    res = xp.where(flip, -res, res)
    res = xp.where(kappa == 0.0, uniform, xp.where(kappa == np.inf, 0.0, res))
    res = xp.where((x < -np.pi) | (x > np.pi), 0.0, res)
    return xp.where(bad, np.nan, res)


def density_f0(s, kappa):
    """The von Mises density at ``s`` (mu = 0) as a tensor graph (the pullbacks')."""
    from opgraph.kernel_core.tensor.special_functions import i0e

    tm = _tm()
    return tm.exp(kappa * (tm.cos(s) - 1.0)) / (2.0 * np.pi * i0e(kappa))


def _end_pullbacks(x, mu, at):
    """d/dx, d/dmu of an integral over [-pi - mu, x - mu] of the integrand ``at`` (0 where x is
    outside [-pi, pi], where the CDF and its derivative are constant)."""
    tm = _tm()
    inside = tm.and_(tm.ge(x, -np.pi), tm.le(x, np.pi))
    at_x = at(x - mu)
    return tm.switch(inside, at_x, 0.0), tm.switch(inside, at(-np.pi - mu) - at_x, 0.0)


def cdf_dkappa(x, mu, kappa):
    """``vonmises_cdf_dkappa`` on tensors (the pullbacks' graph)."""
    from opgraph.kernel_core.tensor.elemwise import Elemwise

    return Elemwise(vonmises_cdf_dkappa)(x, mu, kappa)


class FloatArrayOp(ScalarOp):
    """Base of the scalar ops computed by an array algorithm in float64 (this module's and the
    Newton quantiles of ``iterative_quantiles.py``): float outputs, no complex inputs; ``impl``
    converts integer arguments, then runs the subclass's ``array_impl`` on float64 arrays with
    NumPy's warnings off (nan and inf are results of these algorithms, not errors)."""

    output_dtypes = _real_only(upgrade_to_float)

    def impl(self, *args):
        arrays = [np.asarray(a, dtype="float64") for a in _as_float_args(self, args)]
        with np.errstate(all="ignore"):
            return self.array_impl(*arrays)


class VonMisesCdf(FloatArrayOp):
    """``P(X <= x)`` for X von Mises(mu, kappa) on [-pi, pi] (see the module docstring)."""

    nin = 3

    def array_impl(self, x, mu, kappa):
        return cdf_array(x, mu, kappa, xp=np, i0e=_special("i0e"))

    def pullback(self, inputs, outputs, output_grads):
        x, mu, kappa = inputs
        (g,) = output_grads
        d_x, d_mu = _end_pullbacks(x, mu, lambda s: density_f0(s, kappa))
        return [g * d_x, g * d_mu, g * cdf_dkappa(x, mu, kappa)]


class VonMisesCdfDKappa(FloatArrayOp):
    """``d vonmises_cdf(x, mu, kappa) / d kappa`` (``cdf_dkappa_array``: 0 outside [-pi, pi])."""

    nin = 3

    def array_impl(self, x, mu, kappa):
        return cdf_dkappa_array(x, mu, kappa, xp=np, i0e=_special("i0e"))

    def pullback(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.gradient import grad_not_implemented
        from opgraph.kernel_core.tensor.special_functions import i0e, i1e

        tm = _tm()
        x, mu, kappa = inputs
        (g,) = output_grads
        ratio = i1e(kappa) / i0e(kappa)
        d_x, d_mu = _end_pullbacks(x, mu, lambda s: (tm.cos(s) - ratio) * density_f0(s, kappa))
        d_kappa = grad_not_implemented(self, 2, kappa, "the second derivative of vonmises_cdf with respect "
                                       "to kappa is not implemented")
        return [g * d_x, g * d_mu, d_kappa]


vonmises_cdf = VonMisesCdf()
vonmises_cdf_dkappa = VonMisesCdfDKappa()

"""Numba kernels of ``scalar/vonmises_cdf.py`` (the CDF and its derivative in kappa: the same
arithmetic as ``cdf_array`` and ``cdf_dkappa_array``, one element at a time, loops over the
quadrature nodes, only the branch taken computed), of ``scalar/vonmises_logcdf.py`` (the
log-CDF and its derivative in kappa, likewise) and of the Newton quantiles of
``scalar/iterative_quantiles.py``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from opgraph.kernel_core.backends.numba.scalar import _as_float, _register
from opgraph.kernel_core.backends.numba.scipy_special import i0e
from opgraph.kernel_core.scalar import vonmises_cdf as vm

_MODULE = "opgraph.kernel_core.backends.numba.vonmises_kernels"
_jit = numba.njit(cache=True, error_model="numpy")

_GL_X, _GL_W = vm.GL_X.copy(), vm.GL_W.copy()
_TS_P, _TS_M, _TS_W = vm.TS_ONE_PLUS.copy(), vm.TS_ONE_MINUS.copy(), vm.TS_W.copy()
_PI_LO = vm.PI_LO
_V_MAX, _KB_SMALL, _KA_SMALL = vm._V_MAX, vm._KB_SMALL, vm._KA_SMALL


@_jit
def _gl(a, length, k):
    s = 0.0
    for i in range(_GL_X.shape[0]):
        t = a + (0.5 * length) * (1.0 + _GL_X[i])
        sn = math.sin(0.5 * t)
        s += _GL_W[i] * math.exp(-2.0 * k * sn * sn)
    return 0.5 * length * s


@_jit
def _ts_sums(A, B, k):
    """_ts_nodes of scalar/vonmises_cdf.py: (R, sum of the weights, sum of weights * w)."""
    kB = k * B
    R = -math.expm1(-kB)
    huge = kB > 700.0
    e_kb = math.exp(-kB)
    e_pkb = math.exp(min(kB, 700.0))
    s0 = s1 = 0.0
    for i in range(_TS_W.shape[0]):
        r = (0.5 * R) * _TS_P[i]
        rr = (0.5 * R) * _TS_M[i]
        log_1mr = math.log(e_kb + rr) if r > 0.5 else math.log1p(-r)
        w = -log_1mr / k
        if huge:
            b_minus_w = max(B + math.log(rr if rr > 0.0 else 1.0) / k, 0.0)
        else:
            b_minus_w = math.log1p(rr * e_pkb) / k
        prod = (A + w) * b_minus_w
        if prod > 0.0:
            g = _TS_W[i] * (1.0 / (k * math.sqrt(prod)))
            s0 += g
            s1 += g * w
    return R, s0, s1


@_jit
def _tail(y, k, norm):
    sa, ca = math.sin(0.5 * y), math.cos(0.5 * y)
    A, B = 2.0 * sa * sa, 2.0 * ca * ca
    kA, kB = k * A, k * B
    if kB <= _KB_SMALL:
        return _gl(y, (np.pi - y) + _PI_LO, k) / norm
    if kA <= _KA_SMALL:
        return (0.5 * norm - _gl(0.0, y, k)) / norm
    R, s0, _ = _ts_sums(A, B, k)
    return math.exp(-kA) * (0.5 * R) * s0 / norm


@_jit
def _start(mu):
    """-pi - mu reduced to [-pi, pi) (cdf_array's a)."""
    n = np.floor(-mu / (2.0 * np.pi))
    odd = 2.0 * n + 1.0
    a = min(max((-mu - odd * np.pi) - odd * _PI_LO, -np.pi), np.pi)
    return -np.pi if a >= np.pi else a


@_jit
def _geometry(a, L, k):
    """_geometry of scalar/vonmises_cdf.py: (b, wraps, bw, short) of the interval [a, a + L]."""
    b = a + L
    wraps = b > np.pi
    bw = (b - 2.0 * np.pi) - 2.0 * _PI_LO if wraps else b
    bw = min(max(bw, -np.pi), np.pi)
    ca, cb = math.cos(a), math.cos(b)
    vmax = 1.0 if ((a <= 0.0 and b >= 0.0) or b >= 2.0 * np.pi) else max(ca, cb)
    vmin = -1.0 if b >= np.pi else min(ca, cb)
    return b, wraps, bw, k * (vmax - vmin) <= _V_MAX


@_jit
def vonmises_cdf(x, mu, kappa):
    x, mu, kappa = float(x), float(mu), float(kappa)
    if x != x or mu != mu or kappa != kappa or math.isinf(mu) or kappa < 0.0:
        return np.nan
    if x < -np.pi:
        return 0.0
    if x > np.pi:
        return 1.0
    a = _start(mu)
    L = (x + np.pi) + _PI_LO
    if kappa == 0.0:
        return min(L / (2.0 * np.pi), 1.0)
    if kappa == np.inf:
        mode = np.pi - a if a > 0.0 else -np.pi - a
        return 1.0 if x >= mode else 0.0
    k = kappa
    b, wraps, bw, short = _geometry(a, L, k)
    norm = 2.0 * np.pi * i0e(k)
    if short:
        res = _gl(a, L, k) / norm
    else:
        ta, tb = _tail(abs(a), k, norm), _tail(abs(bw), k, norm)
        if wraps:
            res = (ta if a >= 0.0 else 1.0 - ta) + (tb if bw <= 0.0 else 1.0 - tb)
        elif a >= 0.0:
            res = ta - tb
        elif bw <= 0.0:
            res = tb - ta
        else:
            res = (1.0 - ta) - tb
    return min(max(res, 0.0), 1.0)


def _kernel_expression(kernel):
    def expr(op, args, in_dtypes, out_dtypes, ctx):
        fn = ctx.import_name(_MODULE, kernel)
        return [f"{fn}({', '.join(_as_float(a, d) for a, d in zip(args, in_dtypes))})"]
    return expr


_register(vm.VonMisesCdf, _kernel_expression("vonmises_cdf"))


# -- the derivative in kappa (cdf_dkappa_array) --------------------------------------------------------
@_jit
def _one_minus_bessel_ratio(k):
    """1 - I1(k) / I0(k) for k > 0 finite (_bessel_sums' two sums)."""
    if 2.0 * k <= _KB_SMALL:
        s0 = s1 = 0.0
        half = 0.5 * (np.pi + _PI_LO)
        for i in range(_GL_X.shape[0]):
            sn = math.sin(0.5 * (half * (1.0 + _GL_X[i])))
            w = 2.0 * sn * sn
            e = _GL_W[i] * math.exp(-k * w)
            s0 += e
            s1 += e * w
        return s1 / s0
    _, s0, s1 = _ts_sums(0.0, 2.0, k)
    return s1 / s0


@_jit
def _gl_dk(a, length, k, c):
    s = 0.0
    for i in range(_GL_X.shape[0]):
        t = a + (0.5 * length) * (1.0 + _GL_X[i])
        sn = math.sin(0.5 * t)
        w = 2.0 * sn * sn
        s += _GL_W[i] * (c - w) * math.exp(-k * w)
    return 0.5 * length * s


@_jit
def _tail_dk(y, k, norm, c):
    sa, ca = math.sin(0.5 * y), math.cos(0.5 * y)
    A, B = 2.0 * sa * sa, 2.0 * ca * ca
    kA, kB = k * A, k * B
    if A < c:
        return -_gl_dk(0.0, y, k, c) / norm
    if kB <= _KB_SMALL:
        return _gl_dk(y, (np.pi - y) + _PI_LO, k, c) / norm
    R, s0, s1 = _ts_sums(A, B, k)
    return math.exp(-kA) * (0.5 * R) * ((c - A) * s0 - s1) / norm


@_jit
def vonmises_cdf_dkappa(x, mu, kappa):
    x, mu, kappa = float(x), float(mu), float(kappa)
    if x != x or mu != mu or kappa != kappa or math.isinf(mu) or kappa < 0.0:
        return np.nan
    if x < -np.pi or x > np.pi or kappa == np.inf:
        return 0.0
    a = _start(mu)
    L = (x + np.pi) + _PI_LO
    if kappa == 0.0:
        return (math.sin(a + L) - math.sin(a)) / (2.0 * np.pi)
    k = kappa
    # the end x - mu reduced to [-pi, pi) directly (cdf_dkappa_array)
    e = x - mu
    n = np.floor((e + np.pi) / (2.0 * np.pi))
    end = min(max((e - n * (2.0 * np.pi)) - n * (2.0 * _PI_LO), -np.pi), np.pi)
    if end >= np.pi:
        end = -np.pi
    flip = L > np.pi
    if flip:   # minus the integral over the rest of the circle
        a, end = end, a
        L = (np.pi - x) + _PI_LO
    b, wraps, _, short = _geometry(a, L, k)
    short = short and not ((a <= 0.0 and b >= 0.0) or b >= 2.0 * np.pi)   # (cdf_dkappa_array)
    bw = end
    norm = 2.0 * np.pi * i0e(k)
    c = _one_minus_bessel_ratio(k)
    if short:
        res = _gl_dk(a, L, k, c) / norm
    else:
        da, db = _tail_dk(abs(a), k, norm, c), _tail_dk(abs(bw), k, norm, c)
        if wraps:
            res = (da if a >= 0.0 else -da) + (db if bw <= 0.0 else -db)
        elif a >= 0.0:
            res = da - db
        elif bw <= 0.0:
            res = db - da
        else:
            res = -da - db
    return -res if flip else res


_register(vm.VonMisesCdfDKappa, _kernel_expression("vonmises_cdf_dkappa"))


# -- the quantiles of scalar/iterative_quantiles.py: the array algorithms' arithmetic per element --
from opgraph.kernel_core.backends.numba.scalar_kernels import erfcx as _erfcx  # noqa: E402
from opgraph.kernel_core.backends.numba.scipy_special import ndtri as _ndtri  # noqa: E402
from opgraph.kernel_core.scalar import iterative_quantiles as iq  # noqa: E402

_WALD_STEPS, _WALD_MAX_STEP, _VONMISES_STEPS = iq.WALD_STEPS, iq.WALD_MAX_STEP, iq.VONMISES_STEPS
_SQRT2 = np.sqrt(2.0)
_LOG_2PI = np.log(2.0 * np.pi)


@_jit
def _wald_logs(u, phi):
    r = math.sqrt(phi / u)
    z1, z2 = r * (u - 1.0), r * (u + 1.0)
    half_sq = 0.5 * z1 * z1
    ex2 = _erfcx(z2 / _SQRT2)
    if z1 < 0.0:
        log_cdf = -half_sq + math.log(0.5 * (_erfcx(-z1 / _SQRT2) + ex2))
    else:
        log_cdf = math.log1p(math.exp(-half_sq) * 0.5 * ex2 - 0.5 * math.erfc(z1 / _SQRT2))
    if u >= 1.0:
        log_sf = -half_sq + math.log(0.5 * (_erfcx(z1 / _SQRT2) - ex2))
    else:
        log_sf = math.log1p(-math.exp(log_cdf))
    log_pdf = 0.5 * (math.log(phi) - _LOG_2PI - 3.0 * math.log(u)) - phi * (u - 1.0) ** 2 / (2.0 * u)
    return log_cdf, log_sf, log_pdf


@_jit
def wald_unit_quantile(q, phi):
    q, phi = float(q), float(phi)
    if q != q or phi != phi or q < 0.0 or q > 1.0 or not phi > 0.0:
        return np.nan
    if q == 0.0:
        return 0.0
    if q == 1.0:
        return np.inf
    ph = 1e300 if phi == np.inf else phi
    upper = q > 0.5
    target = math.log1p(-q) if upper else math.log(q)
    s2 = math.log1p(1.0 / ph)
    z = -0.5 * s2 + math.sqrt(s2) * _ndtri(q)
    for _ in range(_WALD_STEPS):
        u = math.exp(z)
        log_cdf, log_sf, log_pdf = _wald_logs(u, ph)
        if upper:
            h = log_sf - target
            slope = -math.exp(z + log_pdf - log_sf)
        else:
            h = log_cdf - target
            slope = math.exp(z + log_pdf - log_cdf)
        step = min(max(-h / slope, -_WALD_MAX_STEP), _WALD_MAX_STEP)
        if step == step:
            z = z + step
    return math.exp(z)


@_jit
def _vm_density(x, mu, k):
    return math.exp(k * (math.cos(x - mu) - 1.0)) / (2.0 * np.pi * i0e(k))


@_jit
def vonmises_lower_quantile(p, mu, kappa):
    p, mu, kappa = float(p), float(mu), float(kappa)
    if p != p or mu != mu or math.isinf(mu) or not kappa > 0.0 or kappa == np.inf or p < 0.0 or p > 0.5:
        return np.nan
    if p == 0.0:
        return -np.pi
    n = np.floor(-mu / (2.0 * np.pi))
    odd = 2.0 * n + 1.0
    a = (-mu - odd * np.pi) - odd * _PI_LO
    mode = np.pi - a if a > 0.0 else -np.pi - a
    mode = min(max(mode, -np.pi), np.pi)
    if kappa > 2.0:
        centered = min(max(p - vonmises_cdf(mode, mu, kappa) + 0.5, 1e-300), 1.0 - 1e-16)
        guess = mode + _ndtri(centered) / math.sqrt(kappa)
    else:
        guess = -np.pi + 2.0 * np.pi * p
    x = min(max(guess, -np.pi), np.pi)
    lo, hi = -np.pi, np.pi
    log_p = math.log(p)
    for _ in range(_VONMISES_STEPS):
        F = vonmises_cdf(x, mu, kappa)
        if F < p:
            lo = x
        else:
            hi = x
        logF = math.log(F) if F > 0.0 else -np.inf
        newton = x - (logF - log_p) * F / _vm_density(x, mu, kappa)
        x = newton if (newton >= lo and newton <= hi) else 0.5 * (lo + hi)
    dens = _vm_density(x, mu, kappa)
    if dens > 0.0:
        last = x + (p - vonmises_cdf(x, mu, kappa)) / dens
        x = min(max(last, lo), hi)
    return x


_register(iq.WaldUnitQuantile, _kernel_expression("wald_unit_quantile"))
_register(iq.VonMisesLowerQuantile, _kernel_expression("vonmises_lower_quantile"))


# -- the log-CDF of scalar/vonmises_logcdf.py (logcdf_array, logcdf_dkappa_array) ----------------------
from opgraph.kernel_core.scalar import vonmises_logcdf as vml  # noqa: E402

_DEEP_LOG_F = vml.DEEP_LOG_F
_LN2 = np.log(2.0)


@_jit
def _log_gl(a, length, k, at):
    """(log int_a^{a + length} exp(k (cos t - 1)) dt, mean of 1 - cos t), factored at v: 0 (at =
    0: the mode), a (1) or a + length (2)."""
    half = 0.5 * length
    v = a if at == 1 else (a + length if at == 2 else 0.0)
    s0 = s1 = 0.0
    for i in range(_GL_X.shape[0]):
        h = half * (1.0 + _GL_X[i])
        t = a + h
        dt = h if at == 1 else (-(half * (1.0 - _GL_X[i])) if at == 2 else t)
        e = _GL_W[i] * math.exp(min(-2.0 * k * math.sin(0.5 * (t + v)) * math.sin(0.5 * dt), 0.0))
        s = math.sin(0.5 * t)
        s0 += e
        s1 += e * (2.0 * s * s)
    sv = math.sin(0.5 * v)
    return -2.0 * k * sv * sv + math.log(half * s0), s1 / s0


@_jit
def _log_tail(y, k, norm, log_norm):
    """(log T(y), mean of 1 - cos t over [y, pi]; 0 in the central branch)."""
    sa, ca = math.sin(0.5 * y), math.cos(0.5 * y)
    A, B = 2.0 * sa * sa, 2.0 * ca * ca
    kA, kB = k * A, k * B
    if kB <= _KB_SMALL:
        lt, m = _log_gl(y, (np.pi - y) + _PI_LO, k, 1)
        return lt - log_norm, m
    if kA <= _KA_SMALL:
        return math.log(0.5 - _gl(0.0, y, k) / norm), 0.0
    R, s0, s1 = _ts_sums(A, B, k)
    return -kA + math.log((0.5 * R) * s0) - log_norm, A + s1 / s0


@_jit
def _log1mexp(d):
    return math.log(-math.expm1(d)) if d > -_LN2 else math.log1p(-math.exp(d))


@_jit
def _lower_log(x, mu, k):
    """(log F, mean of 1 - cos t) for x in [-pi, pi], finite k > 0 (vml._lower_log)."""
    a = _start(mu)
    L = (x + np.pi) + _PI_LO
    b, wraps, bw, short = _geometry(a, L, k)
    norm = 2.0 * np.pi * i0e(k)
    log_norm = math.log(norm)
    if short:
        peak = (a <= 0.0 and b >= 0.0) or b >= 2.0 * np.pi
        at = 0 if peak else (1 if math.cos(a) >= math.cos(b) else 2)
        lf, m = _log_gl(a, L, k, at)
        return min(lf - log_norm, 0.0), m
    lta, ma = _log_tail(abs(a), k, norm, log_norm)
    ltb, mb = _log_tail(abs(bw), k, norm, log_norm)
    if wraps:
        lu = lta if a >= 0.0 else math.log1p(-math.exp(lta))
        ll = ltb if bw <= 0.0 else math.log1p(-math.exp(ltb))
        hi = max(lu, ll)
        if not math.isfinite(hi):
            hi = 0.0
        pu, pl = math.exp(lu - hi), math.exp(ll - hi)
        return min(hi + math.log(pu + pl), 0.0), (pu * ma + pl * mb) / (pu + pl)
    if a >= 0.0:
        r = math.exp(ltb - lta)
        return min(lta + _log1mexp(min(ltb - lta, 0.0)), 0.0), (ma - r * mb) / (1.0 - r)
    if bw <= 0.0:
        r = math.exp(lta - ltb)
        return min(ltb + _log1mexp(min(lta - ltb, 0.0)), 0.0), (mb - r * ma) / (1.0 - r)
    return min(math.log((1.0 - math.exp(lta)) - math.exp(ltb)), 0.0), 0.0


@_jit
def vonmises_logcdf(x, mu, kappa):
    x, mu, kappa = float(x), float(mu), float(kappa)
    lower = vonmises_cdf(x, mu, kappa)
    if lower != lower:
        return np.nan
    if lower >= 0.5:
        return math.log1p(-vonmises_cdf(-x, -mu, kappa))
    if kappa > 0.0 and kappa < np.inf and x >= -np.pi and x <= np.pi:
        return _lower_log(x, mu, kappa)[0]
    return math.log(lower)


@_jit
def vonmises_logcdf_dkappa(x, mu, kappa):
    x, mu, kappa = float(x), float(mu), float(kappa)
    log_f = vonmises_logcdf(x, mu, kappa)
    if log_f != log_f:
        return np.nan
    if x < -np.pi or x > np.pi or kappa == np.inf:
        return 0.0
    if log_f < _DEEP_LOG_F:
        return _one_minus_bessel_ratio(kappa) - _lower_log(x, mu, kappa)[1]
    return vonmises_cdf_dkappa(x, mu, kappa) / math.exp(log_f)


_register(vml.VonMisesLogCdf, _kernel_expression("vonmises_logcdf"))
_register(vml.VonMisesLogCdfDKappa, _kernel_expression("vonmises_logcdf_dkappa"))

"""Numba kernel of ``scalar/vonmises_cdf.py``: the same arithmetic as ``cdf_array``, one
element at a time (loops over the quadrature nodes, and only the branch taken is computed).
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
def _tail(y, k, norm):
    sa, ca = math.sin(0.5 * y), math.cos(0.5 * y)
    A, B = 2.0 * sa * sa, 2.0 * ca * ca
    kA, kB = k * A, k * B
    if kB <= _KB_SMALL:
        return _gl(y, (np.pi - y) + _PI_LO, k) / norm
    if kA <= _KA_SMALL:
        return (0.5 * norm - _gl(0.0, y, k)) / norm
    R = -math.expm1(-kB)
    huge = kB > 700.0
    e_kb = math.exp(-kB)
    e_pkb = math.exp(min(kB, 700.0))
    s = 0.0
    for i in range(_TS_W.shape[0]):
        r = (0.5 * R) * _TS_P[i]
        rr = (0.5 * R) * _TS_M[i]
        if r > 0.5:
            log_1mr = math.log(e_kb + rr)
        else:
            log_1mr = math.log1p(-r)
        w = -log_1mr / k
        if huge:
            b_minus_w = max(B + math.log(rr if rr > 0.0 else 1.0) / k, 0.0)
        else:
            b_minus_w = math.log1p(rr * e_pkb) / k
        prod = (A + w) * b_minus_w
        if prod > 0.0:
            s += _TS_W[i] * (1.0 / (k * math.sqrt(prod)))
    return math.exp(-kA) * (0.5 * R) * s / norm


@_jit
def vonmises_cdf(x, mu, kappa):
    x, mu, kappa = float(x), float(mu), float(kappa)
    if x != x or mu != mu or kappa != kappa or math.isinf(mu) or kappa < 0.0:
        return np.nan
    if x < -np.pi:
        return 0.0
    if x > np.pi:
        return 1.0
    n = np.floor(-mu / (2.0 * np.pi))
    odd = 2.0 * n + 1.0
    a = min(max((-mu - odd * np.pi) - odd * _PI_LO, -np.pi), np.pi)
    if a >= np.pi:
        a = -np.pi
    L = (x + np.pi) + _PI_LO
    if kappa == 0.0:
        return min(L / (2.0 * np.pi), 1.0)
    if kappa == np.inf:
        mode = np.pi - a if a > 0.0 else -np.pi - a
        return 1.0 if x >= mode else 0.0
    k = kappa
    b = a + L
    wraps = b > np.pi
    bw = (b - 2.0 * np.pi) - 2.0 * _PI_LO if wraps else b
    bw = min(max(bw, -np.pi), np.pi)
    norm = 2.0 * np.pi * i0e(k)
    ca, cb = math.cos(a), math.cos(b)
    vmax = 1.0 if ((a <= 0.0 and b >= 0.0) or b >= 2.0 * np.pi) else max(ca, cb)
    vmin = -1.0 if b >= np.pi else min(ca, cb)
    if k * (vmax - vmin) <= _V_MAX:
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


def _expression(op, args, in_dtypes, out_dtypes, ctx):
    fn = ctx.import_name(_MODULE, "vonmises_cdf")
    return [f"{fn}({', '.join(_as_float(a, d) for a, d in zip(args, in_dtypes))})"]


_register(vm.VonMisesCdf, _expression)

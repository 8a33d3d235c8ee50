"""njit scalar functions that NumPy / ``math`` do not provide inside Numba.

Imported only by generated modules (so only when compiling).  Each is
inlined into the loops that call it.

``exp`` is our own: numba calls libm's scalar ``exp`` per element, which keeps
LLVM from vectorizing the loop (no SVML here) and costs 3-4x NumPy's SIMD exp.
``vexp`` is branch-free arithmetic on bit patterns, accurate to about 1 ulp,
with NumPy's results for inf, nan, overflow and (gradual) underflow, so loops
calling it vectorize.  ``vlog`` / ``vlog1p`` do the same for the logarithm, ``vtanh``
for tanh, and ``sigmoid`` / ``softplus`` are built on them.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

_jit = numba.njit(cache=True, error_model="numpy", inline="always")


@intrinsic
def f64_bits(typingctx, x):
    """The IEEE bit pattern of a float64, as int64 (a free reinterpretation)."""
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def bits_f64(typingctx, x):
    """The float64 whose bit pattern is the int64 ``x``."""
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@intrinsic
def fma(typingctx, a, b, c):
    """``a * b + c`` rounded once (llvm.fma: one instruction on FMA hardware, and it vectorizes)."""
    def codegen(context, builder, sig, args):
        d = ir.DoubleType()
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(d, [d, d, d]), "llvm.fma.f64")
        return builder.call(fn, args)
    return types.float64(types.float64, types.float64, types.float64), codegen


_SHIFT = 6755399441055744.0          # 1.5 * 2**52: adding it rounds to an integer kept in the low bits
_SHIFT_BITS = 4843621399236968448    # f64_bits(_SHIFT)


@_jit
def vexp(x):
    # x = k ln2 + r with |r| <= ln2/2 (Cody-Waite: ln2 split in a high and low part),
    # e^r by a degree-11 near-minimax polynomial (Chebyshev fit on [-ln2/2, ln2/2],
    # error 3e-18) in Horner form with fused multiply-adds, and 2^k built from
    # exponent bits in two halves so gradual underflow and overflow to inf come out
    # as NumPy's.  Clamping keeps k in range; nan is passed through.  Max error 1 ulp.
    xc = x if x < 710.0 else 710.0
    xc = xc if xc > -746.0 else -746.0
    t = fma(xc, 1.4426950408889634, _SHIFT)
    kd = t - _SHIFT
    k = f64_bits(t) - _SHIFT_BITS
    r = fma(kd, -0.6931471803691238, xc)
    r = fma(kd, -1.9082149292705877e-10, r)
    p = fma(2.5110095611886237e-08, r, 2.7632715071632255e-07)
    p = fma(p, r, 2.7557240761739257e-06)
    p = fma(p, r, 2.4801485278370062e-05)
    p = fma(p, r, 0.00019841269890193705)
    p = fma(p, r, 0.0013888888952505406)
    p = fma(p, r, 0.008333333333319546)
    p = fma(p, r, 0.04166666666648738)
    p = fma(p, r, 0.1666666666666668)
    p = fma(p, r, 0.5000000000000019)
    p = fma(p, r, 1.0)
    p = fma(p, r, 1.0)
    k1 = k >> 1
    k2 = k - k1
    y = p * bits_f64((k1 + 1023) << 52) * bits_f64((k2 + 1023) << 52)
    return y if x == x else x


_SQRT_HALF_BITS = 0x3FE6A09E667F3BCD   # f64_bits(sqrt(2) / 2)
_MANTISSA = 0x000FFFFFFFFFFFFF


@_jit
def vlog(x):
    # Branch-free natural log (vectorizes; libm's scalar log does not): x = 2^k m with
    # m in [sqrt(2)/2, sqrt(2)) from the bit pattern (subnormals scaled by 2^54 first),
    # then fdlibm's log(m) = 2 atanh(f / (2 + f)) with f = m - 1.  Max error 1 ulp;
    # NumPy's results for 0, negatives, inf and nan.
    sub = x < 2.2250738585072014e-308
    xs = x * 18014398509481984.0 if sub else x
    ix = f64_bits(xs) - _SQRT_HALF_BITS
    k = (ix >> 52) - (54 if sub else 0)
    m = bits_f64((ix & _MANTISSA) + _SQRT_HALF_BITS)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * fma(w, fma(w, 1.531383769920937332e-01, 2.222219843214978396e-01), 3.999999999940941908e-01)
    t2 = z * fma(w, fma(w, fma(w, 1.479819860511658591e-01, 1.818357216161805012e-01),
                        2.857142874366239149e-01), 6.666666666666735130e-01)
    big_r = t2 + t1
    hfsq = 0.5 * f * f
    dk = float(k)
    y = dk * 6.93147180369123816490e-01 - ((hfsq - (s * (hfsq + big_r) + dk * 1.90821492927058770002e-10)) - f)
    y = y if x < np.inf else x + x
    y = y if x != 0.0 else -np.inf
    return y if x >= 0.0 or x != x else np.nan


@_jit
def vlog1p(x):
    # log(1 + x) = log(w) - ((w - 1) - x) / w with w = fl(1 + x): the second term
    # undoes the rounding of w (exact for tiny x, where it gives x itself).
    w = 1.0 + x
    lw = vlog(w)
    y = lw - ((w - 1.0) - x) / w
    y = y if w != 0.0 and abs(x) < np.inf else lw
    return y if x != 0.0 else x


@_jit
def sigmoid(x):
    # Selects, not branches, so calling loops vectorize.
    e = vexp(-abs(x))
    d = 1.0 + e
    return 1.0 / d if x >= 0 else e / d


@_jit
def vtanh(x):
    # Branch-free tanh (libm's scalar tanh keeps loops from vectorizing and costs ~9x
    # this): for |x| < 0.625, x + x^3 P(x^2) with P a degree-10 Chebyshev fit of
    # (tanh(x) - x) / x^3 (error 1e-16 relative to P); above, 1 - 2 / (e^{2|x|} + 1) with
    # vexp (no cancellation there: tanh >= 0.55).  Max error 1.4 ulp (measured against
    # mpmath); tanh(x) = x for |x| < 1e-9 (signed zeros, subnormals), +-1 at +-inf, nan kept.
    a = abs(x)
    s = x * x
    p = fma(-1.724487449484433e-05, s, 7.959955735264808e-05)
    p = fma(p, s, -0.00023077616269519857)
    p = fma(p, s, 0.0005874372860094381)
    p = fma(p, s, -0.001455309297534642)
    p = fma(p, s, 0.0035920589774734554)
    p = fma(p, s, -0.008863229830925709)
    p = fma(p, s, 0.021869488260559115)
    p = fma(p, s, -0.05396825396139557)
    p = fma(p, s, 0.13333333333326658)
    p = fma(p, s, -0.3333333333333332)
    small = fma(x * s, p, x)
    big = 1.0 - 2.0 / (vexp(2.0 * a) + 1.0)
    big = big if x >= 0.0 else -big
    y = small if a < 0.625 else big
    return x if a < 1e-9 or x != x else y


@_jit
def softplus(x):
    # log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): no overflow, accurate in both
    # tails, and branch-free (vexp / vlog1p) so calling loops vectorize.
    return (x if x > 0.0 else 0.0) + vlog1p(vexp(-abs(x)))


@_jit
def log1mexp(x):
    if x < -0.6931471805599453:
        return math.log1p(-math.exp(x))
    return math.log(-math.expm1(x))


@_jit
def psi(x):
    """Digamma: reflection for x < 0, recurrence up to 10, then the asymptotic series.

    SciPy's poles: psi(+0.0) = -inf, psi(-0.0) = +inf, nan at negative integers and -inf.
    """
    if math.isnan(x):
        return np.nan
    if x == 0.0:
        return math.copysign(np.inf, -x)
    result = 0.0
    if x < 0.0:
        # np.floor, not math.floor: numba's math.floor of a float32 is an int64,
        # which overflows for huge x (and -inf), so poles went undetected.
        if x == np.floor(x):
            return np.nan
        result = -math.pi / math.tan(math.pi * x)
        x = 1.0 - x
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    # Bernoulli terms through B14: the first omitted one is below 1e-17 for x >= 10.
    f = 1.0 / (x * x)
    series = f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (
        1.0 / 132 - f * (691.0 / 32760 - f * (1.0 / 12)))))))
    return result + math.log(x) - 0.5 / x - series


@_jit
def _tri_gamma_positive(x):
    result = 0.0
    while x < 10.0:
        result += 1.0 / (x * x)
        x += 1.0
    # 1/x + 1/(2x^2) + sum B_2k / x^(2k+1), through B14 (next term < 1e-16 of the value).
    f = 1.0 / (x * x)
    series = 1.0 / x + f / 2.0 + f / x * (1.0 / 6 - f * (1.0 / 30 - f * (1.0 / 42 - f * (
        1.0 / 30 - f * (5.0 / 66 - f * (691.0 / 2730 - f * (7.0 / 6)))))))
    return result + series


@_jit
def tri_gamma(x):
    # Not recursive: inline='always' functions must not call themselves.
    if math.isnan(x):
        return np.nan
    if x <= 0.0 and x == np.floor(x):
        return np.inf
    if x < 0.0:
        # Reflection: psi1(1-x) + psi1(x) = pi^2 / sin^2(pi x)
        s = math.sin(math.pi * x)
        return -_tri_gamma_positive(1.0 - x) + (math.pi * math.pi) / (s * s)
    return _tri_gamma_positive(x)


@_jit
def erfinv(y):
    if y == 0.0:
        return 0.0   # SciPy's erfinv(-0.0) is +0.0
    if y <= -1.0:
        return -np.inf if y == -1.0 else np.nan
    if y >= 1.0:
        return np.inf if y == 1.0 else np.nan
    # Giles' single-precision approximation, then two Newton steps on erf.
    w = -math.log((1.0 - y) * (1.0 + y))
    if w < 5.0:
        w -= 2.5
        p = 2.81022636e-08
        p = 3.43273939e-07 + p * w
        p = -3.5233877e-06 + p * w
        p = -4.39150654e-06 + p * w
        p = 0.00021858087 + p * w
        p = -0.00125372503 + p * w
        p = -0.00417768164 + p * w
        p = 0.246640727 + p * w
        p = 1.50140941 + p * w
    else:
        w = math.sqrt(w) - 3.0
        p = -0.000200214257
        p = 0.000100950558 + p * w
        p = 0.00134934322 + p * w
        p = -0.00367342844 + p * w
        p = 0.00573950773 + p * w
        p = -0.0076224613 + p * w
        p = 0.00943887047 + p * w
        p = 1.00167406 + p * w
        p = 2.83297682 + p * w
    x = p * y
    for _ in range(2):
        err = math.erf(x) - y
        x -= err / (1.1283791670955126 * math.exp(-x * x))
    return x


@_jit
def erfcx(x):
    """exp(x**2) * erfc(x), to a few ulps (SciPy's values)."""
    if x < 25.0:
        # x*x = h + l exactly (fma), and exp(h + l) = exp(h) (1 + l): exp(x*x) alone
        # would carry the rounding of x*x, a relative error of 2 x^2 ulps.
        h = x * x
        lo = fma(x, x, -h)
        return math.exp(h) * math.erfc(x) * (1.0 + lo) if x > -26.7 else np.inf
    # Asymptotic series 1/(x sqrt(pi)) sum (-1)^n (2n-1)!! / (2x^2)^n: the terms fall
    # by (2n-1)/1250 or faster, so ten leave < 1e-22.  (1/x)/sqrt(pi) keeps huge x finite.
    inv2 = 1.0 / (2.0 * x * x)
    s = 1.0
    for n in range(10, 0, -1):
        s = 1.0 - (2 * n - 1) * inv2 * s
    return s * ((1.0 / x) * 0.5641895835477563)


@_jit
def gammaln(x):
    """log|gamma(x)| with SciPy's edge values (libm's lgamma differs at both):
    -inf at -inf, and inf wherever 1/x overflows (|x| < 5.6e-309), as SciPy computes it."""
    if x == -np.inf:
        return -np.inf
    if abs(1.0 / x) == np.inf:
        return np.inf
    return math.lgamma(x)


@_jit
def sign(x):
    """NumPy's sign of a float: sign(-0.0) is +0.0, nan stays nan."""
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return x if x != x else 0.0


@_jit
def cdiv(a, b):
    """Complex a / b as NumPy computes it (Smith's method): numba's raises
    ZeroDivisionError for b == 0, where NumPy gives inf / nan parts."""
    ar, ai, br, bi = a.real, a.imag, b.real, b.imag
    abr, abi = abs(br), abs(bi)
    if abr >= abi:
        if abr == 0.0 and abi == 0.0:
            return complex(ar / abr, ai / abr)
        rat = bi / br
        scl = 1.0 / (br + bi * rat)
        return complex((ar + ai * rat) * scl, (ai - ar * rat) * scl)
    rat = br / bi
    scl = 1.0 / (bi + br * rat)
    return complex((ar * rat + ai) * scl, (ai * rat - ar) * scl)


@_jit
def int_pow(a, b):
    """Integer power as NumPy's: a negative exponent is an error, not 0 / 1 / -1."""
    if b < 0:
        raise ValueError("Integers to negative integer powers are not allowed.")
    # Square-and-multiply, wrapping like NumPy (numba's own ** goes wrong for huge b).
    result = a - a + 1
    base = a
    while b > 0:
        if b & 1:
            result = result * base
        base = base * base
        b = b >> 1
    return result


# -- pt.special (scalar/special.py) ------------------------------------------
@_jit
def xlogx(x):
    return 0.0 if x == 0.0 else x * math.log(x)


@_jit
def xlogy0(x, y):
    return 0.0 if x == 0.0 else x * math.log(y)


@_jit
def log_ndtr(x):
    """log(Phi(x)): log1p(-Phi(-x)) on the right (Phi(-x) = erfc(x / sqrt 2) / 2 is
    tiny there), and log(erfcx(-x / sqrt 2) / 2) - x^2 / 2 on the left, where Phi(x)
    itself underflows (SciPy's log_ndtr values)."""
    if x != x:
        return x
    if x > -1.0:
        return math.log1p(-0.5 * math.erfc(x * 0.7071067811865476))
    return math.log(0.5 * erfcx(-x * 0.7071067811865476)) - 0.5 * x * x


# Bernoulli numbers B_2k / (2k)!, k = 1..12: the Euler-Maclaurin tail of the Hurwitz zeta.
_B2K_OVER_FACT = (8.333333333333333e-02, -1.388888888888889e-03, 3.306878306878307e-05,
                  -8.267195767195767e-07, 2.087675698786810e-08, -5.284190138687493e-10,
                  1.338253653068468e-11, -3.389680296322583e-13, 8.586062056277845e-15,
                  -2.174868698558062e-16, 5.509002828360229e-18, -1.395446468581252e-19)


@_jit
def hurwitz_zeta(s, q):
    """zeta(s, q) = sum_k (q + k)^-s for an integer-valued s >= 2: the first terms
    summed directly until q + N >= 12 + s, then Euler-Maclaurin (integral, half term
    and the Bernoulli series), whose terms then fall by (s + 2j)^2 / (2 pi a)^2 or faster."""
    if q <= 0.0 and q == np.floor(q):
        return np.inf
    total = 0.0
    a = q
    while a < 12.0 + s:
        total += a ** -s
        a += 1.0
    total += a ** (1.0 - s) / (s - 1.0) + 0.5 * a ** -s
    # term_j = B_2j / (2j)! * s (s+1) ... (s+2j-2) * a^(-s-2j+1)
    rising = s
    power = a ** (-s - 1.0)
    inv_a2 = 1.0 / (a * a)
    for j in range(12):
        term = _B2K_OVER_FACT[j] * rising * power
        total += term
        if abs(term) < 1e-17 * abs(total):
            break
        rising *= (s + 2 * j + 1) * (s + 2 * j + 2)
        power *= inv_a2
    return total


@_jit
def polygamma(n, x):
    """psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x) for n >= 1; psi(x) for n = 0; nan for n < 0."""
    if n < 0 or x != x:
        return np.nan
    if n == 0:
        return psi(x)
    fact = 1.0
    for k in range(2, n + 1):
        fact *= k
    sign = 1.0 if n % 2 == 1 else -1.0
    return sign * fact * hurwitz_zeta(float(n + 1), x)

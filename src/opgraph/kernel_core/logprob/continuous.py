"""logp / logcdf / icdf of the continuous distributions of ``pt.random``.

Forms chosen for range, not brevity: ``log1p(z**2)`` for |z| > 1 becomes
``2 log|z| + log1p(z**-2)`` (no overflow at z = 1e300), the normal's log-CDF
uses ``erfcx`` in the lower tail (no ``log(0)`` at z = -40), upper-tail
CDFs go through ``log1p``/``log1mexp``.
"""

from __future__ import annotations

import numpy as np

import opgraph.kernel_core.tensor.math as pm
from opgraph.kernel_core.logprob.check import check_parameters
from opgraph.kernel_core.logprob.rules import _icdf, _logcdf, _logprob, ninf_like, xlog1py0, xlogy0
from opgraph.kernel_core.tensor.random import basic as rv
from opgraph.kernel_core.tensor.special import betaln

_SQRT2 = np.sqrt(2.0)
_LOG_SQRT_2PI = np.log(np.sqrt(2.0 * np.pi))


def _in_support(cond, expr):
    return pm.switch(cond, expr, ninf_like(expr))


def log1p_sq(z):
    """``log1p(z**2)`` without overflow for huge |z|."""
    a = pm.abs(z)
    big = pm.gt(a, 1.0)
    safe = pm.switch(big, a, 1.0)
    return pm.switch(big, 2.0 * pm.log(safe) + pm.log1p(pm.reciprocal(pm.sqr(safe))), pm.log1p(pm.sqr(z)))


def normal_lcdf(z):
    """log Phi(z): erfcx in the lower tail (log Phi(-40) is finite), log1p above."""
    low = pm.lt(z, -1.0)
    zl = pm.switch(low, z, -1.0)
    lower = pm.log(pm.erfcx(-zl / _SQRT2) / 2.0) - pm.sqr(zl) / 2.0
    upper = pm.log1p(-pm.erfc(z / _SQRT2) / 2.0)
    return pm.switch(low, lower, upper)


def _check_prob(p, expr):
    return check_parameters(expr, pm.ge(p, 0.0), pm.le(p, 1.0), msg="0 <= value <= 1")


# -- normal ----------------------------------------------------------------------------------
@_logprob.register(rv.NormalRV)
def normal_logprob(op, value, mu, sigma):
    res = -0.5 * pm.pow((value - mu) / sigma, 2) - pm.log(pm.sqrt(2.0 * np.pi)) - pm.log(sigma)
    return check_parameters(res, pm.gt(sigma, 0), msg="sigma > 0")


@_logcdf.register(rv.NormalRV)
def normal_logcdf(op, value, mu, sigma):
    return check_parameters(normal_lcdf((value - mu) / sigma), pm.gt(sigma, 0), msg="sigma > 0")


# normal_icdf: incomplete_cdfs.py (ndtri).


# -- uniform -----------------------------------------------------------------------------------
@_logprob.register(rv.UniformRV)
def uniform_logprob(op, value, low, high):
    res = _in_support(pm.and_(pm.ge(value, low), pm.le(value, high)), pm.neg(pm.log(high - low)))
    return check_parameters(res, pm.lt(low, high), msg="low < high")


@_logcdf.register(rv.UniformRV)
def uniform_logcdf(op, value, low, high):
    res = pm.switch(pm.lt(value, low), -np.inf,
                    pm.switch(pm.lt(value, high), pm.log(value - low) - pm.log(high - low), 0.0))
    return check_parameters(res, pm.lt(low, high), msg="low < high")


@_icdf.register(rv.UniformRV)
def uniform_icdf(op, value, low, high):
    return _check_prob(value, check_parameters(low + value * (high - low), pm.lt(low, high), msg="low < high"))


# -- exponential (NumPy's scale parametrisation) ------------------------------------------------
@_logprob.register(rv.ExponentialRV)
def exponential_logprob(op, value, scale):
    res = _in_support(pm.ge(value, 0.0), -pm.log(scale) - value / scale)
    return check_parameters(res, pm.gt(scale, 0), msg="scale > 0")


@_logcdf.register(rv.ExponentialRV)
def exponential_logcdf(op, value, scale):
    res = _in_support(pm.ge(value, 0.0), pm.log1mexp(-value / scale))
    return check_parameters(res, pm.gt(scale, 0), msg="scale > 0")


@_icdf.register(rv.ExponentialRV)
def exponential_icdf(op, value, scale):
    return _check_prob(value, check_parameters(-scale * pm.log1p(-value), pm.gt(scale, 0), msg="scale > 0"))


# -- gamma (shape, scale), chisquare -------------------------------------------------------------
def _gamma_logp(value, a, scale):
    res = -pm.gammaln(a) - a * pm.log(scale) + xlogy0(a - 1.0, value) - value / scale
    return _in_support(pm.ge(value, 0.0), res)


@_logprob.register(rv.GammaRV)
def gamma_logprob(op, value, shape, scale):
    return check_parameters(_gamma_logp(value, shape, scale), pm.gt(shape, 0), pm.gt(scale, 0),
                            msg="shape > 0, scale > 0")


@_logprob.register(rv.ChiSquareRV)
def chisquare_logprob(op, value, df):
    return check_parameters(_gamma_logp(value, df / 2.0, 2.0), pm.gt(df, 0), msg="df > 0")


# -- beta ------------------------------------------------------------------------------------------
@_logprob.register(rv.BetaRV)
def beta_logprob(op, value, alpha, beta):
    res = xlogy0(alpha - 1.0, value) + xlog1py0(beta - 1.0, -value) - betaln(alpha, beta)
    res = _in_support(pm.and_(pm.ge(value, 0.0), pm.le(value, 1.0)), res)
    return check_parameters(res, pm.gt(alpha, 0), pm.gt(beta, 0), msg="alpha > 0, beta > 0")


# -- lognormal ---------------------------------------------------------------------------------------
@_logprob.register(rv.LogNormalRV)
def lognormal_logprob(op, value, mean, sigma):
    pos = pm.gt(value, 0.0)
    lv = pm.log(pm.switch(pos, value, 1.0))
    res = -0.5 * pm.sqr((lv - mean) / sigma) - _LOG_SQRT_2PI - pm.log(sigma) - lv
    return check_parameters(_in_support(pos, res), pm.gt(sigma, 0), msg="sigma > 0")


@_logcdf.register(rv.LogNormalRV)
def lognormal_logcdf(op, value, mean, sigma):
    pos = pm.gt(value, 0.0)
    lv = pm.log(pm.switch(pos, value, 1.0))
    return check_parameters(_in_support(pos, normal_lcdf((lv - mean) / sigma)), pm.gt(sigma, 0), msg="sigma > 0")


# lognormal_icdf: incomplete_cdfs.py (ndtri).


# -- halfnormal (loc, scale) ---------------------------------------------------------------------------
@_logprob.register(rv.HalfNormalRV)
def halfnormal_logprob(op, value, loc, scale):
    res = 0.5 * np.log(2.0 / np.pi) - pm.log(scale) - 0.5 * pm.sqr((value - loc) / scale)
    return check_parameters(_in_support(pm.ge(value, loc), res), pm.gt(scale, 0), msg="scale > 0")


@_logcdf.register(rv.HalfNormalRV)
def halfnormal_logcdf(op, value, loc, scale):
    z = (value - loc) / scale
    res = pm.switch(pm.gt(z, 1.0), pm.log1p(-pm.erfc(z / _SQRT2)), pm.log(pm.erf(z / _SQRT2)))
    return check_parameters(_in_support(pm.ge(z, 0.0), res), pm.gt(scale, 0), msg="scale > 0")


@_icdf.register(rv.HalfNormalRV)
def halfnormal_icdf(op, value, loc, scale):
    res = loc + scale * _SQRT2 * pm.erfinv(value)
    return _check_prob(value, check_parameters(res, pm.gt(scale, 0), msg="scale > 0"))


# -- cauchy, halfcauchy ------------------------------------------------------------------------------
@_logprob.register(rv.CauchyRV)
def cauchy_logprob(op, value, loc, scale):
    res = -np.log(np.pi) - pm.log(scale) - log1p_sq((value - loc) / scale)
    return check_parameters(res, pm.gt(scale, 0), msg="scale > 0")


def _cauchy_lcdf(z):
    # arctan(z) + pi/2 = arctan(-1/z) for z < 0: no cancellation in the lower tail.
    neg_side = pm.lt(z, 0.0)
    zn = pm.switch(neg_side, z, -1.0)
    zp = pm.switch(neg_side, 1.0, z)
    return pm.switch(neg_side, pm.log(pm.arctan(-pm.reciprocal(zn)) / np.pi),
                     pm.log1p(-pm.arctan(pm.reciprocal(pm.maximum(zp, 1e-300))) / np.pi))


@_logcdf.register(rv.CauchyRV)
def cauchy_logcdf(op, value, loc, scale):
    return check_parameters(_cauchy_lcdf((value - loc) / scale), pm.gt(scale, 0), msg="scale > 0")


@_icdf.register(rv.CauchyRV)
def cauchy_icdf(op, value, loc, scale):
    # tan(pi (q - 1/2)) = -1/tan(pi q): no cancellation in q - 1/2 for tiny q (1 - q is exact
    # above 1/2, q - 1/2 exact in the middle half).
    mid = pm.and_(pm.ge(value, 0.25), pm.le(value, 0.75))
    tails = pm.switch(pm.lt(value, 0.5), -pm.reciprocal(pm.tan(np.pi * value)),
                      pm.reciprocal(pm.tan(np.pi * (1.0 - value))))
    res = loc + scale * pm.switch(mid, pm.tan(np.pi * (value - 0.5)), tails)
    return _check_prob(value, check_parameters(res, pm.gt(scale, 0), msg="scale > 0"))


@_logprob.register(rv.HalfCauchyRV)
def halfcauchy_logprob(op, value, loc, scale):
    res = np.log(2.0 / np.pi) - pm.log(scale) - log1p_sq((value - loc) / scale)
    return check_parameters(_in_support(pm.ge(value, loc), res), pm.gt(scale, 0), msg="scale > 0")


@_logcdf.register(rv.HalfCauchyRV)
def halfcauchy_logcdf(op, value, loc, scale):
    z = (value - loc) / scale
    big = pm.gt(z, 1.0)
    zb = pm.switch(big, z, 1.0)
    res = pm.switch(big, pm.log1p(-2.0 * pm.arctan(pm.reciprocal(zb)) / np.pi), pm.log(2.0 * pm.arctan(z) / np.pi))
    return check_parameters(_in_support(pm.ge(z, 0.0), res), pm.gt(scale, 0), msg="scale > 0")


@_icdf.register(rv.HalfCauchyRV)
def halfcauchy_icdf(op, value, loc, scale):
    high = pm.gt(value, 0.5)
    res = loc + scale * pm.switch(high, pm.reciprocal(pm.tan(np.pi / 2.0 * (1.0 - value))), pm.tan(np.pi / 2.0 * value))
    return _check_prob(value, check_parameters(res, pm.gt(scale, 0), msg="scale > 0"))


# -- laplace -------------------------------------------------------------------------------------------
@_logprob.register(rv.LaplaceRV)
def laplace_logprob(op, value, loc, scale):
    res = -np.log(2.0) - pm.log(scale) - pm.abs(value - loc) / scale
    return check_parameters(res, pm.gt(scale, 0), msg="scale > 0")


@_logcdf.register(rv.LaplaceRV)
def laplace_logcdf(op, value, loc, scale):
    z = (value - loc) / scale
    res = pm.switch(pm.lt(z, 0.0), np.log(0.5) + z, pm.log1p(-0.5 * pm.exp(-pm.abs(z))))
    return check_parameters(res, pm.gt(scale, 0), msg="scale > 0")


@_icdf.register(rv.LaplaceRV)
def laplace_icdf(op, value, loc, scale):
    res = pm.switch(pm.lt(value, 0.5), loc + scale * pm.log(2.0 * value),
                    loc - scale * (np.log(2.0) + pm.log1p(-value)))
    return _check_prob(value, check_parameters(res, pm.gt(scale, 0), msg="scale > 0"))


# -- logistic --------------------------------------------------------------------------------------------
@_logprob.register(rv.LogisticRV)
def logistic_logprob(op, value, loc, scale):
    z = (value - loc) / scale
    # Symmetric in z: -|z| - 2 softplus(-|z|) never adds two huge terms of opposite sign.
    a = pm.abs(z)
    res = -a - pm.log(scale) - 2.0 * pm.softplus(-a)
    return check_parameters(res, pm.gt(scale, 0), msg="scale > 0")


@_logcdf.register(rv.LogisticRV)
def logistic_logcdf(op, value, loc, scale):
    return check_parameters(-pm.softplus(-(value - loc) / scale), pm.gt(scale, 0), msg="scale > 0")


@_icdf.register(rv.LogisticRV)
def logistic_icdf(op, value, loc, scale):
    res = loc + scale * (pm.log(value) - pm.log1p(-value))
    return _check_prob(value, check_parameters(res, pm.gt(scale, 0), msg="scale > 0"))


# -- gumbel ------------------------------------------------------------------------------------------------
@_logprob.register(rv.GumbelRV)
def gumbel_logprob(op, value, loc, scale):
    z = (value - loc) / scale
    return check_parameters(-pm.log(scale) - z - pm.exp(-z), pm.gt(scale, 0), msg="scale > 0")


@_logcdf.register(rv.GumbelRV)
def gumbel_logcdf(op, value, loc, scale):
    return check_parameters(-pm.exp(-(value - loc) / scale), pm.gt(scale, 0), msg="scale > 0")


@_icdf.register(rv.GumbelRV)
def gumbel_icdf(op, value, loc, scale):
    res = loc - scale * pm.log(-pm.log(value))
    return _check_prob(value, check_parameters(res, pm.gt(scale, 0), msg="scale > 0"))


# -- student t (df, loc, scale) ------------------------------------------------------------------------------
@_logprob.register(rv.StudentTRV)
def studentt_logprob(op, value, df, loc, scale):
    z = (value - loc) / scale
    res = (pm.gammaln((df + 1.0) / 2.0) - pm.gammaln(df / 2.0) - 0.5 * pm.log(df * np.pi) - pm.log(scale)
           - (df + 1.0) / 2.0 * log1p_sq(z / pm.sqrt(df)))
    return check_parameters(res, pm.gt(df, 0), pm.gt(scale, 0), msg="df > 0, scale > 0")


# -- weibull (alpha; scale 1, NumPy's) ----------------------------------------------------------------------
@_logprob.register(rv.WeibullRV)
def weibull_logprob(op, value, alpha):
    res = pm.log(alpha) + xlogy0(alpha - 1.0, value) - pm.pow(value, alpha)
    return check_parameters(_in_support(pm.ge(value, 0.0), res), pm.gt(alpha, 0), msg="alpha > 0")


@_logcdf.register(rv.WeibullRV)
def weibull_logcdf(op, value, alpha):
    res = _in_support(pm.gt(value, 0.0), pm.log1mexp(-pm.pow(pm.maximum(value, 0.0), alpha)))
    return check_parameters(res, pm.gt(alpha, 0), msg="alpha > 0")


@_icdf.register(rv.WeibullRV)
def weibull_icdf(op, value, alpha):
    res = pm.pow(-pm.log1p(-value), pm.reciprocal(alpha))
    return _check_prob(value, check_parameters(res, pm.gt(alpha, 0), msg="alpha > 0"))

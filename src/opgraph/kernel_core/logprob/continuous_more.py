"""logp / logcdf / icdf of pt.random's later continuous distributions (pareto, wald,
triangular, invgamma, rayleigh); the helpers are continuous.py's."""

from __future__ import annotations

import numpy as np

import opgraph.kernel_core.tensor.math as pm
from opgraph.kernel_core.logprob.check import check_parameters
from opgraph.kernel_core.logprob.continuous import _check_prob, _in_support
from opgraph.kernel_core.logprob.rules import _icdf, _logcdf, _logprob
from opgraph.kernel_core.tensor.random import basic as rv


# -- pareto (b, scale) on [scale, inf) ------------------------------------------------------------
@_logprob.register(rv.ParetoRV)
def pareto_logprob(op, value, b, scale):
    inside = pm.ge(value, scale)
    safe = pm.switch(inside, value, scale)
    res = pm.log(b) + b * pm.log(scale) - (b + 1.0) * pm.log(safe)
    return check_parameters(_in_support(inside, res), pm.gt(b, 0), pm.gt(scale, 0), msg="b > 0, scale > 0")


@_logcdf.register(rv.ParetoRV)
def pareto_logcdf(op, value, b, scale):
    inside = pm.ge(value, scale)
    safe = pm.switch(inside, value, scale)
    res = _in_support(inside, pm.log1mexp(b * (pm.log(scale) - pm.log(safe))))
    return check_parameters(res, pm.gt(b, 0), pm.gt(scale, 0), msg="b > 0, scale > 0")


@_icdf.register(rv.ParetoRV)
def pareto_icdf(op, value, b, scale):
    res = scale * pm.exp(-pm.log1p(-value) / b)
    return _check_prob(value, check_parameters(res, pm.gt(b, 0), pm.gt(scale, 0), msg="b > 0, scale > 0"))


# -- wald (inverse Gaussian: mean, shape ``scale``) -------------------------------------------------
@_logprob.register(rv.WaldRV)
def wald_logprob(op, value, mean, scale):
    pos = pm.gt(value, 0.0)
    x = pm.switch(pos, value, 1.0)
    res = (0.5 * (pm.log(scale) - np.log(2.0 * np.pi) - 3.0 * pm.log(x))
           - scale * pm.sqr(x - mean) / (2.0 * pm.sqr(mean) * x))
    return check_parameters(_in_support(pos, res), pm.gt(mean, 0), pm.gt(scale, 0), msg="mean > 0, scale > 0")


@_logcdf.register(rv.WaldRV)
def wald_logcdf(op, value, mean, scale):
    # Phi(r (x/mu - 1)) + exp(2 lam / mu) Phi(-r (x/mu + 1)), r = sqrt(lam / x), in log space without
    # exp(2 lam / mu) (iterative_quantiles.wald_unit_logcdf: no overflow, no cancellation for huge lam / mu).
    from opgraph.kernel_core.logprob.iterative_quantiles import wald_unit_logcdf

    pos = pm.gt(value, 0.0)
    x = pm.switch(pos, value, 1.0)
    r = pm.sqrt(scale / x)
    res = wald_unit_logcdf(r * (x / mean - 1.0), r * (x / mean + 1.0))
    return check_parameters(_in_support(pos, res), pm.gt(mean, 0), pm.gt(scale, 0), msg="mean > 0, scale > 0")


# -- triangular (left, mode, right) ------------------------------------------------------------------
def _triangular_check(res, left, mode, right):
    return check_parameters(res, pm.le(left, mode), pm.le(mode, right), pm.lt(left, right),
                            msg="left <= mode <= right, left < right")


@_logprob.register(rv.TriangularRV)
def triangular_logprob(op, value, left, mode, right):
    width = right - left
    up = pm.log(2.0 * (value - left)) - pm.log(width) - pm.log(mode - left)
    down = pm.log(2.0 * (right - value)) - pm.log(width) - pm.log(right - mode)
    res = pm.switch(pm.lt(value, mode), up, pm.switch(pm.gt(value, mode), down, np.log(2.0) - pm.log(width)))
    res = _in_support(pm.and_(pm.ge(value, left), pm.le(value, right)), res)
    return _triangular_check(res, left, mode, right)


@_logcdf.register(rv.TriangularRV)
def triangular_logcdf(op, value, left, mode, right):
    width = right - left
    lower = 2.0 * pm.log(value - left) - pm.log(width) - pm.log(mode - left)
    upper = pm.log1p(-pm.sqr(right - value) / (width * (right - mode)))
    res = pm.switch(pm.lt(value, left), -np.inf,
                    pm.switch(pm.le(value, mode), lower, pm.switch(pm.lt(value, right), upper, 0.0)))
    return _triangular_check(res, left, mode, right)


@_icdf.register(rv.TriangularRV)
def triangular_icdf(op, value, left, mode, right):
    width = right - left
    c = (mode - left) / width
    res = pm.switch(pm.lt(value, c), left + pm.sqrt(value * width * (mode - left)),
                    right - pm.sqrt((1.0 - value) * width * (right - mode)))
    return _check_prob(value, _triangular_check(res, left, mode, right))


# -- inverse gamma (alpha, beta) ----------------------------------------------------------------------
@_logprob.register(rv.InvGammaRV)
def invgamma_logprob(op, value, alpha, beta):
    pos = pm.gt(value, 0.0)
    x = pm.switch(pos, value, 1.0)
    res = alpha * pm.log(beta) - pm.gammaln(alpha) - (alpha + 1.0) * pm.log(x) - beta / x
    return check_parameters(_in_support(pos, res), pm.gt(alpha, 0), pm.gt(beta, 0), msg="alpha > 0, beta > 0")


# -- rayleigh (scale) --------------------------------------------------------------------------------------
@_logprob.register(rv.RayleighRV)
def rayleigh_logprob(op, value, scale):
    pos = pm.gt(value, 0.0)
    x = pm.switch(pos, value, 1.0)
    res = pm.log(x) - 2.0 * pm.log(scale) - pm.sqr(x / scale) / 2.0
    return check_parameters(_in_support(pos, res), pm.gt(scale, 0), msg="scale > 0")


@_logcdf.register(rv.RayleighRV)
def rayleigh_logcdf(op, value, scale):
    res = _in_support(pm.gt(value, 0.0), pm.log1mexp(-pm.sqr(value / scale) / 2.0))
    return check_parameters(res, pm.gt(scale, 0), msg="scale > 0")


@_icdf.register(rv.RayleighRV)
def rayleigh_icdf(op, value, scale):
    res = scale * pm.sqrt(-2.0 * pm.log1p(-value))
    return _check_prob(value, check_parameters(res, pm.gt(scale, 0), msg="scale > 0"))

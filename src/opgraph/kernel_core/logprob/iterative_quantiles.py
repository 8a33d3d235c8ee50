"""The Wald (inverse Gaussian) icdf, and the von Mises logcdf / icdf, on the scalar ops of
``scalar/vonmises_cdf.py`` (the von Mises CDF) and ``scalar/iterative_quantiles.py`` (the two
quantiles by Newton iteration, with implicit-function gradients).

Wald(mean, lam): ``X = mean U`` with U inverse Gaussian of mean 1 and shape ``phi = lam /
mean``.  Its logcdf (continuous_more.py) uses ``wald_unit_logcdf`` here.

von Mises(mu, kappa) on [-pi, pi] (NumPy's sampler wraps the values there for any mu):
logcdf is the scalar op ``scalar/vonmises_logcdf.py`` (``log F`` in log space below 1/2, finite
where F underflows; ``log1p(-F(-x; -mu))`` above: the reflection ``X -> -X`` maps mu to -mu,
the upper tail keeps its digits); the quantile solves the lower half directly and the upper
half by the same reflection.
"""

from __future__ import annotations

import numpy as np

import opgraph.kernel_core.tensor.math as pm
from opgraph.kernel_core.logprob.check import check_parameters
from opgraph.kernel_core.logprob.continuous import _check_prob, normal_lcdf
from opgraph.kernel_core.logprob.rules import _icdf, _logcdf
from opgraph.kernel_core.scalar import iterative_quantiles as psq
from opgraph.kernel_core.scalar.vonmises_cdf import vonmises_cdf as _vonmises_cdf_scalar
from opgraph.kernel_core.scalar.vonmises_logcdf import vonmises_logcdf as _vonmises_logcdf_scalar
from opgraph.kernel_core.tensor.elemwise import Elemwise
from opgraph.kernel_core.tensor.random import basic as rv

vonmises_cdf = Elemwise(_vonmises_cdf_scalar)
vonmises_logcdf_op = Elemwise(_vonmises_logcdf_scalar)
wald_unit_quantile = Elemwise(psq.wald_unit_quantile)
vonmises_lower_quantile = Elemwise(psq.vonmises_lower_quantile)

_SQRT2 = np.sqrt(2.0)


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


@_icdf.register(rv.WaldRV)
def wald_icdf(op, value, mean, scale):
    u = wald_unit_quantile(value, scale / mean)   # the scalar op (scalar/iterative_quantiles.py)
    ends = pm.or_(pm.eq(value, 0.0), pm.eq(value, 1.0))
    # u is inf at q = 1: mean * u's pullback in mean would be inf * 0 = nan there (the summed
    # gradient nan for every q); the ends read a finite u instead.
    u_in = pm.switch(ends, 1.0, u)
    res = pm.switch(pm.eq(value, 0.0), 0.0, pm.switch(pm.eq(value, 1.0), np.inf, mean * u_in))
    res = check_parameters(res, pm.gt(mean, 0), pm.gt(scale, 0), msg="mean > 0, scale > 0")
    return _check_prob(value, res)


# -- von Mises ------------------------------------------------------------------------------------------
@_logcdf.register(rv.VonMisesRV)
def vonmises_logcdf(op, value, mu, kappa):
    res = vonmises_logcdf_op(value, mu, kappa)   # log space: finite where the CDF underflows
    return check_parameters(res, pm.gt(kappa, 0), msg="kappa > 0")


@_icdf.register(rv.VonMisesRV)
def vonmises_icdf(op, value, mu, kappa):
    upper = pm.gt(value, 0.5)
    p = pm.switch(upper, 1.0 - value, value)
    ps = pm.switch(pm.gt(p, 0.0), p, 0.5)
    mu_s = pm.switch(upper, -mu, mu)
    x = vonmises_lower_quantile(ps, mu_s, kappa)
    res = pm.switch(upper, -x, x)
    res = pm.switch(pm.eq(value, 0.0), -np.pi, pm.switch(pm.eq(value, 1.0), np.pi, res))
    res = check_parameters(res, pm.gt(kappa, 0), msg="kappa > 0")
    return _check_prob(value, res)

"""logp of the multivariate distributions (one value per batch entry, the core axis summed)."""

from __future__ import annotations

import numpy as np

import opgraph.kernel_core.tensor.math as pm
from opgraph.kernel_core.logprob.check import check_parameters
from opgraph.kernel_core.logprob.rules import _logprob, xlogy0
from opgraph.kernel_core.tensor.random import basic as rv


@_logprob.register(rv.MvNormalRV)
def mvnormal_logprob(op, value, mean, cov):
    """-(k log 2pi + log det cov + |L^-1 (x - mean)|^2) / 2 with L = cholesky(cov)."""
    import opgraph.tensor as pt
    from opgraph.tensor import linalg as la

    k = pm.cast(mean.shape[-1], "float64")
    chol = la.cholesky(cov, lower=True, on_error="nan")
    half_logdet = pt.sum(pm.log(la.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
    # A failed factor (NaN) is swapped for the identity before the solve (which refuses NaNs);
    # the check below reports it.
    failed = pm.isnan(half_logdet)
    chol = pm.switch(pt.expand_dims(failed, (-2, -1)), pt.eye(mean.shape[-1]), chol)
    diff = value - mean
    z = la.solve_triangular(chol, pt.expand_dims(diff, -1), lower=True)[..., 0]
    res = -0.5 * k * np.log(2.0 * np.pi) - half_logdet - 0.5 * pt.sum(pm.sqr(z), axis=-1)
    # A non-positive-definite cov gives a NaN factor (cholesky's default): the check names it.
    return check_parameters(res, pm.invert(failed), msg="posdef cov")


@_logprob.register(rv.DirichletRV)
def dirichlet_logprob(op, value, alphas):
    import opgraph.tensor as pt

    res = (pt.sum(xlogy0(alphas - 1.0, value), axis=-1) + pm.gammaln(pt.sum(alphas, axis=-1))
           - pt.sum(pm.gammaln(alphas), axis=-1))
    on_simplex = pm.and_(pt.all(pm.ge(value, 0.0), axis=-1), pm.lt(pm.abs(pt.sum(value, axis=-1) - 1.0), 1e-9))
    res = pm.switch(on_simplex, res, -np.inf)
    return check_parameters(res, pm.gt(alphas, 0), msg="alphas > 0")


@_logprob.register(rv.MultinomialRV)
def multinomial_logprob(op, value, n, p):
    import opgraph.tensor as pt

    x = pm.cast(value, "float64")
    nf = pm.cast(n, "float64")
    res = pm.gammaln(nf + 1.0) - pt.sum(pm.gammaln(x + 1.0), axis=-1) + pt.sum(xlogy0(x, p), axis=-1)
    ok = pm.and_(pt.all(pm.ge(value, 0), axis=-1), pm.eq(pt.sum(value, axis=-1), n))
    res = pm.switch(ok, res, -np.inf)
    return check_parameters(res, pm.ge(p, 0.0), pm.le(p, 1.0), pm.lt(pm.abs(pt.sum(p, axis=-1) - 1.0), 1e-9),
                            msg="0 <= p <= 1, sum(p) == 1")

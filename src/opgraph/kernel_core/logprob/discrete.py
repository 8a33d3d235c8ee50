"""logp / logcdf / icdf of the discrete distributions of ``pt.random``.

Values off the support (non-integers, outside the bounds) get -inf; the
parameters' domains are Check nodes.  NumPy's conventions: ``geometric``
counts trials (support 1, 2, ...), ``negative_binomial(n, p)`` counts
failures before the n-th success.
"""

from __future__ import annotations

import numpy as np

import opgraph.kernel_core.tensor.math as pm
from opgraph.kernel_core.logprob.check import check_parameters
from opgraph.kernel_core.logprob.rules import _icdf, _logcdf, _logprob, xlog1py0, xlogy0
from opgraph.kernel_core.tensor.random import basic as rv


def _ninf(expr):
    return np.array(-np.inf, dtype=expr.type.dtype if expr.type.dtype[0] == "f" else "float64")


def _on_support(value, cond, expr):
    """``expr`` where ``value`` is an integer satisfying ``cond``, else -inf."""
    is_int = pm.eq(value, pm.floor(value)) if value.type.dtype[0] == "f" else None
    ok = cond if is_int is None else pm.and_(cond, is_int)
    return pm.switch(ok, expr, _ninf(expr))


def _fv(value):
    """The value as float (gammaln of an int64 tensor is float64 anyway; explicit for clarity)."""
    return value if value.type.dtype[0] == "f" else pm.cast(value, "float64")


def _check_prob(p, expr, name="p"):
    return check_parameters(expr, pm.ge(p, 0.0), pm.le(p, 1.0), msg=f"0 <= {name} <= 1")


# -- integers in [low, high) -------------------------------------------------------------------
@_logprob.register(rv.IntegersRV)
def integers_logprob(op, value, low, high):
    res = pm.neg(pm.log(pm.cast(high - low, "float64")))
    res = _on_support(value, pm.and_(pm.ge(value, low), pm.lt(value, high)), res)
    return check_parameters(res, pm.lt(low, high), msg="low < high")


@_logcdf.register(rv.IntegersRV)
def integers_logcdf(op, value, low, high):
    n = pm.cast(high - low, "float64")
    k = pm.floor(_fv(value)) - low + 1.0
    res = pm.switch(pm.lt(value, low), -np.inf, pm.switch(pm.ge(value, high - 1), 0.0, pm.log(k) - pm.log(n)))
    return check_parameters(res, pm.lt(low, high), msg="low < high")


@_icdf.register(rv.IntegersRV)
def integers_icdf(op, value, low, high):
    n = pm.cast(high - low, "float64")
    res = pm.maximum(pm.ceil(value * n) - 1.0, 0.0) + low
    return check_parameters(res, pm.lt(low, high), pm.ge(value, 0.0), pm.le(value, 1.0),
                            msg="low < high, 0 <= value <= 1")


# -- bernoulli ------------------------------------------------------------------------------------
@_logprob.register(rv.BernoulliRV)
def bernoulli_logprob(op, value, p):
    res = pm.switch(pm.eq(value, 1), pm.log(p), pm.switch(pm.eq(value, 0), pm.log1p(-p), -np.inf))
    return _check_prob(p, res)


@_logcdf.register(rv.BernoulliRV)
def bernoulli_logcdf(op, value, p):
    res = pm.switch(pm.lt(value, 0), -np.inf, pm.switch(pm.lt(value, 1), pm.log1p(-p), 0.0))
    return _check_prob(p, res)


@_icdf.register(rv.BernoulliRV)
def bernoulli_icdf(op, value, p):
    res = pm.switch(pm.le(value, 1.0 - p), 0.0, 1.0)
    return _check_prob(p, check_parameters(res, pm.ge(value, 0.0), pm.le(value, 1.0), msg="0 <= value <= 1"))


# -- binomial ----------------------------------------------------------------------------------------
@_logprob.register(rv.BinomialRV)
def binomial_logprob(op, value, n, p):
    k = _fv(value)
    nf = pm.cast(n, "float64")
    res = (pm.gammaln(nf + 1.0) - pm.gammaln(k + 1.0) - pm.gammaln(nf - k + 1.0)
           + xlogy0(k, p) + xlog1py0(nf - k, -p))
    res = _on_support(value, pm.and_(pm.ge(value, 0), pm.le(value, n)), res)
    return check_parameters(res, pm.ge(n, 0), pm.ge(p, 0.0), pm.le(p, 1.0), msg="n >= 0, 0 <= p <= 1")


# -- poisson --------------------------------------------------------------------------------------------
@_logprob.register(rv.PoissonRV)
def poisson_logprob(op, value, lam):
    k = _fv(value)
    res = _on_support(value, pm.ge(value, 0), xlogy0(k, lam) - pm.gammaln(k + 1.0) - lam)
    return check_parameters(res, pm.ge(lam, 0.0), msg="lam >= 0")


# -- negative binomial (failures before the n-th success) -----------------------------------------------
@_logprob.register(rv.NegativeBinomialRV)
def negative_binomial_logprob(op, value, n, p):
    k = _fv(value)
    res = (pm.gammaln(k + n) - pm.gammaln(n) - pm.gammaln(k + 1.0) + n * pm.log(p) + xlog1py0(k, -p))
    res = _on_support(value, pm.ge(value, 0), res)
    return check_parameters(res, pm.gt(n, 0), pm.gt(p, 0.0), pm.le(p, 1.0), msg="n > 0, 0 < p <= 1")


# -- geometric (trials until the first success: 1, 2, ...) ------------------------------------------------
@_logprob.register(rv.GeometricRV)
def geometric_logprob(op, value, p):
    k = _fv(value)
    res = _on_support(value, pm.ge(value, 1), pm.log(p) + xlog1py0(k - 1.0, -p))
    return check_parameters(res, pm.gt(p, 0.0), pm.le(p, 1.0), msg="0 < p <= 1")


@_logcdf.register(rv.GeometricRV)
def geometric_logcdf(op, value, p):
    k = pm.floor(_fv(value))
    # log(1 - (1-p)^k), through log1mexp: no cancellation for small p.
    res = pm.switch(pm.lt(value, 1), -np.inf,
                    pm.switch(pm.eq(p, 1.0), 0.0, pm.log1mexp(k * pm.log1p(-p))))
    return check_parameters(res, pm.gt(p, 0.0), pm.le(p, 1.0), msg="0 < p <= 1")


@_icdf.register(rv.GeometricRV)
def geometric_icdf(op, value, p):
    certain = pm.eq(p, 1.0)   # K is 1 (log1p(-1) is -inf)
    res = pm.maximum(pm.ceil(pm.log1p(-value) / pm.log1p(-pm.switch(certain, 0.5, p))), 1.0)
    res = pm.switch(certain, 1.0, res)
    return check_parameters(res, pm.gt(p, 0.0), pm.le(p, 1.0), pm.ge(value, 0.0), pm.le(value, 1.0),
                            msg="0 < p <= 1, 0 <= value <= 1")


# -- categorical ----------------------------------------------------------------------------------------------
@_logprob.register(rv.CategoricalRV)
def categorical_logprob(op, value, p):
    from opgraph.kernel_core.tensor.reduction import sum as pt_sum
    from opgraph.kernel_core.tensor.basic import as_tensor_variable
    import opgraph.tensor as pt

    k = p.shape[-1]
    logp_all = pm.log(p) - pm.log(pt_sum(p, axis=-1, keepdims=True))
    vi = pm.cast(value, "int64")
    inside = pm.and_(pm.ge(vi, 0), pm.lt(vi, k))
    idx = pm.switch(inside, vi, 0)
    if all(d == 1 for d in p.type.shape[:-1]):
        # One probability vector (batch axes of length 1, as the op's make_node leaves them):
        # a gather keeps the value's static shape exactly, which the symbolic broadcast below
        # would lose (a length-1 axis becomes unknown after vectorize_graph, and gradients can
        # then not sum over it).
        row = logp_all[(0,) * (p.type.ndim - 1)]
        res = pm.switch(inside, row[idx], -np.inf)
        if p.type.ndim - 1 > res.type.ndim:
            res = pt.expand_dims(res, tuple(range(p.type.ndim - 1 - res.type.ndim)))
        return check_parameters(res, pm.ge(p, 0.0), pm.le(p, 1.0), msg="0 <= p <= 1")
    # Broadcast the index to the batch shape of p (a scalar p-vector with a vector of values).
    batch = p.type.ndim - 1
    if idx.type.ndim < batch:
        idx = pt.expand_dims(idx, tuple(range(batch - idx.type.ndim)))
    if batch < idx.type.ndim:
        logp_all = pt.expand_dims(logp_all, tuple(range(idx.type.ndim - batch)))
    shape = [pm.maximum(a, b) for a, b in zip([logp_all.shape[d] for d in range(idx.type.ndim)],
                                                [idx.shape[d] for d in range(idx.type.ndim)])]
    idx_b = pt.broadcast_to(idx, shape)
    lp_b = pt.broadcast_to(logp_all, shape + [k])
    picked = pt.take_along_axis(lp_b, pt.expand_dims(idx_b, -1), axis=-1)[..., 0]
    res = pm.switch(pt.broadcast_to(inside, shape), picked, -np.inf)
    return check_parameters(res, pm.ge(p, 0.0), pm.le(p, 1.0), msg="0 <= p <= 1")

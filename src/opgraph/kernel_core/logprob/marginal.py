"""Marginalization of finite discrete variables: ``marginal_logp(rv_values, [z])``.

``z`` (Bernoulli, Categorical with a static number of categories, integers
with constant bounds) is summed out of the joint density over its support
with a stable ``logsumexp``.  Independence is read from the graph shapes:
the logp terms of the variables that depend on ``z`` are computed with ``z``
at a placeholder value, then the placeholder is replaced by the whole support
stacked on a new leading axis (``(K, *batch)``); elementwise terms keep
each indicator's entry separate, so a mixture of ``n`` points costs
``O(n K)`` (the graph does not grow with ``n``), never ``K ** n``.  A term
that mixes entries of ``z`` (a reduction over its batch axis, say) does not
keep that shape, and the function says so instead of enumerating.
"""

from __future__ import annotations

import numpy as np

import opgraph.kernel_core.tensor.math as pm
from opgraph.kernel_core.tensor.basic import as_tensor_variable, constant
from opgraph.kernel_core.tensor.random import basic as rv

__all__ = ["marginal_logp", "marginalize", "support_values"]


def support_values(z):
    """The finite support of the discrete random variable ``z`` as a constant int64 vector."""
    from opgraph.kernel_core.logprob.basic import _is_rv_draw
    from opgraph.kernel_core.tensor.random.op import _static_data

    if not _is_rv_draw(z):
        raise TypeError(f"marginal_logp: {z} is not a random variable")
    op, params = z.owner.op, z.owner.inputs[2:]
    if isinstance(op, rv.BernoulliRV):
        return np.array([0, 1], dtype="int64")
    if isinstance(op, rv.CategoricalRV):
        k = params[0].type.shape[-1]
        if k is None:
            raise ValueError(f"marginal_logp: the number of categories of {z} must be static")
        return np.arange(k, dtype="int64")
    if isinstance(op, rv.IntegersRV):
        lo, hi = (_static_data(p) for p in params)
        if lo is None or hi is None or np.ndim(lo) or np.ndim(hi):
            raise ValueError(f"marginal_logp: integers {z} needs constant scalar bounds to be marginalized")
        return np.arange(int(lo), int(hi), dtype="int64")
    raise NotImplementedError(f"marginal_logp: cannot marginalize {z} ({op}): only bernoulli, categorical "
                              "and integers with constant bounds have a finite support opgraph sums over")


def _logsumexp0(x):
    from opgraph.kernel_core.tensor.reduction import max as pt_max, sum as pt_sum

    m = pt_max(x, axis=0, keepdims=True)
    m = pm.switch(pm.isinf(m), 0.0, m)
    return pm.log(pt_sum(pm.exp(x - m), axis=0)) + m[0]


def marginal_logp(rv_values, marginalized, sum=True):
    """The joint logp of ``rv_values`` ({rv: value}) with the variables of ``marginalized``
    (keys of ``rv_values`` too, whose values are then ignored) summed out.

    Returns a scalar (``sum=False``: the list of terms: one per marginalized variable,
    elementwise over its batch shape, and the others' terms)."""
    from opgraph.kernel_core.graph.replace import vectorize_graph
    from opgraph.kernel_core.logprob.basic import _reaches, conditional_logp
    from opgraph.kernel_core.tensor.reduction import sum as pt_sum

    marginalized = list(marginalized)
    for z in marginalized:
        if z not in rv_values:
            raise ValueError(f"marginal_logp: {z} must be a key of rv_values (give it a placeholder value)")
    terms = conditional_logp(rv_values)
    values = {k: as_tensor_variable(v) for k, v in rv_values.items()}
    by_rv = {k: terms[values[k]] for k in values}
    out = []
    used = set()
    for z in marginalized:
        zv = values[z]
        dependents = [k for k in values if k is not z and k not in marginalized and _reaches(by_rv[k], zv)]
        if any(_reaches(by_rv[k], zv) for k in marginalized if k is not z):
            raise NotImplementedError(f"marginal_logp: {z} and another marginalized variable depend on each "
                                      "other (chains are not supported yet)")
        support = support_values(z)
        batch_nd = z.type.ndim
        if batch_nd and any(by_rv[k].type.ndim != batch_nd for k in dependents):
            bad = next(k for k in dependents if by_rv[k].type.ndim != batch_nd)
            raise NotImplementedError(f"marginal_logp: the logp of {bad} does not keep the entries of {z} "
                                      "apart (its shape differs from the indicator's), so marginalizing would "
                                      "enumerate every joint assignment")
        # (K, 1, ..., 1): broadcasts against every batch entry of z (no reference to z's value).
        z_all = pm.cast(constant(support.reshape((-1,) + (1,) * batch_nd)), zv.type.dtype)
        pieces = [by_rv[z]] + [by_rv[k] for k in dependents]
        # vectorize_graph: each op batches itself over the new leading support axis.
        replaced = vectorize_graph(pieces, {zv: z_all})
        if batch_nd:
            # Explicit broadcasting to the common (K, *batch) shape (no run-time broadcasting).
            import opgraph.tensor as pt

            nd = batch_nd + 1
            common = [replaced[0].shape[d] for d in range(nd)]
            for t in replaced[1:]:
                common = [pm.maximum(c, t.shape[d]) for d, c in enumerate(common)]
            replaced = [pt.broadcast_to(t, common) for t in replaced]
        total = replaced[0]
        for t in replaced[1:]:
            if batch_nd == 0 and t.type.ndim > 1:
                t = pt_sum(t, axis=tuple(range(1, t.type.ndim)))     # a global indicator: (K,)
            total = total + t
        term = _logsumexp0(total)
        if z.name:
            term.name = f"{z.name}_marginal_logprob"
        out.append(term)
        used.update(dependents)
        used.add(z)
    out.extend(by_rv[k] for k in values if k not in used)
    if not sum:
        return out
    result = pt_sum(out[0])
    for t in out[1:]:
        result = result + pt_sum(t)
    return result


def marginalize(rv_values, rvs_to_marginalize, sum=True):
    """The issue's name (pymc-extras' verb): ``marginal_logp`` of ``rv_values`` without ``rvs_to_marginalize``."""
    return marginal_logp(rv_values, rvs_to_marginalize, sum=sum)

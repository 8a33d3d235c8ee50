"""``logp``, ``logcdf``, ``icdf``, ``conditional_logp``, ``joint_logp``: derivation from a generative graph.

``logp(rv, value)`` walks from ``rv`` down to the random variable that
generates it, the way ``grad`` walks a cost: each invertible elementwise node
on the way (``exp``, ``a + b * x``, ``log``, ``sigmoid``, ``logit``; the table
of ``measurable.py``) maps the value back and adds its Jacobian term, ``abs``
folds both signs, ``clip`` censors (point masses at the bounds from the
log-CDF), and the random variable's rule (``rules.py`` tables) gives the
density.  Random variables that are conditioned on (``conditional_logp``) are
replaced by their value variables in the parameters, so each term is the
density of its variable given its parents' values.  A node that is none of
these raises ``NotMeasurableError`` naming the variable and the op.
"""

from __future__ import annotations

import numpy as np

import opgraph.kernel_core.tensor.math as pm
import opgraph.kernel_core.scalar.basic as ps
from opgraph.kernel_core.graph.basic import Variable
from opgraph.kernel_core.logprob import continuous, continuous_more, discrete, incomplete_cdfs, multivariate  # noqa: F401  (register the rules)
from opgraph.kernel_core.logprob.hmm import markov_chain_logp, markov_chain_spec
from opgraph.kernel_core.logprob.measurable import SHIFT_OPS, invert_elemwise
from opgraph.kernel_core.logprob.rules import _icdf, _logcdf, _logprob, has_rule
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.elemwise import Elemwise
from opgraph.kernel_core.tensor.random.op import RandomVariable

__all__ = ["logp", "logcdf", "icdf", "conditional_logp", "joint_logp", "NotMeasurableError"]


class NotMeasurableError(NotImplementedError):
    """The logp of a variable cannot be derived: a node between it and its random variable
    is not a measurable transformation (the message names the variable and the op)."""


def _label(var):
    return repr(var.name) if var.name else str(var)


def _is_rv_draw(var):
    return var.owner is not None and isinstance(var.owner.op, RandomVariable) and var is var.owner.outputs[1]


def _depends_on_rv(var, cond):
    """Whether ``var`` has an unconditioned random draw among its ancestors (iterative walk)."""
    stack, seen = [var], set()
    while stack:
        v = stack.pop()
        if id(v) in seen or v in cond:
            continue
        seen.add(id(v))
        if _is_rv_draw(v):
            return True
        if v.owner is not None:
            stack.extend(v.owner.inputs)
    return False


def _measurable_input(node, cond, who):
    idx = [i for i, v in enumerate(node.inputs) if _depends_on_rv(v, cond)]
    if len(idx) != 1:
        what = "no random variable" if not idx else "several random inputs"
        raise NotMeasurableError(f"cannot derive the logp of {who}: its {node.op} node has {what} "
                                 f"among its inputs ({', '.join(map(str, node.inputs))})")
    return idx[0]


def _conditioned(params, cond):
    if not cond:
        return list(params)
    from opgraph.kernel_core.graph.replace import clone_replace

    needed = {k: v for k, v in cond.items() if any(_reaches(p, k) for p in params)}
    if not needed:
        return list(params)
    return list(clone_replace(list(params), replace=needed, rebuild_strict=False))


def _reaches(var, target):
    stack, seen = [var], set()
    while stack:
        v = stack.pop()
        if v is target:
            return True
        if id(v) in seen:
            continue
        seen.add(id(v))
        if v.owner is not None:
            stack.extend(v.owner.inputs)
    return False


def _logaddexp(a, b):
    m = pm.maximum(a, b)
    finite_m = pm.switch(pm.isinf(m), 0.0, m)
    return pm.switch(pm.and_(pm.isinf(m), pm.lt(m, 0.0)), -np.inf,
                     finite_m + pm.log(pm.exp(a - finite_m) + pm.exp(b - finite_m)))


def _derive(kind, var, value, cond, who):
    """The ``kind`` ("logp", "logcdf") of ``var`` at ``value``."""
    jacobians = []
    while True:
        chain = markov_chain_spec(var)
        if chain is not None:
            if kind != "logp":
                raise NotMeasurableError(f"cannot derive the {kind} of {who}: a discrete Markov chain has a logp only")
            result = markov_chain_logp(chain, value, *_conditioned([chain.init_probs, chain.P], cond))
            break
        node = var.owner
        if node is None:
            raise NotMeasurableError(f"cannot derive the {kind} of {who}: {_label(var)} is not a random "
                                     "variable nor a function of one")
        op = node.op
        if isinstance(op, RandomVariable) and var is node.outputs[1]:
            table = _logprob if kind == "logp" else _logcdf
            if not has_rule(table, op):
                raise NotMeasurableError(f"cannot derive the {kind} of {who}: no {kind} rule for the "
                                         f"random variable {_label(var)} ({op})")
            result = table(op, value, *_conditioned(node.inputs[2:], cond))
            break
        joined = _joined_logp(kind, node, value, cond, who)
        if joined is not None:
            result = joined
            break
        if kind == "logp" and type(op).__name__ == "Max":
            result = _max_of_iid_logp(node, value, cond, who)
            break
        if not isinstance(op, Elemwise):
            raise NotMeasurableError(f"cannot derive the {kind} of {who}: {op} (the node computing "
                                     f"{_label(var)}) is not a measurable transformation")
        idx = _measurable_input(node, cond, who)
        sop = op.scalar_op
        discrete = node.inputs[idx].type.dtype[0] in "iub"
        if isinstance(sop, ps.Abs) and kind == "logp":
            x = node.inputs[0]
            lp_pos = _derive(kind, x, value, cond, who)
            lp_neg = _derive(kind, x, -value, cond, who)
            both = _logaddexp(lp_pos, lp_neg)
            if discrete:      # a mass at 0 is counted once (a density at 0 gets both sides)
                both = pm.switch(pm.eq(value, 0), lp_pos, both)
            result = pm.switch(pm.lt(value, 0), -np.inf, both)
            break
        if isinstance(sop, ps.Clip) and kind == "logp" and idx == 0:
            result = _censored_logp(node, value, cond, who)
            break
        if kind != "logp" and not isinstance(sop, (ps.Add, ps.Sub, ps.Identity)) and \
                not (isinstance(sop, ps.Mul) and _positive_constants(node, idx)):
            raise NotMeasurableError(f"cannot derive the {kind} of {who}: {op} is not an increasing "
                                     "transformation opgraph knows")
        if discrete and not isinstance(sop, SHIFT_OPS):
            raise NotMeasurableError(f"cannot derive the {kind} of {who}: {op} of the discrete variable "
                                     f"{_label(node.inputs[idx])} is not a measurable transformation")
        step = invert_elemwise(sop, node, idx, value)
        if step is None:
            raise NotMeasurableError(f"cannot derive the {kind} of {who}: {op} (the node computing "
                                     f"{_label(var)}) is not a measurable transformation")
        var, value, jac = step
        if jac is not None and kind == "logp":
            jacobians.append(jac)
    for jac in reversed(jacobians):
        result = result + jac
    return result


def _joined_logp(kind, node, value, cond, who):
    """``stack`` (MakeVector) / ``concatenate`` (Join) of random variables: each piece's logp at its
    slice of the value, the other pieces conditioned on their slices (so a piece may depend on
    another: a random walk built with stack).  None when ``node`` is neither."""
    import opgraph.tensor as pt
    from opgraph.kernel_core.graph.basic import Constant

    name = type(node.op).__name__
    if kind != "logp" or name not in ("MakeVector", "Join"):
        return None
    if name == "MakeVector":
        pieces, axis = list(node.inputs), None
        slices = [value[i] for i in range(len(pieces))]
    else:
        axis_var, *pieces = node.inputs
        if not isinstance(axis_var, Constant):
            raise NotMeasurableError(f"cannot derive the logp of {who}: a concatenate along a symbolic axis")
        axis = int(np.asarray(axis_var.data)) % node.outputs[0].type.ndim
        slices, start = [], 0
        for piece in pieces:
            stop = start + piece.shape[axis]
            slices.append(value[(slice(None),) * axis + (slice(start, stop),)])
            start = stop
    for piece in pieces:
        if not _depends_on_rv(piece, cond):
            raise NotMeasurableError(f"cannot derive the logp of {who}: {node.op} joins {piece}, "
                                     "which is not random")
    inner = dict(cond)
    inner.update({piece: sl for piece, sl in zip(pieces, slices)})
    terms = []
    for piece, sl in zip(pieces, slices):
        others = {k: v for k, v in inner.items() if k is not piece}
        terms.append(_conditioned([_derive("logp", piece, sl, others, who)], others)[0])
    if axis is None:
        return pt.stack(terms)
    return pt.concatenate(terms, axis=axis)


def _max_of_iid_logp(node, value, cond, who):
    """``max`` over every axis of iid continuous draws: n f(v) F(v)^(n-1)."""
    import opgraph.tensor as pt

    x = node.inputs[0]
    op = node.op
    axes = getattr(op, "axis", None)
    if axes is not None and sorted(int(a) % x.type.ndim for a in np.atleast_1d(axes)) != list(range(x.type.ndim)):
        raise NotMeasurableError(f"cannot derive the logp of {who}: max over some axes only")
    if not _is_rv_draw(x) or x.type.dtype[0] != "f":
        raise NotMeasurableError(f"cannot derive the logp of {who}: max of something other than "
                                 "continuous random draws")
    rv_op = x.owner.op
    params = x.owner.inputs[2:]
    if rv_op.ndim_supp or any(rv_op.ndims_params) or any(s != 1 for p in params for s in p.type.shape):
        raise NotMeasurableError(f"cannot derive the logp of {who}: max of draws that are not iid "
                                 "(parameters vary across the draws)")
    params = [pt.squeeze(p) if p.type.ndim else p for p in _conditioned(params, cond)]
    if not has_rule(_logcdf, rv_op):
        raise NotMeasurableError(f"cannot derive the logp of {who}: max needs the logcdf of {_label(x)}")
    n = pm.cast(pt.prod(x.shape), "float64")
    return pm.log(n) + _logprob(rv_op, value, *params) + (n - 1.0) * _logcdf(rv_op, value, *params)


def _positive_constants(node, idx):
    from opgraph.kernel_core.logprob.measurable import Constant

    others = [v for i, v in enumerate(node.inputs) if i != idx]
    vals = []
    for v in others:
        while v.owner is not None and type(v.owner.op).__name__ == "DimShuffle":
            v = v.owner.inputs[0]
        if not isinstance(v, Constant):
            return False
        vals.append(np.asarray(v.data))
    return all(np.all(d > 0) for d in vals)


def _censored_logp(node, value, cond, who):
    """``clip(x, lo, hi)``: point masses ``P(x <= lo)`` at ``lo`` and ``P(x >= hi)`` at ``hi``."""
    x, lo, hi = node.inputs
    if _depends_on_rv(lo, cond) or _depends_on_rv(hi, cond):
        raise NotMeasurableError(f"cannot derive the logp of {who}: clip bounds that are random")
    lp = _derive("logp", x, value, cond, who)
    lcdf_lo = _derive("logcdf", x, lo, cond, who)
    if x.type.dtype[0] in "iub":
        # P(X >= hi) = 1 - P(X <= hi - 1)
        lccdf_hi = pm.log1mexp(_derive("logcdf", x, hi - 1, cond, who))
    else:
        lccdf_hi = pm.log1mexp(_derive("logcdf", x, hi, cond, who))
    inside = pm.and_(pm.gt(value, lo), pm.lt(value, hi))
    return pm.switch(pm.eq(value, lo), lcdf_lo,
                     pm.switch(pm.eq(value, hi), lccdf_hi, pm.switch(inside, lp, -np.inf)))


def _as_value(rv, value, who):
    if not isinstance(rv, Variable):
        raise TypeError(f"{who}: rv must be a random variable (a graph variable), got {type(rv).__name__}")
    try:
        value = as_tensor_variable(value)
    except TypeError:
        raise TypeError(f"{who}: the value of {_label(rv)} must be a tensor, got {type(value).__name__}") from None
    if value.type.ndim > rv.type.ndim and rv.type.ndim == 0:
        pass   # elementwise logp of a scalar variable at many values (PyMC allows it)
    return value


def _named(out, rv, suffix):
    if rv.name:
        out.name = f"{rv.name}_{suffix}"
    return out


def logp(rv, value, **kwargs):
    """The log-density (log-mass) graph of ``rv`` at ``value``, elementwise over its batch shape."""
    if kwargs:
        raise TypeError(f"logp() got unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
    value = _as_value(rv, value, "logp")
    return _named(_derive("logp", rv, value, {}, _label(rv)), rv, "logprob")


def logcdf(rv, value, **kwargs):
    """The log-CDF graph of ``rv`` at ``value``."""
    if kwargs:
        raise TypeError(f"logcdf() got unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
    value = _as_value(rv, value, "logcdf")
    return _named(_derive("logcdf", rv, value, {}, _label(rv)), rv, "logcdf")


def icdf(rv, value, **kwargs):
    """The inverse CDF (quantile function) graph of the random variable ``rv`` at ``value``."""
    if kwargs:
        raise TypeError(f"icdf() got unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
    value = _as_value(rv, value, "icdf")
    if not _is_rv_draw(rv) or not has_rule(_icdf, rv.owner.op):
        raise NotMeasurableError(f"cannot derive the icdf of {_label(rv)}: it is not a random variable "
                                 "with an icdf rule")
    op = rv.owner.op
    return _named(_icdf(op, value, *rv.owner.inputs[2:]), rv, "icdf")


def conditional_logp(rv_values, **kwargs):
    """``{value: logp term}``: each variable's logp given its parents' values.

    ``rv_values`` maps random variables (or measurable transformations of
    them) to their value variables; every random variable of the graph that
    appears as a key is replaced by its value wherever another key depends
    on it.
    """
    if kwargs:
        raise TypeError(f"conditional_logp() got unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
    if not isinstance(rv_values, dict):
        raise TypeError(f"conditional_logp: rv_values must be a dict {{rv: value}}, got {type(rv_values).__name__}")
    cond = {}
    for rv, value in rv_values.items():
        cond[rv] = _as_value(rv, value, "conditional_logp")
    out = {}
    for rv, value in cond.items():
        others = {k: v for k, v in cond.items() if k is not rv}
        term = _derive("logp", rv, value, others, _label(rv))
        term = _conditioned([term], others)[0] if others else term
        out[value] = _named(term, rv, "logprob")
    return out


def joint_logp(rv_values, sum=True, **kwargs):
    """The joint log-density of ``rv_values`` ({rv: value}): the sum of every conditional term
    (``sum=False``: the list of terms, one per value variable)."""
    from opgraph.kernel_core.tensor.reduction import sum as pt_sum

    terms = list(conditional_logp(rv_values, **kwargs).values())
    if not sum:
        return terms
    total = pt_sum(terms[0])
    for t in terms[1:]:
        total = total + pt_sum(t)
    return total

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
    from opgraph.kernel_core.logprob.hmm import stable_logsumexp

    return stable_logsumexp(x, axis=0)


def _support_of(z):
    from opgraph.kernel_core.logprob.hmm import markov_chain_spec

    chain = markov_chain_spec(z)
    if chain is not None:
        return np.arange(chain.n_states, dtype="int64")
    return support_values(z)


def component_logps(rv_values, z, marginalized=None, checks=None):
    """The pieces of marginalizing ``z`` out of the joint of ``rv_values``.

    Returns ``(own, emissions, dependents, terms)``: ``own`` the logp of ``z`` at every
    support value, ``emissions`` the sum of its dependents' logps at every support
    value (None without dependents), both ``(K, *batch of z)``; ``dependents`` the
    keys whose terms were used; ``terms`` {rv: conditional logp term} of every key.
    For a Markov chain ``own`` is None (its logp is not elementwise: the forward
    algorithm takes its parameters instead).  ``checks``: a list that receives the
    raising parameter checks on top of the pieces, which are then left off the
    ``(K, *batch)`` terms (``_hoist_checks``)."""
    from opgraph.kernel_core.graph.replace import vectorize_graph
    from opgraph.kernel_core.logprob.basic import _reaches, conditional_logp
    from opgraph.kernel_core.logprob.hmm import markov_chain_spec
    from opgraph.kernel_core.tensor.reduction import sum as pt_sum
    import opgraph.tensor as pt

    marginalized = [z] if marginalized is None else list(marginalized)
    if z not in rv_values:
        raise ValueError(f"marginal_logp: {z} must be a key of rv_values (give it a placeholder value)")
    terms = conditional_logp(rv_values)
    values = {k: as_tensor_variable(v) for k, v in rv_values.items()}
    by_rv = {k: terms[values[k]] for k in values}
    zv = values[z]
    dependents = [k for k in values if k is not z and k not in marginalized and _reaches(by_rv[k], zv)]
    if any(_reaches(by_rv[k], zv) for k in marginalized if k is not z):
        raise NotImplementedError(f"marginal_logp: {z} and another marginalized variable depend on each "
                                  "other (chains are not supported yet)")
    support = _support_of(z)
    chain = markov_chain_spec(z)
    batch_nd = z.type.ndim
    if batch_nd and any(by_rv[k].type.ndim != batch_nd for k in dependents):
        bad = next(k for k in dependents if by_rv[k].type.ndim != batch_nd)
        raise NotImplementedError(f"marginal_logp: the logp of {bad} does not keep the entries of {z} "
                                  "apart (its shape differs from the indicator's), so marginalizing would "
                                  "enumerate every joint assignment")
    # (K, 1, ..., 1): broadcasts against every batch entry of z (no reference to z's value).
    z_all = pm.cast(constant(support.reshape((-1,) + (1,) * batch_nd)), zv.type.dtype)
    pieces = ([] if chain is not None else [by_rv[z]]) + [by_rv[k] for k in dependents]
    if not pieces:
        return None, None, dependents, by_rv
    # vectorize_graph: each op batches itself over the new leading support axis.
    replaced = _support_gathers_to_slices(vectorize_graph(pieces, {zv: z_all}))
    if checks is not None:
        replaced = [_hoist_checks(t, checks) for t in replaced]
    if batch_nd:
        # Explicit broadcasting to the common (K, *batch) shape where a term's static shape
        # leaves a length unknown (no run-time broadcasting).  A term with a fully static
        # shape broadcasts statically in the sum: no (K, n) Alloc of a (K, 1) term.
        nd = batch_nd + 1
        common = [replaced[0].shape[d] for d in range(nd)]
        for t in replaced[1:]:
            common = [pm.maximum(c, t.shape[d]) for d, c in enumerate(common)]
        static = _static_common(replaced)
        replaced = [t if static is not None and None not in t.type.shape else pt.broadcast_to(t, common)
                    for t in replaced]
    elif any(t.type.ndim > 1 for t in replaced):
        replaced = [pt_sum(t, axis=tuple(range(1, t.type.ndim))) if t.type.ndim > 1 else t
                    for t in replaced]    # a global indicator: (K,)
    own = None if chain is not None else replaced[0]
    deps = replaced if chain is not None else replaced[1:]
    emissions = None
    for t in deps:
        emissions = t if emissions is None else emissions + t
    return own, emissions, dependents, by_rv


def _support_gathers_to_slices(terms):
    """``x[z]`` vectorized over the support is a batched gather of ``x`` (an unbatched
    vector) at the constant ``(K, 1, ..., 1)`` index ``a + arange(K)``: that is the slice
    ``x[a:a + K]`` with broadcast axes, a view whose gradient is a slice increment,
    instead of a Blockwise gather (one bounds-checked kernel per call, and a batched
    scatter-add in the gradient)."""
    from opgraph.kernel_core.graph.replace import graph_replace
    from opgraph.kernel_core.graph.traversal import ancestors
    from opgraph.kernel_core.tensor.blockwise import Blockwise
    from opgraph.kernel_core.tensor.elemwise import DimShuffle
    from opgraph.kernel_core.tensor.subtensor import AdvancedSubtensor1

    repl = {}
    for var in ancestors(terms):
        node = var.owner
        if (node is None or not isinstance(node.op, Blockwise)
                or not isinstance(node.op.core_op, AdvancedSubtensor1)):
            continue
        if len(node.inputs) != 2:
            continue
        x, idx = node.inputs
        data = _constant_index(idx) if x.type.ndim == 1 else None
        if data is None:
            continue
        n = x.type.shape[0]
        if data.ndim < 2 or data.size != data.shape[0] or n is None or data.size == 0:
            continue
        flat = data.reshape(-1)
        a = int(flat[0])
        if a < 0 or a + flat.size > n or not np.array_equal(flat, np.arange(a, a + flat.size)):
            continue
        view = x if (a == 0 and flat.size == n) else x[a:a + flat.size]
        new = DimShuffle(1, (0,) + ("x",) * (data.ndim - 1))(view)
        if new.type == node.outputs[0].type:
            repl[node.outputs[0]] = new
    return graph_replace(terms, repl) if repl else terms


def _constant_index(idx):
    """The value of an integer index computed from constants only (the support, maybe
    clipped into range by a logp rule), else None."""
    from opgraph.kernel_core.graph.basic import Constant
    from opgraph.kernel_core.graph.traversal import ancestors

    from opgraph.kernel_core.rewriting.api import rewrite_graph

    if isinstance(idx, Constant):
        return np.asarray(idx.data)
    if idx.type.dtype[0] not in "iu" or any(d is None for d in idx.type.shape):
        return None
    if not all(isinstance(r, Constant) for r in ancestors([idx]) if r.owner is None):
        # A range check against a parameter's static length: canonicalize folds it.
        idx = rewrite_graph(idx)
        if not all(isinstance(r, Constant) for r in ancestors([idx]) if r.owner is None):
            return None
    return np.asarray(idx.eval())


def _hoist_checks(term, checks):
    """``term`` without the raising ``CheckParameterValue`` nodes on top of it (their
    ``(op, condition)`` appended to ``checks``, for the caller to put on the marginal
    term).  The conditions are about parameters, not about the ``(K, n)`` values: on the
    values a check is one more pass over memory and it keeps the logp's elementwise
    loop apart from the logsumexp's.  A check that returns -inf instead of raising stays
    (its -inf entries are part of the values)."""
    from opgraph.kernel_core.logprob.check import CheckParameterValue

    while (term.owner is not None and isinstance(term.owner.op, CheckParameterValue)
           and not term.owner.op.can_be_replaced_by_ninf and len(term.owner.inputs) == 2):
        checks.append((term.owner.op, term.owner.inputs[1]))
        term = term.owner.inputs[0]
    return term


def _with_checks(term, checks):
    for op, cond in checks:
        term = op(term, cond)
    return term


def _static_common(terms):
    """The broadcast of the terms' static shapes when each length is known for some term
    and the known lengths agree (1 broadcasts), else None."""
    nd = terms[0].type.ndim
    out = []
    for d in range(nd):
        known = {t.type.shape[d] for t in terms if t.type.shape[d] is not None}
        if not known:
            return None
        big = known - {1}
        if len(big) > 1:
            return None
        out.append(big.pop() if big else 1)
    return out


def _chain_parameters(z, rv_values):
    """The chain's (init_probs, P) conditioned on the values of the other keys."""
    from opgraph.kernel_core.logprob.basic import _conditioned
    from opgraph.kernel_core.logprob.hmm import markov_chain_spec

    chain = markov_chain_spec(z)
    cond = {k: as_tensor_variable(v) for k, v in rv_values.items() if k is not z}
    return _conditioned([chain.init_probs, chain.P], cond)


def _chain_emissions(z, emissions):
    """Emissions as the forward algorithm wants them: (T, K), zeros without dependents."""
    from opgraph.kernel_core.logprob.hmm import markov_chain_spec
    from opgraph.kernel_core.tensor.construction import zeros

    spec = markov_chain_spec(z)
    if emissions is None:
        return zeros((spec.length, spec.n_states))
    return emissions.T


def marginal_logp(rv_values, marginalized, sum=True):
    """The joint logp of ``rv_values`` ({rv: value}) with the variables of ``marginalized``
    (keys of ``rv_values`` too, whose values are then ignored) summed out.

    A ``DiscreteMarkovChain`` with emissions elementwise over its steps is summed out
    by the forward algorithm (``hmm.py``).  Returns a scalar (``sum=False``: the list
    of terms: one per marginalized variable, elementwise over its batch shape (a
    chain's: a scalar), and the others' terms)."""
    from opgraph.kernel_core.logprob.check import check_parameters
    from opgraph.kernel_core.logprob.hmm import forward_logp, markov_chain_spec
    from opgraph.kernel_core.tensor.reduction import all as pt_all, sum as pt_sum

    marginalized = list(marginalized)
    for z in marginalized:
        if z not in rv_values:
            raise ValueError(f"marginal_logp: {z} must be a key of rv_values (give it a placeholder value)")
    out, used, by_rv = [], set(), None
    for z in marginalized:
        checks = []
        own, emissions, dependents, by_rv = component_logps(rv_values, z, marginalized, checks=checks)
        if markov_chain_spec(z) is not None:
            init, P = _chain_parameters(z, rv_values)
            term = forward_logp(pm.log(init), None, _chain_emissions(z, emissions), P=P)
            # The scaled steps use P itself: a negative entry must not pass silently
            # (log P made it nan before), as the chain's own logp checks.
            term = check_parameters(term, pt_all(pm.ge(P, 0.0)), pt_all(pm.ge(init, 0.0)),
                                    msg="P >= 0, init_probs >= 0")
        else:
            total = own if emissions is None else own + emissions
            term = _logsumexp0(total)
        term = _with_checks(term, checks)
        if z.name:
            term.name = f"{z.name}_marginal_logprob"
        out.append(term)
        used.update(dependents)
        used.add(z)
    out.extend(t for k, t in by_rv.items() if k not in used)
    if not sum:
        return out
    result = pt_sum(out[0])
    for t in out[1:]:
        result = result + pt_sum(t)
    return result


def marginalize(rv_values, rvs_to_marginalize, sum=True):
    """The issue's name (pymc-extras' verb): ``marginal_logp`` of ``rv_values`` without ``rvs_to_marginalize``."""
    return marginal_logp(rv_values, rvs_to_marginalize, sum=sum)

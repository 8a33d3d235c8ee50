"""Discrete Markov chains (pymc-extras' ``DiscreteMarkovChain``) and the forward algorithm.

``DiscreteMarkovChain(P, steps, init_probs=...)`` draws ``x_0 ~ Categorical(init_probs)``
then ``x_t ~ Categorical(P[x_{t-1}])`` for ``steps`` transitions in one scan, so the
chain has ``steps + 1`` states.  The chain variable carries its parameters in
``tag.discrete_markov_chain`` (a :class:`MarkovChainSpec`): that is how ``logp``
recognises it (the scan that draws it is not a measurable op by itself).

Its logp is ``log init[x_0] + sum_t log P[x_{t-1}, x_t]`` (gathers, no loop).
Marginalizing it out of a joint whose emissions are elementwise over the chain
(``y_t`` depends on ``x_t`` only) is the forward algorithm: the emission
log-likelihoods of every state at every step form a ``(K, T)`` matrix (the
placeholder trick of ``marginal.py``), then one scan carries
``log alpha_t = logsumexp_i(log alpha_{t-1}[i] + log P[i, :]) + E[:, t]``:
``O(K^2 T)`` work in a graph whose size does not depend on ``T`` (the scan is one
node), instead of the ``K^T`` terms of enumeration.  ``forward_backward`` adds the
backward pass for ``recover_marginals``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import opgraph.kernel_core.tensor.math as pm
from opgraph.kernel_core.graph.basic import Variable
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.shape import squeeze

__all__ = ["DiscreteMarkovChain", "MarkovChainSpec", "markov_chain_spec", "markov_chain_logp",
           "forward_log_alpha", "forward_logp", "forward_backward", "log_matmul_exp", "stable_logsumexp"]


@dataclass(frozen=True, eq=False)
class MarkovChainSpec:
    """What ``logp`` needs of a chain: initial probabilities ``(K,)``, transitions ``(K, K)``
    (row ``i``: the distribution of the next state after state ``i``), the number of
    states and the chain's length (``steps + 1``)."""

    init_probs: Variable
    P: Variable
    n_states: int
    length: int


def markov_chain_spec(var):
    """The :class:`MarkovChainSpec` of a ``DiscreteMarkovChain`` variable, else None."""
    tag = getattr(var, "tag", None)
    return getattr(tag, "discrete_markov_chain", None) if tag is not None else None


def _matrix_and_vector(P, init_probs):
    P = as_tensor_variable(P)
    if P.type.ndim != 2:
        raise ValueError(f"DiscreteMarkovChain: P must be a (K, K) transition matrix, got {P.type.ndim} dimensions")
    k = P.type.shape[0] if P.type.shape[0] is not None else P.type.shape[1]
    if k is None:
        raise ValueError("DiscreteMarkovChain: the number of states (P's shape) must be static "
                         "(give P a static shape, e.g. pt.tensor('P', shape=(3, 3)))")
    if init_probs is None:
        init_probs = np.full(k, 1.0 / k)
    init_probs = as_tensor_variable(init_probs)
    if init_probs.type.ndim != 1:
        raise ValueError(f"DiscreteMarkovChain: init_probs must be a vector, got {init_probs.type.ndim} dimensions")
    return P, init_probs, int(k)


def DiscreteMarkovChain(P, steps, init_probs=None, init_dist=None, rng=None, name=None):
    """A first-order Markov chain of ``steps + 1`` integer states in ``0..K-1``.

    ``init_dist``: a categorical random variable for the first state (its probabilities
    are used), or ``init_probs`` (default: uniform).  ``rng``: a shared generator (each
    draw advances it when the function gets ``updates=chain.tag.updates``).
    """
    from opgraph.kernel_core.logprob.basic import _is_rv_draw
    from opgraph.kernel_core.scan.builder import scan
    from opgraph.kernel_core.tensor.join import concatenate
    from opgraph.kernel_core.tensor.random import basic as rv

    if init_dist is not None:
        if init_probs is not None:
            raise ValueError("DiscreteMarkovChain: give init_dist or init_probs, not both")
        if not _is_rv_draw(init_dist) or not isinstance(init_dist.owner.op, rv.CategoricalRV):
            raise TypeError(f"DiscreteMarkovChain: init_dist must be a categorical random variable, got {init_dist}")
        init_probs = init_dist.owner.inputs[2]
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"DiscreteMarkovChain: steps must be a positive int (the number of transitions), "
                         f"got {steps!r}")
    P, init_probs, k = _matrix_and_vector(P, init_probs)
    x0 = rv.categorical(init_probs, rng=rng)

    def step(prev, P_):
        return rv.categorical(P_[prev], rng=rng)

    xs, updates = scan(step, outputs_info=[x0], non_sequences=[P], n_steps=int(steps),
                       name="discrete_markov_chain")
    chain = concatenate([x0[None], xs])
    chain.tag.discrete_markov_chain = MarkovChainSpec(init_probs, P, k, int(steps) + 1)
    chain.tag.updates = updates
    if name is not None:
        chain.name = name
    return chain


def markov_chain_logp(spec, value, init_probs=None, P=None):
    """``log init[x_0] + sum_t log P[x_{t-1}, x_t]`` (with conditioned parameters if given)."""
    from opgraph.kernel_core.logprob.check import check_parameters
    from opgraph.kernel_core.tensor.reduction import all as pt_all, sum as pt_sum

    init_probs = spec.init_probs if init_probs is None else init_probs
    P = spec.P if P is None else P
    v = pm.cast(value, "int64")
    k = spec.n_states
    inside = pt_all(pm.and_(pm.ge(v, 0), pm.lt(v, k)))
    vi = pm.switch(pm.and_(pm.ge(v, 0), pm.lt(v, k)), v, 0)
    res = pm.log(init_probs[vi[0]]) + pt_sum(pm.log(P[vi[:-1], vi[1:]]))
    res = pm.switch(inside, res, -np.inf)
    return check_parameters(res, pt_all(pm.ge(P, 0.0)), pt_all(pm.ge(init_probs, 0.0)),
                            msg="P >= 0, init_probs >= 0")


def stable_logsumexp(x, axis, keepdims=False):
    """``log(sum(exp(x), axis))`` shifted by the max once: ``m + log(sum(exp(x - m)))``.

    ``m`` (0 where the max is infinite, so an all ``-inf`` slice stays ``-inf``) is a
    constant for ``grad`` (``consider_constant``: the value does not depend on it),
    so the gradient is ``g * exp(x - m) / sum(...)`` with no max-gradient mask; the
    ``log`` is tagged ``stable_logsumexp`` so the stabilizer does not shift it a
    second time.  Shared by the forward algorithm and ``marginal.py``."""
    from opgraph.kernel_core.gradient import consider_constant
    from opgraph.kernel_core.tensor.reduction import max as pt_max, sum as pt_sum

    m = pt_max(x, axis=axis, keepdims=True)
    m = consider_constant(pm.switch(pm.isinf(m), 0.0, m))
    total = pm.log(pt_sum(pm.exp(x - m), axis=axis, keepdims=keepdims))
    total.owner.tag.stable_logsumexp = True
    return total + (m if keepdims else squeeze(m, axis=axis))


def _logsumexp(x, axis):
    return stable_logsumexp(x, axis)


def log_matmul_exp(log_a, log_P):
    """``log(exp(log_a) @ exp(log_P))`` for a vector ``log_a`` (K,): logsumexp over the rows."""
    return _logsumexp(log_a[:, None] + log_P, axis=0)


def _forward_step(e_t, prev, log_P):
    """One step of the forward recursion: log alpha_t from log alpha_{t-1} and the emissions at t."""
    return log_matmul_exp(prev, log_P) + e_t


def forward_log_alpha(log_init, log_P, emissions):
    """The forward variables ``log alpha`` (T, K) for emissions (T, K) (one scan over T - 1 steps)."""
    from opgraph.kernel_core.scan.builder import scan
    from opgraph.kernel_core.tensor.join import concatenate

    alpha0 = log_init + emissions[0]
    rest = scan(_forward_step, sequences=[emissions[1:]], outputs_info=[alpha0], non_sequences=[log_P],
                name="forward_algorithm", return_updates=False)
    return concatenate([alpha0[None], rest])


def _scaled_forward_step(e_t, prev, P_T):
    """The same step with the transition probabilities themselves: shift ``log alpha`` by
    its max ``m`` (a constant for ``grad``), ``log alpha_t = log(P.T @ exp(prev - m)) + m
    + E[:, t]``: K exponentials and one small matrix-vector product per step instead of
    K^2 exponentials.  Every entry of ``exp(prev - m)`` is in [0, 1] and the largest is 1,
    so ``P.T @ .`` neither overflows nor loses the dominant term.

    Returns the new state and, as per-step outputs, ``w = exp(prev - m)`` and ``P.T @ w``:
    the gradient's backward loop reads them from their traces (the pullback reads the
    forward step's outputs back instead of recomputing them), so its step is one product
    and a few elementwise operations -- no max, exp or second product.  A function without
    the gradient drops the two traces (``scan_unused_outputs``)."""
    from opgraph.kernel_core.gradient import consider_constant
    from opgraph.kernel_core.tensor.dot import dot
    from opgraph.kernel_core.tensor.reduction import max as pt_max

    m = pt_max(prev)
    m = consider_constant(pm.switch(pm.isinf(m), 0.0, m))
    w = pm.exp(prev - m)
    pw = dot(P_T, w)
    return pm.log(pw) + (m + e_t), w, pw


def _first_and_later(emissions):
    """``emissions[0]`` and ``emissions[1:]`` as one split: their gradient is one join,
    not two increments of zero matrices added together."""
    from opgraph.kernel_core.tensor.join import split

    length = emissions.shape[0]
    head, tail = split(emissions, _sizes(length), 2, axis=0)
    return squeeze(head, axis=0), tail


def _sizes(length):
    from opgraph.kernel_core.tensor.join import make_vector

    return make_vector(1, length - 1, dtype="int64")


def forward_logp(log_init, log_P, emissions, P=None):
    """``log p(y)`` of the HMM: logsumexp of the last forward variable (the scan keeps only
    the running alpha, so memory is O(K T) for the outputs and O(K) per step).  With the
    transition matrix ``P`` itself (``log_P`` its log) the steps are the scaled
    matrix-vector form (``_scaled_forward_step``)."""
    from opgraph.kernel_core.scan.builder import scan

    first, later = _first_and_later(emissions)
    alpha0 = log_init + first
    if P is None:
        alphas = scan(_forward_step, sequences=[later], outputs_info=[alpha0], non_sequences=[log_P],
                      name="forward_algorithm", return_updates=False)
    else:
        alphas = scan(_scaled_forward_step, sequences=[later], outputs_info=[alpha0, None, None],
                      non_sequences=[as_tensor_variable(P).T], name="forward_algorithm",
                      return_updates=False)[0]
    return _logsumexp(alphas[-1], axis=0)


def forward_backward(log_init, log_P, emissions):
    """Log posterior state probabilities ``log p(x_t = k | y)`` (T, K): forward and backward
    scans in log space, ``log alpha + log beta - log p(y)``."""
    from opgraph.kernel_core.scan.builder import scan
    from opgraph.kernel_core.tensor.join import concatenate

    log_alpha = forward_log_alpha(log_init, log_P, emissions)
    beta_last = pm.zeros_like(emissions[0])

    def back(e_next, nxt, lp):
        # log beta_t[i] = logsumexp_j(log P[i, j] + E[t+1, j] + log beta_{t+1}[j])
        return _logsumexp(lp + (e_next + nxt)[None, :], axis=1)

    betas = scan(back, sequences=[emissions[1:][::-1]], outputs_info=[beta_last], non_sequences=[log_P],
                 name="backward_algorithm", return_updates=False)
    log_beta = concatenate([betas[::-1], beta_last[None]])
    log_z = _logsumexp(log_alpha[-1], axis=0)
    return log_alpha + log_beta - log_z

"""``recover_marginals``: the posterior of a marginalized variable given the other values.

After ``marginal_logp`` has summed ``z`` out, the values of the other variables
still say which of ``z``'s support values explain them: ``p(z = k | rest)``.

- Independent indicators (a mixture): each entry's joint with its dependents at every
  support value, ``log p(z_i = k) + log p(y_i | z_i = k)`` (the ``(K, n)`` matrix
  marginalization builds), normalized over ``k``.
- A ``DiscreteMarkovChain``: forward-backward (``hmm.forward_backward``), the
  smoothed state probabilities ``p(x_t = k | y_0..y_{T-1})``.

The support axis is the last one: ``(*batch, K)`` (a chain: ``(T, K)``), as
pymc-extras lays out its ``lp_`` variables.
"""

from __future__ import annotations

import opgraph.kernel_core.tensor.math as pm

__all__ = ["recover_marginals"]


def recover_marginals(rv_values, marginalized, return_log=False):
    """``{z: p(z = k | the other values)}`` for each ``z`` of ``marginalized``.

    ``rv_values`` is the dict given to ``marginal_logp`` (each marginalized variable
    with a placeholder value); ``return_log=True`` gives log-probabilities."""
    from opgraph.kernel_core.logprob.hmm import forward_backward, markov_chain_spec
    from opgraph.kernel_core.logprob.marginal import (
        _chain_emissions, _chain_parameters, _logsumexp0, component_logps,
    )

    marginalized = list(marginalized)
    out = {}
    for z in marginalized:
        own, emissions, _, _ = component_logps(rv_values, z, marginalized)
        if markov_chain_spec(z) is not None:
            init, P = _chain_parameters(z, rv_values)
            log_post = forward_backward(pm.log(init), pm.log(P), _chain_emissions(z, emissions))
            res = log_post if return_log else pm.exp(log_post)
        else:
            total = own if emissions is None else own + emissions
            log_post = total - _logsumexp0(total)[None]
            nd = log_post.type.ndim
            log_post = log_post.transpose(*range(1, nd), 0) if nd > 1 else log_post
            res = log_post if return_log else pm.exp(log_post)
        if z.name:
            res.name = f"{'lp' if return_log else 'p'}_{z.name}"
        out[z] = res
    return out

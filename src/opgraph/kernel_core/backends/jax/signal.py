"""Convolve1d: ``jnp.convolve`` (full, or valid for the pullback's form)."""

from __future__ import annotations

import jax.numpy as jnp

from opgraph.kernel_core.backends.jax.dispatch import jax_funcify
from opgraph.kernel_core.tensor.signal.conv import Convolve1d


@jax_funcify.register(Convolve1d)
def jax_funcify_convolve1d(op, node, **kwargs):
    dtype = node.outputs[0].type.dtype
    mode = op.mode

    def convolve1d(x, k):
        # Shapes are static while tracing: the other modes' errors are raised here.
        n, m = x.shape[0], k.shape[0]
        if n == 0 or m == 0:
            raise ValueError("convolve1d: x and k must not be empty")
        if mode == "valid" and n < m:
            raise ValueError("Convolve1d{mode=valid}: x must be at least as long as k")
        full = jnp.convolve(x, k, mode="full").astype(dtype)
        return full if mode == "full" else full[m - 1:n]

    return convolve1d

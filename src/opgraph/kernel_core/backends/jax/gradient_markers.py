"""The gradient markers (consider_constant, zero_grad, ...): identities in the forward pass."""

from __future__ import annotations

from opgraph.kernel_core.backends.jax.dispatch import jax_funcify
from opgraph.kernel_core.gradient import GradientMarker


@jax_funcify.register(GradientMarker)
def _gradient_marker(op, node, **kwargs):
    return lambda x: x

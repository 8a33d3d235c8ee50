"""Softmax and LogSoftmax: ``jax.nn``'s, over the op's axis (``None``: every element)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from opgraph.kernel_core.backends.jax.dispatch import jax_funcify
from opgraph.kernel_core.tensor.special import LogSoftmax, Softmax


def _over_axis(fn, axis):
    if axis is not None:
        return lambda x: fn(x, axis=axis)

    def whole(x):
        return fn(jnp.reshape(x, (-1,)), axis=0).reshape(jnp.shape(x))
    return whole


@jax_funcify.register(Softmax)
def jax_funcify_softmax(op, node, **kwargs):
    return _over_axis(jax.nn.softmax, op.axis)


@jax_funcify.register(LogSoftmax)
def jax_funcify_log_softmax(op, node, **kwargs):
    return _over_axis(jax.nn.log_softmax, op.axis)

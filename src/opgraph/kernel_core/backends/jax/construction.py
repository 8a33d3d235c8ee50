"""Alloc, AllocEmpty, ARange and Eye.  Their sizes must be static: constants,
values computed from static shapes, or the output's fully known static shape."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from opgraph.kernel_core.backends.jax.dispatch import is_static, jax_funcify, static_output_shape, static_value
from opgraph.kernel_core.tensor.construction import ARange, Alloc, AllocEmpty, Eye


def _static_shape(op, node, entries, first_input=0):
    """The output shape from the size entries, or the output's static shape when they are traced."""
    known = node.outputs[0].type.shape
    shape = []
    for k, (e, s) in enumerate(zip(entries, known)):
        if is_static(e):
            shape.append(int(e))
        elif s is not None:
            shape.append(int(s))
        else:
            static_value(e, op, f"the length of axis {k} (input {k + first_input}: {node.inputs[k + first_input]})")
    return tuple(shape)


@jax_funcify.register(Alloc)
def _alloc(op, node, **kwargs):
    dtype = np.dtype(node.outputs[0].type.dtype)

    def alloc(value, *shape):
        shape = _static_shape(op, node, shape, first_input=1)
        try:
            return jnp.broadcast_to(jnp.asarray(value).astype(dtype), shape)
        except ValueError:
            raise ValueError(f"Alloc: value of shape {jnp.shape(value)} cannot be broadcast to {shape}") from None
    return alloc


@jax_funcify.register(AllocEmpty)
def _alloc_empty(op, node, **kwargs):
    dtype = np.dtype(op.dtype)
    # The content of an empty array is unspecified: zeros are a valid choice.
    return lambda *shape: jnp.zeros(_static_shape(op, node, shape), dtype)


@jax_funcify.register(ARange)
def _arange(op, node, **kwargs):
    dtype = np.dtype(op.dtype)
    known = static_output_shape(node)

    def arange(start, stop, step):
        if is_static(start) and is_static(stop) and is_static(step):
            start, stop, step = (np.asarray(v)[()] for v in (start, stop, step))
            if step == 0:
                raise ValueError("arange: step must not be 0")
            return jnp.asarray(np.arange(start, stop, step, dtype=dtype))
        if known is not None:   # the length is static: only the values are traced
            return (start + step * jnp.arange(known[0])).astype(dtype)
        static_value(next(v for v in (start, stop, step) if not is_static(v)), op,
                     "a bound or the step (they decide the length)")
    return arange


@jax_funcify.register(Eye)
def _eye(op, node, **kwargs):
    dtype = np.dtype(op.dtype)

    def eye(n, m, k):
        n, m = _static_shape(op, node, (n, m))
        k = int(static_value(k, op, "the diagonal offset k"))
        return jnp.eye(n, m, k, dtype=dtype)
    return eye

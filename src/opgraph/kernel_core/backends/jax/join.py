"""Join (concatenate), Split and MakeVector.  The axis and the split sizes shape the
outputs: they must be static (constants, static shapes) unless the outputs'
static shapes say the sizes."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from opgraph.kernel_core.backends.jax.dispatch import is_static, jax_funcify, static_value
from opgraph.kernel_core.tensor.join import Join, MakeVector, Split


@jax_funcify.register(Join)
def _join(op, node, **kwargs):
    dtype = np.dtype(node.outputs[0].type.dtype)

    def join(axis, *tensors):
        axis = int(static_value(axis, op, "the axis"))
        return jnp.concatenate([jnp.asarray(t).astype(dtype) for t in tensors], axis=axis)
    return join


@jax_funcify.register(Split)
def _split(op, node, **kwargs):
    x_var = node.inputs[0]

    def split(x, axis, splits):
        axis = int(static_value(axis, op, "the axis")) % x.ndim
        if is_static(splits):
            sizes = [int(s) for s in np.asarray(splits)]
            if len(sizes) != op.len_splits or sum(sizes) != x.shape[axis]:
                raise ValueError(f"split: sizes {sizes} do not add up to length {x.shape[axis]} of axis {axis}")
        else:
            sizes = [o.type.shape[axis] for o in node.outputs]
            if any(s is None for s in sizes):
                static_value(splits, op, f"the split sizes (of {x_var})")
        bounds = np.cumsum(sizes)[:-1].tolist()
        return tuple(jnp.split(x, bounds, axis=axis))
    return split


@jax_funcify.register(MakeVector)
def _make_vector(op, node, **kwargs):
    dtype = np.dtype(op.dtype)
    return lambda *scalars: jnp.stack([jnp.asarray(s).astype(dtype) for s in scalars]) if scalars \
        else jnp.zeros((0,), dtype)

"""Repeat, sort / argsort, cumsum / cumprod, take / add along an axis, searchsorted, unique.

``repeat`` with traced repeats needs the output's static length; ``unique``'s
output size is its input's values: it compiles only on a static input.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from opgraph.kernel_core.backends.jax.checks import register_checking_op
from opgraph.kernel_core.backends.jax.dispatch import is_static, jax_funcify, static_value
from opgraph.kernel_core.backends.jax.subtensor import check_bounds
from opgraph.kernel_core.tensor import extra_ops as xo

register_checking_op(xo.TakeAlongAxis)
register_checking_op(xo.AddAlongAxis)


@jax_funcify.register(xo.RepeatOp)
def _repeat(op, node, **kwargs):
    axis = op.axis
    length = node.outputs[0].type.shape[axis] if axis is not None else None

    def repeat(x, r):
        if is_static(r):
            r = np.asarray(r)
            if np.any(r < 0):
                raise ValueError(f"repeat: negative repeats {r.tolist()}")
            return jnp.repeat(x, r, axis=axis, total_repeat_length=int(np.sum(np.broadcast_to(r, (x.shape[axis],)))))
        if length is None:
            static_value(r, op, "the repeats (their sum is the output's length)")
        return jnp.repeat(x, r, axis=axis, total_repeat_length=length)
    return repeat


@jax_funcify.register(xo.SortOp)
def _sort(op, node, **kwargs):
    axis = op.axis
    return lambda x: jnp.sort(x, axis=axis, stable=True)


@jax_funcify.register(xo.ArgSortOp)
def _argsort(op, node, **kwargs):
    axis = op.axis
    return lambda x: jnp.argsort(x, axis=axis, stable=True).astype("int64")


@jax_funcify.register(xo.CumOp)
def _cumop(op, node, **kwargs):
    fn = jnp.cumsum if op.mode == "add" else jnp.cumprod
    axis = op.axis
    dtype = np.dtype(node.outputs[0].type.dtype)
    return lambda x: fn(x, axis=axis, dtype=dtype)


@jax_funcify.register(xo.TakeAlongAxis)
def _take_along_axis(op, node, **kwargs):
    axis = op.axis
    def take_along_axis(x, idx):
        check_bounds(op, idx, jnp.shape(x)[axis], axis)
        return jnp.take_along_axis(x, idx, axis=axis)
    return take_along_axis


@jax_funcify.register(xo.AddAlongAxis)
def _add_along_axis(op, node, **kwargs):
    axis = op.axis
    dtype = np.dtype(node.outputs[0].type.dtype)

    def add_along_axis(x, g, idx):
        check_bounds(op, idx, jnp.shape(x)[axis], axis)
        index = list(np.indices(idx.shape, sparse=True))
        index[axis] = idx
        return jnp.zeros(jnp.shape(x), dtype).at[tuple(index)].add(g)
    return add_along_axis


@jax_funcify.register(xo.SearchsortedOp)
def _searchsorted(op, node, **kwargs):
    side = op.side

    def searchsorted(x, v, *sorter):
        return jnp.searchsorted(x, v, side=side, sorter=sorter[0] if sorter else None).astype("int64")
    return searchsorted


@jax_funcify.register(xo.Unique)
def _unique(op, node, **kwargs):
    def unique(x):
        x = static_value(x, op, "its input (the number of distinct values is the output's length)")
        storage = [[None] for _ in node.outputs]
        op.perform(node, [x], storage)
        outs = tuple(jnp.asarray(s[0]) for s in storage)
        return outs if len(outs) > 1 else outs[0]
    return unique

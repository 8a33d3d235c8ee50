"""Reductions of values whose result is known without reducing, and reductions merged.

Gradients of sums are full of broadcast constants: the pullback of
``sum(x)`` fills x's shape with the output gradient, and a gradient flowing
through ``x - mu`` sums that fill back up.  ``sum(fill(x, c))`` is
``c * size(x)``: computing it so never materializes (or loops over) the fill.

Vectorized logps are full of reductions over axes of length one (the batch axis of a
parameter that was a scalar) and of reductions of reductions (``all(all(c, axis=1))``, a
batched condition reduced once per batch, then once for the check): the table below drops
the first and merges the second, one loop instead of two or three.
"""

from __future__ import annotations

import functools

from opgraph.kernel_core.rewriting.canonicalize import is_elemwise, with_dtype
from opgraph.kernel_core.rewriting.db import node_rewriter, register_rewrite
from opgraph.kernel_core.scalar import basic as ps
from opgraph.kernel_core.tensor import math as tm
from opgraph.kernel_core.tensor.join import MakeVector
from opgraph.kernel_core.tensor.reduction import All, Any, Max, Min, Prod, Sum, _reduced_axes
from opgraph.kernel_core.tensor.shape import shape_i


@node_rewriter([Sum])
def sum_of_fill(fgraph, node):
    """sum(fill(x, c)) -> c * size(x), for c of one element and a sum over every axis."""
    filled = node.inputs[0]
    ndim = filled.type.ndim
    if node.op.axis is not None and tuple(node.op.axis) != tuple(range(ndim)):
        return None
    if not is_elemwise(filled, ps.Second):
        return None
    shaped, value = filled.owner.inputs
    if value.type.ndim != ndim or any(s != 1 for s in value.type.shape):
        return None
    number = value.dimshuffle() if ndim else value   # the one element, as a 0-d tensor
    size = None
    for d in range(ndim):
        # ``value`` has one element, so the fill has ``shaped``'s shape.
        size = shape_i(shaped, d) if size is None else size * shape_i(shaped, d)
    out = node.outputs[0]
    total = number if size is None else tm.mul(with_dtype(number, out), tm.cast(size, out.type.dtype))
    return [with_dtype(total, out)]


register_rewrite(sum_of_fill, "canonicalize", "reduction")


# Reductions whose value on one element is that element (the cast aside).
_ONE_ELEMENT_IDENTITY = (Sum, Prod, Max, Min, All, Any)


def _same_reduction(op, axes):
    """``op``'s class (and output dtype) over ``axes`` (None: every axis)."""
    if isinstance(op, (Sum, Prod)):
        return type(op)(axes, op.dtype)
    return type(op)(axes)


@node_rewriter(list(_ONE_ELEMENT_IDENTITY), name="local_reduce_broadcastable")
def local_reduce_broadcastable(fgraph, node):
    """reduce(x, axes) -> reduce(x without its length-1 reduced axes): those reduce nothing
    (a reduction of a 0-d x, or over no axes, is x)."""
    x, out = node.inputs[0], node.outputs[0]
    ndim = x.type.ndim
    axes = _reduced_axes(node.op.axis, ndim)
    if not axes:
        return [with_dtype(x, out)]
    ones = {a for a in axes if x.type.shape[a] == 1}
    if not ones:
        return None
    kept = [d for d in range(ndim) if d not in ones]
    rest = [kept.index(a) for a in axes if a not in ones]
    y = x.dimshuffle(*kept)
    if rest:
        y = _same_reduction(node.op, None if len(rest) == len(kept) else rest)(y)
    return [with_dtype(y, out)]


@node_rewriter(list(_ONE_ELEMENT_IDENTITY), name="local_reduce_of_reduce")
def local_reduce_of_reduce(fgraph, node):
    """reduce(reduce(x, a), b) -> reduce(x, a and b), the same reduction, inner used once."""
    inner = node.inputs[0].owner
    if inner is None or type(inner.op) is not type(node.op):
        return None
    if len(fgraph.clients.get(node.inputs[0], [])) != 1:
        return None        # the partial result is needed anyway: merging would reduce x twice
    x = inner.inputs[0]
    if isinstance(node.op, (Sum, Prod)) and not (x.type.dtype == inner.outputs[0].type.dtype
                                                 == node.outputs[0].type.dtype):
        return None        # an accumulation dtype in between: keep its rounding and overflow
    inner_axes = _reduced_axes(inner.op.axis, x.type.ndim)
    kept = [d for d in range(x.type.ndim) if d not in inner_axes]
    outer_axes = [kept[a] for a in _reduced_axes(node.op.axis, len(kept))]
    axes = sorted(set(inner_axes) | set(outer_axes))
    merged = _same_reduction(node.op, None if len(axes) == x.type.ndim else axes)(x)
    return [with_dtype(merged, node.outputs[0])]


# reduce(make_vector(a, b, ...)) is the elementwise fold of the scalars: no vector built.
_FOLD = {Sum: tm.add, Prod: tm.mul, Max: tm.maximum, Min: tm.minimum, All: tm.and_, Any: tm.or_}


@node_rewriter(list(_FOLD), name="local_reduce_make_vector")
def local_reduce_make_vector(fgraph, node):
    """sum(make_vector(a, b, c)) -> a + b + c (and prod, max, min, all, any alike)."""
    vec = node.inputs[0].owner
    if vec is None or not isinstance(vec.op, MakeVector) or not vec.inputs:
        return None
    out = node.outputs[0]
    if vec.op.dtype != out.type.dtype:
        return None        # a cast to the output dtype first (all of floats, a widened sum): keep
    return [with_dtype(functools.reduce(_FOLD[type(node.op)], vec.inputs), out)]


register_rewrite(local_reduce_broadcastable, "canonicalize", "reduction")
register_rewrite(local_reduce_make_vector, "canonicalize", "reduction")
register_rewrite(local_reduce_of_reduce, "canonicalize", "reduction")

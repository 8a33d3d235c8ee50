"""Reductions of values whose result is known without reducing.

Gradients of sums are full of broadcast constants: the pullback of
``sum(x)`` fills x's shape with the output gradient, and a gradient flowing
through ``x - mu`` sums that fill back up.  ``sum(fill(x, c))`` is
``c * size(x)``: computing it so never materializes (or loops over) the fill.
"""

from __future__ import annotations

from opgraph.kernel_core.rewriting.canonicalize import is_elemwise, with_dtype
from opgraph.kernel_core.rewriting.db import node_rewriter, register_rewrite
from opgraph.kernel_core.scalar import basic as ps
from opgraph.kernel_core.tensor import math as tm
from opgraph.kernel_core.tensor.reduction import Sum
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

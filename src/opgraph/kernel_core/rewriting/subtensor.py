"""Subtensor lifting ("scalarization"): index first, compute on the small part.

``log(1 + x)[0]`` becomes ``log(1 + x[0])``: a Subtensor of an elementwise
result is pushed onto the elementwise inputs (broadcast inputs are indexed at
0), and through DimShuffles.  Repeated, this turns one entry of a vectorized
graph into a scalar graph (seed 001/002).
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.rewriting.canonicalize import is_elemwise
from opgraph.kernel_core.rewriting.db import node_rewriter, register_rewrite
from opgraph.kernel_core.rewriting.driver import compatible_replacement
from opgraph.kernel_core.rewriting.pattern import scalar_constant_value
from opgraph.kernel_core.scalar import basic as ps
from opgraph.kernel_core.tensor.elemwise import DimShuffle, Elemwise
from opgraph.kernel_core.tensor.math import add
from opgraph.kernel_core.tensor.subtensor import IncSubtensor, Subtensor, getitem, indices_from_node


def _full(e):
    return isinstance(e, slice) and e.start is None and e.stop is None and e.step is None


def _index(x, entries):
    """``x[entries]``, or ``x`` itself when every entry is a full slice."""
    entries = list(entries)
    while entries and _full(entries[-1]):
        entries.pop()
    if not entries:
        return x
    return getitem(x, tuple(entries))


def _tiny(x):
    """A small statically shaped result (e.g. a cast shape vector): recomputing parts is free."""
    return all(s is not None for s in x.type.shape) and int(np.prod(x.type.shape)) <= 16


def _int_value(v):
    if isinstance(v, Constant):
        return int(v.data)
    return None


@node_rewriter([Subtensor])
def subtensor_lift_elemwise(fgraph, node):
    """Elemwise(a, b)[idx] -> Elemwise(a[idx], b[idx]) (broadcast axes indexed at 0)."""
    x = node.inputs[0]
    inner = x.owner
    if inner is None or not isinstance(inner.op, Elemwise) or len(inner.outputs) != 1 or inner.op.inplace_pattern:
        return None
    if len(fgraph.clients.get(x, [])) != 1 and not _tiny(x):
        return None  # the full result is needed elsewhere: lifting would compute twice
    entries = indices_from_node(node)
    out_shape = x.type.shape
    new_inputs = []
    for inp in inner.inputs:
        own = []
        for axis, e in enumerate(entries):
            if inp.type.shape[axis] == 1 and out_shape[axis] != 1:
                own.append(slice(None) if isinstance(e, slice) else 0)
            else:
                own.append(e)
        new_inputs.append(_index(inp, own))
    return [inner.op(*new_inputs)]


@node_rewriter([Subtensor])
def subtensor_lift_dimshuffle(fgraph, node):
    """DimShuffle(x)[idx] -> DimShuffle(x[idx']): index before reordering / expanding."""
    ds = node.inputs[0]
    inner = ds.owner
    if inner is None or not isinstance(inner.op, DimShuffle):
        return None
    op = inner.op
    base = inner.inputs[0]
    entries = list(indices_from_node(node))
    entries += [slice(None)] * (len(op.new_order) - len(entries))
    base_entries = [slice(None)] * base.type.ndim
    for d, e in zip(op.new_order, entries):
        if d == "x":
            if isinstance(e, slice):
                if not _full(e):
                    return None
            elif _int_value(e) not in (0, -1):
                return None  # a symbolic index into a length-1 axis: keep its bounds check
        else:
            base_entries[d] = e
    kept_axes = [a for a, e in enumerate(base_entries) if isinstance(e, slice)]
    new_order = []
    for d, e in zip(op.new_order, entries):
        if not isinstance(e, slice):
            continue
        new_order.append("x" if d == "x" else kept_axes.index(d))
    sub = _index(base, base_entries)
    if tuple(new_order) == tuple(range(sub.type.ndim)):
        return [sub]
    return [DimShuffle(sub.type.ndim, new_order)(sub)]


def _whole(e):
    """A slice that keeps a whole axis: ``:``, or ``0:`` / ``::1`` with constant bounds
    (scan's sequence slices and gradients make ``x[0:]``)."""
    if not isinstance(e, slice) or e.stop is not None:
        return False
    return (e.start is None or _int_value(e.start) == 0) and (e.step is None or _int_value(e.step) == 1)


@node_rewriter([Subtensor])
def useless_subtensor(fgraph, node):
    """x[:, :] -> x (also x[0:], x[::1])."""
    if all(_whole(e) for e in indices_from_node(node)):
        out = node.inputs[0]
        return [out] if out.type == node.outputs[0].type else None
    return None


def _covers_axis(e, length):
    """The slice ``e`` keeps all of an axis of static ``length`` (None: unknown)."""
    if _whole(e):
        return True
    if not isinstance(e, slice) or (e.step is not None and _int_value(e.step) != 1):
        return False
    if e.start is not None and _int_value(e.start) != 0:
        return False
    stop = _int_value(e.stop) if e.stop is not None else None
    return length is not None and stop is not None and stop >= length


def _zero_fill(v):
    """``v`` is ``second(x, 0)``: zeros of x's shape (what gradients start from)."""
    return is_elemwise(v, ps.Second) and scalar_constant_value(v.owner.inputs[1]) == 0


def _fill_base(v):
    """The variable whose shape ``second(x, c)`` has, for a ``c`` of length-1 axes only."""
    if is_elemwise(v, ps.Second):
        x, c = v.owner.inputs
        if c.type.ndim == x.type.ndim and all(d == 1 for d in c.type.shape):
            return x
    return None


def _shape_chain(v):
    """``v`` and the variables it provably has the shape of: through an Inc/SetSubtensor
    (its output is shaped as its ``x``) and a fill by a one-element value."""
    chain = []
    while v is not None and v not in chain:
        chain.append(v)
        node = v.owner
        v = node.inputs[0] if node is not None and isinstance(node.op, IncSubtensor) else _fill_base(v)
    return chain


def _static_length(v, axis):
    """Axis ``axis``'s length of ``v`` if some variable of its shape chain has it static."""
    for c in _shape_chain(v):
        if c.type.shape[axis] is not None:
            return c.type.shape[axis]
    return None


def _same_shape(a, b):
    """``a`` and ``b`` provably have one shape: equal static shapes, or a common variable
    in their shape chains."""
    if a.type.ndim != b.type.ndim:
        return False
    if None not in a.type.shape and a.type.shape == b.type.shape:
        return True
    return not set(_shape_chain(a)).isdisjoint(_shape_chain(b))


@node_rewriter([IncSubtensor])
def incsubtensor_of_whole(fgraph, node):
    """x[whole] = y -> y; zeros[whole] += y -> y (x + y for other x), y of x's shape.

    A gradient scatters each piece into zeros of its input's shape; when the piece covers
    every element (``x[0:]``, ``x[:n]`` of a length-n axis) nothing is scattered."""
    x, y = node.inputs[0], node.inputs[1]
    out = node.outputs[0]
    if not all(_covers_axis(e, _static_length(x, d)) for d, e in enumerate(indices_from_node(node))):
        return None
    if not _same_shape(x, y) or y.type.dtype != out.type.dtype:
        return None
    new = y if node.op.set_instead_of_inc or _zero_fill(x) else add(x, y)
    new = compatible_replacement(out, new)
    return None if new is None else [new]


register_rewrite(useless_subtensor, "canonicalize", "fast_compile", "useless", "subtensor")
register_rewrite(incsubtensor_of_whole, "canonicalize", "useless", "subtensor")
register_rewrite(subtensor_lift_elemwise, "canonicalize", "subtensor_lift", "subtensor")
register_rewrite(subtensor_lift_dimshuffle, "canonicalize", "subtensor_lift", "subtensor")

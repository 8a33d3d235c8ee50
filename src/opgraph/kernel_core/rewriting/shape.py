"""Shape rewrites: answer shape questions without computing the array.

``Shape`` / ``Shape_i`` of a variable with a static shape become constants;
``Shape_i`` of a computed variable asks its op (``infer_shape``) and is
rewritten in terms of the op's inputs, so ``x.shape[0]`` of ``exp(x)`` no
longer needs ``exp``.  Useless ``SpecifyShape`` / ``Reshape`` / ``Alloc``
(that would not change the shape) are removed.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Constant, Variable
from opgraph.kernel_core.rewriting.db import node_rewriter, register_rewrite
from opgraph.kernel_core.tensor.basic import constant
from opgraph.kernel_core.tensor.construction import Alloc
from opgraph.kernel_core.tensor.elemwise import Elemwise
from opgraph.kernel_core.tensor.shape import Reshape, Shape, Shape_i, SpecifyShape, shape_i, static_int
from opgraph.kernel_core.tensor.subtensor import Subtensor, indices_from_node


def _int64_constant(value):
    return constant(np.asarray(value, dtype="int64"))


@node_rewriter([Shape])
def shape_constant(fgraph, node):
    """Shape(x) -> constant when x's shape is static."""
    x = node.inputs[0]
    if any(s is None for s in x.type.shape):
        return None
    return [_int64_constant(x.type.shape)]


@node_rewriter([Shape_i])
def shape_i_constant(fgraph, node):
    """Shape_i{i}(x) -> constant when axis i of x has a static length."""
    s = node.inputs[0].type.shape[node.op.i]
    if s is None:
        return None
    return [_int64_constant(s)]


def _input_shapes(node):
    return [tuple(s if s is not None else shape_i(inp, d) for d, s in enumerate(inp.type.shape))
            if hasattr(inp.type, "shape") else () for inp in node.inputs]


@node_rewriter([Shape_i])
def shape_i_of_input(fgraph, node):
    """Shape_i{i}(f(x)) -> the length f's ``infer_shape`` gives from x's shape."""
    var = node.inputs[0]
    owner = var.owner
    if owner is None or isinstance(owner.op, (Shape, Shape_i)):
        return None
    try:
        shapes = owner.op.infer_shape(fgraph, owner, _input_shapes(owner))
    except NotImplementedError:  # an op without infer_shape keeps its Shape_i node
        return None
    entry = shapes[var.index][node.op.i]
    v = static_int(entry)
    if v is not None:
        return [_int64_constant(v)]
    if not isinstance(entry, Variable) or not hasattr(entry.type, "ndim") or entry.type.ndim != 0:
        return None
    if entry.owner is not None and entry.owner.op == node.op and entry.owner.inputs[0] is var:
        return None
    if entry.type.dtype != "int64":
        from opgraph.kernel_core.tensor.math import cast

        entry = cast(entry, "int64")
    return [entry]


@node_rewriter([Shape])
def shape_of_elemwise(fgraph, node):
    """Shape(f(x, y)) -> Shape(x) when x alone already has the output's shape."""
    var = node.inputs[0]
    owner = var.owner
    if owner is None or not isinstance(owner.op, Elemwise):
        return None
    out_shape = var.type.shape
    for inp in owner.inputs:
        # Without runtime broadcasting, an input that is never statically 1 where
        # the output is not 1 has exactly the output's shape.
        if all(s != 1 or o == 1 for s, o in zip(inp.type.shape, out_shape)):
            return [node.op(inp)]
    return None


@node_rewriter([Subtensor])
def shape_subtensor_to_shape_i(fgraph, node):
    """Shape(x)[i] -> Shape_i{i}(x) for a constant i."""
    var = node.inputs[0]
    if var.owner is None or not isinstance(var.owner.op, Shape):
        return None
    (entry,) = indices_from_node(node) if len(node.op.idx_list) == 1 else (None,)
    if not isinstance(entry, Constant):
        return None
    x = var.owner.inputs[0]
    i = int(entry.data)
    if not -x.type.ndim <= i < x.type.ndim:
        return None
    return [shape_i(x, i)]


def _is_length_of(entry, x, axis):
    """Whether the shape entry is known to equal x.shape[axis]."""
    v = static_int(entry)
    if v is not None:
        return x.type.shape[axis] == v
    owner = getattr(entry, "owner", None)
    return owner is not None and isinstance(owner.op, Shape_i) and owner.op.i == axis and owner.inputs[0] is x


@node_rewriter([SpecifyShape])
def useless_specify_shape(fgraph, node):
    """SpecifyShape(x, ...) -> x when x's type already guarantees the shape."""
    x, *entries = node.inputs
    if all(_is_length_of(e, x, d) for d, e in zip(node.op.dims, entries)):
        return [x]
    return None


@node_rewriter([Reshape])
def useless_reshape(fgraph, node):
    """Reshape(x, shape) -> x when the new shape is x's own shape."""
    x, shp = node.inputs
    if node.op.ndim != x.type.ndim:
        return None
    if isinstance(shp, Constant):
        target = [int(s) for s in np.asarray(shp.data)]
        if x.type.ndim == 1 and target == [-1]:
            return [x]
        if all(s is not None for s in x.type.shape) and list(x.type.shape) == target:
            return [x]
        return None
    owner = shp.owner
    if owner is not None and isinstance(owner.op, Shape) and owner.inputs[0] is x:
        return [x]
    if owner is not None and type(owner.op).__name__ == "MakeVector":
        if all(_is_length_of(e, x, d) for d, e in enumerate(owner.inputs)):
            return [x]
    return None


@node_rewriter([Alloc])
def useless_alloc(fgraph, node):
    """Alloc(v, *shape) -> v when v already has that shape."""
    v, *entries = node.inputs
    out = node.outputs[0]
    if v.type.ndim != out.type.ndim or v.type.dtype != out.type.dtype:
        return None
    if all(_is_length_of(e, v, d) or (v.type.shape[d] is not None and v.type.shape[d] == out.type.shape[d])
           for d, e in enumerate(entries)):
        return [v]
    return None


register_rewrite(shape_constant, "canonicalize", "fast_compile", "shape")
register_rewrite(shape_i_constant, "canonicalize", "fast_compile", "shape")
register_rewrite(shape_i_of_input, "canonicalize", "shape")
register_rewrite(shape_of_elemwise, "canonicalize", "shape")
register_rewrite(shape_subtensor_to_shape_i, "canonicalize", "shape")
register_rewrite(useless_specify_shape, "canonicalize", "fast_compile", "useless", "shape")
register_rewrite(useless_reshape, "canonicalize", "useless", "shape")
register_rewrite(useless_alloc, "canonicalize", "useless", "shape")

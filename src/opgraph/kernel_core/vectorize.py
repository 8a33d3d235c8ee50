"""``vectorize_graph``: re-express a graph for inputs that gained leading batch dims.

Walking the graph in topological order, every node with a batched input is
rebuilt by ``vectorize_node(op, node, *new_inputs)``: a ``functools.singledispatch``
table keyed by Op class.  Batch dimensions are always the *leading* ones; an
input may gain fewer batch dims than another (it then broadcasts), and an
output may gain none at all (``Shape`` of a batched tensor is still the core
shape).  Ops without a rule become a ``Blockwise`` over their gufunc
signature (``op.gufunc_signature``, or one built from the node's ranks).

Nodes none of whose inputs changed are reused, so unbatched parts of the
graph are shared with the original (which is never modified).
"""

from __future__ import annotations

import copy
import functools

from opgraph.kernel_core.graph.basic import Variable
from opgraph.kernel_core.graph.traversal import io_toposort

__all__ = ["vectorize_graph", "vectorize_node", "batch_ndim_of"]


def _ndim(v):
    return getattr(v.type, "ndim", 0)


def batch_ndim_of(node, new_inputs):
    """How many leading dims the new inputs of ``node`` gained (the max over inputs)."""
    return max((_ndim(n) - _ndim(o) for n, o in zip(new_inputs, node.inputs)), default=0)


def _pad_after(x, start, count):
    """Insert ``count`` length-1 axes at position ``start`` of ``x``."""
    from opgraph.kernel_core.tensor.elemwise import DimShuffle

    if count <= 0:
        return x
    nd = _ndim(x)
    order = list(range(start)) + ["x"] * count + list(range(start, nd))
    return DimShuffle(nd, order)(x)


# -- the dispatch table --------------------------------------------------------
@functools.singledispatch
def vectorize_node(op, node, *new_inputs):
    """Default rule: a Blockwise over the op's core signature."""
    return _blockwise_fallback(op, node, new_inputs)


def _blockwise_fallback(op, node, new_inputs):
    from opgraph.kernel_core.tensor.blockwise import Blockwise, core_signature
    from opgraph.kernel_core.tensor.type import TensorType

    for v in list(new_inputs) + list(node.outputs):
        if not isinstance(v.type, TensorType):
            raise NotImplementedError(
                f"vectorize_graph: cannot batch {op}: it has a non-tensor input or output ({v}: {v.type})")
    return Blockwise(op, core_signature(op, node)).make_node(*new_inputs).outputs


def _register(qualname):
    """Register a rule for the Op class at ``module:Class``.

    The class is looked up when the rule is defined, and a name that does not
    resolve (a typo, a renamed class) raises here: silently skipping it would
    leave that op on the Blockwise fallback with nobody noticing."""
    module_name, sep, cls_name = qualname.partition(":")
    if not sep or not module_name or not cls_name:
        raise ValueError(f"vectorize rule target {qualname!r} must be 'package.module:OpClass'")

    def deco(fn):
        import importlib

        module = importlib.import_module(module_name)  # ModuleNotFoundError names a bad module
        cls = getattr(module, cls_name, None)
        if not isinstance(cls, type):
            raise AttributeError(f"vectorize rule {fn.__name__}: {module_name} has no Op class {cls_name!r}")
        vectorize_node.register(cls)(fn)
        return fn

    return deco


_T = "opgraph.kernel_core.tensor."


@_register(_T + "elemwise:Elemwise")
def _vectorize_elemwise(op, node, *new_inputs):
    # All inputs of an Elemwise node have the same rank, so padding batch dims
    # on the left (what make_node does) lines every core axis up.
    if op.inplace_pattern:
        op = type(op)(op.scalar_op)
    return op.make_node(*new_inputs).outputs


@_register(_T + "elemwise:ScalarFromTensor")
def _vectorize_scalar_from_tensor(op, node, x):
    # Reached only when x gained batch dims: a number per batch element cannot be
    # one scalar (an index or slice bound that differs between batch elements).
    raise NotImplementedError(
        f"vectorize_graph: {node.inputs[0]} became {x} ({x.type.short_str()}), but it is used as one scalar "
        "(an index or a slice bound, e.g. roll's shift): it cannot differ between batch elements")


@_register(_T + "elemwise:DimShuffle")
def _vectorize_dimshuffle(op, node, x):
    from opgraph.kernel_core.tensor.elemwise import DimShuffle

    b = _ndim(x) - op.input_ndim
    order = list(range(b)) + [d if d == "x" else d + b for d in op.new_order]
    return [DimShuffle(_ndim(x), order)(x)]


@_register(_T + "reduction:CAReduce")
def _vectorize_careduce(op, node, x):
    b = _ndim(x) - _ndim(node.inputs[0])
    axes = range(_ndim(node.inputs[0])) if op.axis is None else op.axis
    new_op = copy.copy(op)
    new_op.axis = tuple(a + b for a in axes)
    return new_op.make_node(x).outputs


def _vectorize_argextremum(op, node, x):
    if op.axis is None:
        return _blockwise_fallback(op, node, [x])
    b = _ndim(x) - _ndim(node.inputs[0])
    new_op = copy.copy(op)
    new_op.axis = op.axis + b
    return new_op.make_node(x).outputs


for _name in ("Argmax", "Argmin"):
    _register(_T + "reduction:" + _name)(_vectorize_argextremum)


def _vectorize_along_axis(op, node, *new_inputs):
    """Single-tensor ops working along ``op.axis`` (sort, cumsum): shift the axis."""
    if len(new_inputs) != 1 or getattr(op, "axis", None) is None:
        return _blockwise_fallback(op, node, new_inputs)
    (x,) = new_inputs
    new_op = copy.copy(op)
    new_op.axis = op.axis + _ndim(x) - _ndim(node.inputs[0])
    return new_op.make_node(x).outputs


for _name in ("SortOp", "ArgSortOp", "CumOp"):
    _register(_T + "extra_ops:" + _name)(_vectorize_along_axis)


def _index_inputs_unbatched(node, new_inputs, first_index):
    # Rebuilt but of the same type (a slice bound computed from a core length) is unbatched too.
    return all(n is o or n.type == o.type for n, o in zip(new_inputs[first_index:], node.inputs[first_index:]))


@_register(_T + "subtensor:Subtensor")
def _vectorize_subtensor(op, node, x, *idx):
    from opgraph.kernel_core.tensor.subtensor import IdxSlice, Subtensor

    if not _index_inputs_unbatched(node, (x,) + idx, 1):
        return _blockwise_fallback(op, node, (x,) + idx)
    b = _ndim(x) - _ndim(node.inputs[0])
    return [Subtensor((IdxSlice(),) * b + tuple(op.idx_list))(x, *idx)]


@_register(_T + "subtensor:IncSubtensor")
def _vectorize_incsubtensor(op, node, x, y, *idx):
    from opgraph.kernel_core.tensor.subtensor import IdxSlice, IncSubtensor

    bx = _ndim(x) - _ndim(node.inputs[0])
    by = _ndim(y) - _ndim(node.inputs[1])
    if not _index_inputs_unbatched(node, (x, y) + idx, 2):
        return _blockwise_fallback(op, node, (x, y) + idx)
    if by > bx:
        # y may broadcast into x's batch dims, not the other way round: give x
        # y's batch dims first (a gradient's zeros_like(x) meets a batched gz here).
        from opgraph.kernel_core.tensor.construction import alloc
        from opgraph.kernel_core.tensor.shape import shape_i

        dims = [shape_i(y, d) for d in range(by)] + [shape_i(x, d) for d in range(bx, _ndim(x))]
        x = alloc(x, *dims)
        bx = by
    if by > 0:
        # y broadcasts against x[idx]: put its batch dims in front of all of x[idx]'s core dims.
        sub_ndim = _ndim(node.inputs[0]) - sum(1 for e in op.idx_list if not isinstance(e, IdxSlice))
        y = _pad_after(y, by, sub_ndim - _ndim(node.inputs[1]))
    new_op = IncSubtensor((IdxSlice(),) * bx + tuple(op.idx_list), False, op.set_instead_of_inc)
    return [new_op(x, y, *idx)]


@_register(_T + "shape:Shape")
def _vectorize_shape(op, node, x):
    # Every batch element has the same core shape: drop the batch entries.
    b = _ndim(x) - _ndim(node.inputs[0])
    return [op(x)[b:]]


@_register(_T + "shape:Shape_i")
def _vectorize_shape_i(op, node, x):
    b = _ndim(x) - _ndim(node.inputs[0])
    return [type(op)(op.i + b)(x)]


@_register(_T + "shape:SpecifyShape")
def _vectorize_specify_shape(op, node, x, *entries):
    if not _index_inputs_unbatched(node, (x,) + entries, 1):
        return _blockwise_fallback(op, node, (x,) + entries)
    b = _ndim(x) - _ndim(node.inputs[0])
    return [type(op)(tuple(d + b for d in op.dims))(x, *entries)]


@_register(_T + "shape:Reshape")
def _vectorize_reshape(op, node, x, shp):
    from opgraph.kernel_core.tensor.join import concatenate
    from opgraph.kernel_core.tensor.shape import shape

    if shp is not node.inputs[1]:
        return _blockwise_fallback(op, node, (x, shp))
    b = _ndim(x) - _ndim(node.inputs[0])
    if b == 0:
        return op.make_node(x, shp).outputs
    new_shape = concatenate([shape(x)[:b], shp])
    return [type(op)(op.ndim + b)(x, new_shape)]


@_register(_T + "dot:Dot")
def _vectorize_dot(op, node, x, y):
    from opgraph.kernel_core.tensor.blockwise import Blockwise

    nx, ny = _ndim(node.inputs[0]), _ndim(node.inputs[1])
    xs = "(m,k)" if nx == 2 else "(k)"
    ys = "(k,n)" if ny == 2 else "(k)"
    out = ",".join((["m"] if nx == 2 else []) + (["n"] if ny == 2 else []))
    return Blockwise(op, f"{xs},{ys}->({out})").make_node(x, y).outputs


@_register(_T + "join:MakeVector")
def _vectorize_make_vector(op, node, *new_inputs):
    # Batched scalars stacked along a new last axis: one input is an ExpandDims (a view),
    # several of one static shape a Join of them, what vectorized parameter vectors (a
    # logp's conditions, a mixture's weights) are; other batch shapes keep the Blockwise.
    from opgraph.kernel_core.tensor.join import stack
    from opgraph.kernel_core.tensor.math import cast

    cast_in = [x if x.type.dtype == op.dtype else cast(x, op.dtype) for x in new_inputs]
    if len(cast_in) == 1:
        x = cast_in[0]
        return [x.dimshuffle(*range(_ndim(x)), "x")]
    shapes = {x.type.shape for x in cast_in}
    if len(shapes) == 1 and None not in next(iter(shapes)):
        return [stack(cast_in, axis=_ndim(cast_in[0]))]
    return _blockwise_fallback(op, node, new_inputs)


@_register(_T + "blockwise:Blockwise")
def _vectorize_blockwise(op, node, *new_inputs):
    # Each input's old batch dims must line up with the node's: inputs that had
    # fewer get length-1 axes between their new and their old batch dims.
    nb_old = max(_ndim(o) - len(s) for o, s in zip(node.inputs, op.inputs_sig))
    aligned = []
    for new, old, sig in zip(new_inputs, node.inputs, op.inputs_sig):
        extra = _ndim(new) - _ndim(old)
        old_batch = _ndim(old) - len(sig)
        if extra > 0 and old_batch < nb_old:
            new = _pad_after(new, extra, nb_old - old_batch)
        aligned.append(new)
    return op.make_node(*aligned).outputs


@_register("opgraph.kernel_core.gradient:GradientMarker")
def _vectorize_gradient_marker(op, node, x):
    # An identity of any rank: the same marker applies to the batched input.
    return op.make_node(x).outputs


# -- the graph walk --------------------------------------------------------------
def _pairs(replace):
    from opgraph.kernel_core.graph.replace import replacement_pairs

    pairs = replacement_pairs(replace, who="vectorize_graph")
    for old, new in pairs:
        if _ndim(new) < _ndim(old):
            raise ValueError(
                f"vectorize_graph: the replacement {new} ({new.type.short_str()}) of {old} "
                f"({old.type.short_str()}) has fewer dimensions; batch dimensions can only be added")
    return pairs


def vectorize_graph(outputs, replace):
    """New graph(s) computing ``outputs`` with ``replace`` = {core var: batched var}.

    The batched variables have extra *leading* dimensions; the result gains
    the corresponding batch dimensions.  ``outputs`` may be a Variable or a
    list (the result has the same structure).
    """
    single = isinstance(outputs, Variable)
    outs = [outputs] if single else list(outputs)
    for o in outs:
        if not isinstance(o, Variable):
            raise TypeError(f"vectorize_graph expects Variables, got {type(o).__name__}")
    memo = dict(_pairs(replace))
    for node in io_toposort(list(memo), outs):
        new_inputs = [memo.get(i, i) for i in node.inputs]
        if all(n is o for n, o in zip(new_inputs, node.inputs)):
            continue
        if all(n.type == o.type for n, o in zip(new_inputs, node.inputs)):
            # Rebuilt inputs that gained no batch dims (a core length, say): the
            # same node on them, whatever its types (a ScalarFromTensor index).
            new_outputs = node.op.make_node(*new_inputs).outputs
        else:
            new_outputs = vectorize_node(node.op, node, *new_inputs)
        if len(new_outputs) != len(node.outputs):
            raise ValueError(f"vectorize rule for {node.op} returned {len(new_outputs)} outputs, "
                             f"expected {len(node.outputs)}")
        memo.update(zip(node.outputs, new_outputs))
    result = [memo.get(o, o) for o in outs]
    return result[0] if single else result

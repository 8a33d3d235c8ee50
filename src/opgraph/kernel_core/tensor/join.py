"""Joining tensors: Join (concatenate), its inverse Split, MakeVector, and stack."""

from __future__ import annotations

from functools import reduce

import numpy as np

from opgraph.kernel_core.graph.basic import Apply, Constant, Variable
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.tensor.basic import as_tensor_variable, constant
from opgraph.kernel_core.tensor.type import TensorType, _fmt_shape

__all__ = ["Join", "Split", "MakeVector", "join", "concatenate", "stack", "make_vector", "split"]


def _upcast(dtypes):
    return reduce(np.promote_types, [np.dtype(d) for d in dtypes]).name


def _cast_to(x, dtype):
    """``x`` as ``dtype``: constants are converted in place, variables get a Cast."""
    if x.type.dtype == dtype:
        return x
    if isinstance(x, Constant):
        return constant(np.asarray(x.data).astype(dtype))
    from opgraph.kernel_core.tensor.math import cast

    return cast(x, dtype)


def _static_axis(axis):
    if isinstance(axis, Constant):
        return int(np.asarray(axis.data))
    return None


class Join(Op):
    """Concatenate tensors along an axis given as the first (integer scalar) input."""

    __props__ = ()

    def make_node(self, axis, *tensors):
        if not tensors:
            raise ValueError("join: needs at least one tensor")
        axis = as_tensor_variable(axis)
        if axis.type.ndim != 0 or axis.type.dtype[0] not in "iu":
            raise TypeError(f"join: axis must be an integer scalar, got {axis} ({axis.type.short_str()})")
        tensors = [as_tensor_variable(t) for t in tensors]
        nd = tensors[0].type.ndim
        if nd == 0:
            raise ValueError("join: cannot concatenate 0-d tensors (use stack)")
        for t in tensors:
            if t.type.ndim != nd:
                raise ValueError(f"join: all tensors need the same ndim, got {tensors[0]} with ndim={nd} and {t} with ndim={t.type.ndim}")
        dtype = _upcast([t.type.dtype for t in tensors])
        tensors = [_cast_to(t, dtype) for t in tensors]
        ax = _static_axis(axis)
        if ax is None:
            shape = (None,) * nd
        else:
            if not -nd <= ax < nd:
                raise ValueError(f"join: axis {ax} is out of bounds for tensors with ndim={nd}")
            if ax < 0:
                ax += nd
                axis = constant(ax)
            shape = []
            for d in range(nd):
                sizes = [t.type.shape[d] for t in tensors]
                if d == ax:
                    shape.append(None if None in sizes else sum(sizes))
                    continue
                known = {s for s in sizes if s is not None}
                if len(known) > 1:
                    who = ", ".join(f"{t} with shape {_fmt_shape(t.type.shape, '?')}" for t in tensors)
                    raise ValueError(f"join: shapes differ at axis {d} (joining on axis {ax}): {who}")
                shape.append(known.pop() if known else None)
        out = TensorType(dtype, tuple(shape)).make_variable()
        return Apply(self, [axis, *tensors], [out])

    def perform(self, node, inputs, output_storage):
        axis, *tensors = inputs
        output_storage[0][0] = np.concatenate(tensors, axis=int(axis)).astype(node.outputs[0].type.dtype, copy=False)

    def infer_shape(self, fgraph, node, input_shapes):
        from opgraph.kernel_core.tensor import math as tm
        from opgraph.kernel_core.tensor.shape import _int64

        axis = node.inputs[0]
        ax = _static_axis(axis)
        shapes = input_shapes[1:]
        nd = len(shapes[0])
        if ax is None:
            raise NotImplementedError("Join.infer_shape needs a constant axis")
        out = []
        for d in range(nd):
            static = node.outputs[0].type.shape[d]
            if static is not None:
                out.append(static)
            elif d == ax:
                total = _int64(0)
                for s in shapes:
                    total = tm.add(total, _int64(s[d]))
                out.append(total)
            else:
                # Every input has this length; prefer a static one.
                known = [s[d] for s in shapes if not isinstance(s[d], Variable)]
                out.append(known[0] if known else shapes[0][d])
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.shape import shape_i

        axis, *tensors = inputs
        (g,) = output_grads
        ax = _static_axis(axis)
        if ax is None:
            raise NotImplementedError("the gradient of join needs a constant axis")
        sizes = make_vector(*[t.type.shape[ax] if t.type.shape[ax] is not None else shape_i(t, ax) for t in tensors])
        parts = Split(len(tensors))(as_tensor_variable(g), axis, sizes, return_list=True)
        grads = [None]
        for t, p in zip(tensors, parts):
            grads.append(None if t.type.dtype[0] in "biu" else _cast_to(p, t.type.dtype))
        return grads


_join = Join()


class Split(Op):
    """Cut a tensor along ``axis`` into ``len_splits`` pieces of the given lengths."""

    __props__ = ("len_splits",)
    view_map = {}

    def __init__(self, len_splits):
        self.len_splits = int(len_splits)
        self.view_map = {i: [0] for i in range(self.len_splits)}

    def __str__(self):
        return f"Split{{{self.len_splits}}}"

    def make_node(self, x, axis, splits):
        x = as_tensor_variable(x)
        axis = as_tensor_variable(axis)
        splits = as_tensor_variable(splits)
        if splits.type.ndim != 1 or splits.type.dtype[0] not in "iu":
            raise TypeError(f"split: sizes must be an integer vector, got {splits.type.short_str()}")
        ax = _static_axis(axis)
        outs = []
        for i in range(self.len_splits):
            shape = list(x.type.shape)
            if ax is None:
                shape = [None] * len(shape)
            else:
                if not -x.type.ndim <= ax < x.type.ndim:
                    raise ValueError(f"split: axis {ax} is out of bounds for {x} with ndim={x.type.ndim}")
                size = None
                if isinstance(splits, Constant):
                    size = int(np.asarray(splits.data)[i])
                elif splits.owner is not None and isinstance(splits.owner.op, MakeVector):
                    from opgraph.kernel_core.tensor.shape import static_int

                    size = static_int(splits.owner.inputs[i])
                shape[ax % x.type.ndim] = size
            outs.append(TensorType(x.type.dtype, tuple(shape)).make_variable())
        return Apply(self, [x, axis, splits], outs)

    def perform(self, node, inputs, output_storage):
        x, axis, splits = inputs
        splits = np.asarray(splits)
        if len(splits) != self.len_splits or splits.sum() != x.shape[int(axis)]:
            raise ValueError(f"split: sizes {splits.tolist()} do not add up to length {x.shape[int(axis)]} of axis {int(axis)}")
        pieces = np.split(x, np.cumsum(splits)[:-1], axis=int(axis))
        for cell, p in zip(output_storage, pieces):
            cell[0] = p.copy()

    def infer_shape(self, fgraph, node, input_shapes):
        from opgraph.kernel_core.tensor.subtensor import getitem

        x, axis, splits = node.inputs
        ax = int(_static_axis(axis)) % x.type.ndim
        out = []
        for i, o in enumerate(node.outputs):
            s = list(input_shapes[0])
            s[ax] = o.type.shape[ax] if o.type.shape[ax] is not None else getitem(splits, i)
            out.append(tuple(s))
        return out

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.math import zeros_like

        x, axis, splits = inputs
        gs = [zeros_like(o) if g is None else as_tensor_variable(g) for o, g in zip(outputs, output_grads)]
        return [join(axis, *gs), None, None]


def split(x, splits_size, n_splits, axis=0):
    return Split(n_splits)(x, axis, splits_size, return_list=True)


def join(axis, *tensors):
    """Concatenate ``tensors`` along ``axis`` (a ``Join`` node; one tensor is returned as is)."""
    if len(tensors) == 1:
        return as_tensor_variable(tensors[0])
    return _join(axis, *tensors)


def concatenate(tensor_list, axis=0):
    if not isinstance(tensor_list, (list, tuple)):
        raise TypeError("concatenate: pass a list or tuple of tensors")
    return join(axis, *tensor_list)


class MakeVector(Op):
    """A vector from 0-d tensors of one dtype."""

    __props__ = ("dtype",)

    def __init__(self, dtype="int64"):
        self.dtype = np.dtype(dtype).name

    def make_node(self, *inputs):
        inputs = [as_tensor_variable(i) for i in inputs]
        for i in inputs:
            if i.type.ndim != 0:
                raise TypeError(f"MakeVector: inputs must be scalars, got {i} ({i.type.short_str()})")
        converted = []
        for i in inputs:
            if i.type.dtype != self.dtype:
                if _upcast([i.type.dtype, self.dtype]) != self.dtype and not isinstance(i, Constant):
                    raise TypeError(f"MakeVector{{dtype={self.dtype!r}}}: input {i} of dtype {i.type.dtype} would be downcast")
                i = _cast_to(i, self.dtype)
            converted.append(i)
        out = TensorType(self.dtype, (len(inputs),)).make_variable()
        return Apply(self, converted, [out])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs, dtype=self.dtype).reshape(len(inputs))

    def infer_shape(self, fgraph, node, input_shapes):
        return [(len(node.inputs),)]

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.subtensor import getitem

        if self.dtype[0] in "biu":
            return [None] * len(inputs)
        g = as_tensor_variable(output_grads[0])
        return [_cast_to(getitem(g, i), inp.type.dtype) for i, inp in enumerate(inputs)]


def make_vector(*scalars, dtype=None):
    """A vector holding the given scalars (upcast to a common dtype)."""
    scalars = [as_tensor_variable(s) for s in scalars]
    if dtype is None:
        dtype = _upcast([s.type.dtype for s in scalars]) if scalars else "int64"
    return MakeVector(dtype)(*scalars)


def stack(tensors, axis=0):
    """Stack tensors of equal shape along a new axis.

    Scalars stacked on axis 0 become a ``MakeVector``; otherwise each input gets an
    ``ExpandDims`` and they are joined.
    """
    from opgraph.kernel_core.tensor.elemwise import expand_dims

    if not isinstance(tensors, (list, tuple)) or not tensors:
        raise ValueError("stack: pass a non-empty list of tensors")
    tensors = [as_tensor_variable(t) for t in tensors]
    nd = tensors[0].type.ndim
    for t in tensors:
        if t.type.ndim != nd:
            raise ValueError(f"stack: all tensors need the same ndim, got {tensors[0]} with ndim={nd} and {t} with ndim={t.type.ndim}")
    if not -(nd + 1) <= axis <= nd:
        raise ValueError(f"stack: axis {axis} is out of bounds for a result with ndim={nd + 1}")
    if nd == 0 and axis in (0, -1):
        return make_vector(*tensors)
    axis = axis % (nd + 1)
    return _join(axis, *[expand_dims(t, axis) for t in tensors])

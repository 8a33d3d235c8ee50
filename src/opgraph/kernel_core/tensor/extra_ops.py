"""NumPy extras: repeat, tile, sort / argsort, cumsum / cumprod, diff."""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Apply, Constant
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.type import TensorType

__all__ = [
    "RepeatOp", "SortOp", "ArgSortOp", "CumOp", "TakeAlongAxis", "AddAlongAxis",
    "repeat", "tile", "sort", "argsort", "cumsum", "cumprod", "diff", "take_along_axis",
]


def _axis(axis, ndim, who):
    if axis is None:
        return None
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{who}: axis must be an int or None, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{who}: axis {axis} is out of bounds for an input with ndim={ndim}")
    return int(axis) % ndim


def _tm():
    from opgraph.kernel_core.tensor import math

    return math


class RepeatOp(Op):
    """``np.repeat(x, repeats, axis)`` (x already flattened when axis was None)."""

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = int(axis)

    def __str__(self):
        return f"Repeat{{axis={self.axis}}}"

    def make_node(self, x, repeats):
        x = as_tensor_variable(x)
        repeats = as_tensor_variable(repeats)
        if repeats.type.dtype[0] not in "iu" or repeats.type.ndim > 1:
            raise TypeError(f"repeat: repeats must be an integer scalar or vector, got {repeats.type.short_str()}")
        if not 0 <= self.axis < x.type.ndim:
            raise ValueError(f"repeat: axis {self.axis} is out of bounds for {x} with ndim={x.type.ndim}")
        shape = list(x.type.shape)
        n = shape[self.axis]
        if isinstance(repeats, Constant):
            r = np.asarray(repeats.data)
            if np.any(r < 0):
                raise ValueError(f"repeat: negative repeats {r.tolist()}")
            if r.ndim == 0:
                shape[self.axis] = None if n is None else n * int(r)
            else:
                if n is not None and len(r) != n:
                    raise ValueError(f"repeat: {len(r)} repeats for axis {self.axis} of length {n}")
                shape[self.axis] = int(r.sum())
        else:
            shape[self.axis] = None
        return Apply(self, [x, repeats], [TensorType(x.type.dtype, tuple(shape)).make_variable()])

    def perform(self, node, inputs, output_storage):
        x, r = inputs
        output_storage[0][0] = np.repeat(x, r, axis=self.axis)

    def infer_shape(self, fgraph, node, input_shapes):
        from opgraph.kernel_core.tensor.reduction import sum as _sum
        from opgraph.kernel_core.tensor.shape import _int64

        x, r = node.inputs
        out = list(input_shapes[0])
        static = node.outputs[0].type.shape[self.axis]
        if static is not None:
            out[self.axis] = static
        elif r.type.ndim == 0:
            out[self.axis] = _tm().mul(_int64(out[self.axis]), _tm().cast(r, "int64"))
        else:
            out[self.axis] = _tm().cast(_sum(r), "int64")
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.reduction import sum as _sum
        from opgraph.kernel_core.tensor.shape import _int64, reshape, shape_i

        x, r = inputs
        if x.type.dtype[0] in "biu":
            return [None, None]
        if r.type.ndim != 0:
            raise NotImplementedError("the gradient of repeat with a vector of repeats is not implemented")
        g = as_tensor_variable(output_grads[0])
        # Each input element became r consecutive copies: view the axis as (n, r) and sum the r.
        ax = self.axis
        dims = [x.type.shape[d] if x.type.shape[d] is not None else shape_i(x, d) for d in range(x.type.ndim)]
        new = dims[:ax] + [dims[ax], _int64(r) if not isinstance(r, Constant) else int(np.asarray(r.data))] + dims[ax + 1:]
        return [_sum(reshape(g, new), axis=ax + 1), None]


def repeat(x, repeats, axis=None):
    """Repeat elements of ``x`` (``axis=None``: of the flattened ``x``)."""
    from opgraph.kernel_core.tensor.shape import flatten

    x = as_tensor_variable(x)
    if axis is None:
        x = flatten(x) if x.type.ndim != 1 else x
        axis = 0
    else:
        axis = _axis(axis, x.type.ndim, "repeat")
    return RepeatOp(axis)(x, repeats)


def tile(x, reps):
    """``np.tile``: ``x`` repeated ``reps[i]`` times along axis i (an Alloc + Reshape)."""
    from opgraph.kernel_core.tensor.construction import alloc
    from opgraph.kernel_core.tensor.elemwise import expand_dims
    from opgraph.kernel_core.tensor.shape import reshape, shape_i

    x = as_tensor_variable(x)
    if isinstance(reps, (int, np.integer)):
        reps = (int(reps),)
    reps = tuple(reps)
    for r in reps:
        if not isinstance(r, (int, np.integer)) or isinstance(r, bool) or r < 0:
            raise ValueError(f"tile: reps must be non-negative ints, got {reps!r}")
    nd = max(x.type.ndim, len(reps))
    reps = (1,) * (nd - len(reps)) + reps
    if x.type.ndim < nd:
        x = expand_dims(x, tuple(range(nd - x.type.ndim)))
    if all(r == 1 for r in reps):
        return x
    dims = [x.type.shape[d] if x.type.shape[d] is not None else shape_i(x, d) for d in range(nd)]
    # Interleave a new axis before each one: (r0, n0, r1, n1, ...), broadcast, then merge pairs.
    xe = expand_dims(x, tuple(2 * d for d in range(nd)))
    big = alloc(xe, *[v for d in range(nd) for v in (reps[d], dims[d])])
    out = []
    for d in range(nd):
        out.append(reps[d] * dims[d] if isinstance(dims[d], int) else _tm().mul(dims[d], reps[d]))
    return reshape(big, out)


class TakeAlongAxis(Op):
    """``np.take_along_axis(x, indices, axis)`` (used for the gradient of sort)."""

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = int(axis)

    def __str__(self):
        return f"TakeAlongAxis{{axis={self.axis}}}"

    def make_node(self, x, indices):
        x = as_tensor_variable(x)
        indices = as_tensor_variable(indices)
        if indices.type.dtype[0] not in "iu" or indices.type.ndim != x.type.ndim:
            raise TypeError(f"take_along_axis: indices must be integer with ndim={x.type.ndim}, got {indices.type.short_str()}")
        return Apply(self, [x, indices], [TensorType(x.type.dtype, indices.type.shape).make_variable()])

    def perform(self, node, inputs, output_storage):
        x, idx = inputs
        output_storage[0][0] = np.take_along_axis(x, idx, axis=self.axis)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[1]]

    def L_op(self, inputs, outputs, output_grads):
        x, idx = inputs
        if x.type.dtype[0] in "biu":
            return [None, None]
        return [AddAlongAxis(self.axis)(x, as_tensor_variable(output_grads[0]), idx), None]


class AddAlongAxis(Op):
    """Zeros shaped like ``x`` with ``g`` added at ``indices`` along ``axis`` (repeats accumulate).

    The pullback of TakeAlongAxis; ``x`` only supplies the shape.
    """

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = int(axis)

    def __str__(self):
        return f"AddAlongAxis{{axis={self.axis}}}"

    def make_node(self, x, g, indices):
        x, g, indices = (as_tensor_variable(v) for v in (x, g, indices))
        return Apply(self, [x, g, indices], [TensorType(g.type.dtype, x.type.shape).make_variable()])

    def perform(self, node, inputs, output_storage):
        x, g, idx = inputs
        out = np.zeros(np.shape(x), dtype=node.outputs[0].type.dtype)
        index = list(np.indices(idx.shape, sparse=True))
        index[self.axis] = idx
        np.add.at(out, tuple(index), g)
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        x, g, idx = inputs
        return [None, TakeAlongAxis(self.axis)(as_tensor_variable(output_grads[0]), idx), None]


def take_along_axis(x, indices, axis):
    x = as_tensor_variable(x)
    return TakeAlongAxis(_axis(axis, x.type.ndim, "take_along_axis"))(x, indices)


class _SortBase(Op):
    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = None if axis is None else int(axis)

    def __str__(self):
        return f"{type(self).__name__}{{axis={self.axis}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        if self.axis is not None and not 0 <= self.axis < x.type.ndim:
            raise ValueError(f"{type(self).__name__}: axis {self.axis} is out of bounds for {x} with ndim={x.type.ndim}")
        if self.axis is None:
            shape = (None if None in x.type.shape else int(np.prod(x.type.shape, dtype=np.int64)),)
        else:
            shape = x.type.shape
        return Apply(self, [x], [TensorType(self.out_dtype(x), shape).make_variable()])

    def infer_shape(self, fgraph, node, input_shapes):
        if self.axis is not None:
            return [input_shapes[0]]
        static = node.outputs[0].type.shape[0]
        if static is not None:
            return [(static,)]
        from opgraph.kernel_core.tensor.shape import _int64

        n = _int64(1)
        for s in input_shapes[0]:
            n = _tm().mul(n, _int64(s))
        return [(n,)]


class SortOp(_SortBase):
    """Sorted copy along ``axis`` (None: of the flattened input); stable."""

    def out_dtype(self, x):
        return x.type.dtype

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.sort(inputs[0], axis=self.axis, kind="stable")

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.shape import flatten, reshape, shape

        (x,) = inputs
        if x.type.dtype[0] in "biu":
            return [None]
        g = as_tensor_variable(output_grads[0])
        # out = take(x, p) with p = argsort(x): send g back through the inverse permutation.
        xs = x if self.axis is not None else flatten(x)
        ax = 0 if self.axis is None else self.axis
        p = ArgSortOp(ax)(xs)
        inv = ArgSortOp(ax)(p)
        gx = TakeAlongAxis(ax)(g, inv)
        if self.axis is None and x.type.ndim != 1:
            gx = reshape(gx, shape(x), ndim=x.type.ndim)
        return [gx]


class ArgSortOp(_SortBase):
    """Indices (int64) that sort along ``axis``; stable, so ties keep their order."""

    def out_dtype(self, x):
        return "int64"

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.argsort(inputs[0], axis=self.axis, kind="stable").astype("int64")

    def L_op(self, inputs, outputs, output_grads):
        return [None]


def sort(a, axis=-1):
    a = as_tensor_variable(a)
    return SortOp(_axis(axis, a.type.ndim, "sort"))(a)


def argsort(a, axis=-1):
    a = as_tensor_variable(a)
    return ArgSortOp(_axis(axis, a.type.ndim, "argsort"))(a)


class CumOp(Op):
    """Cumulative sum (mode 'add') or product (mode 'mul') along ``axis`` (None: flattened)."""

    __props__ = ("axis", "mode")

    def __init__(self, axis=None, mode="add"):
        if mode not in ("add", "mul"):
            raise ValueError(f"CumOp: mode must be 'add' or 'mul', got {mode!r}")
        self.axis = None if axis is None else int(axis)
        self.mode = mode

    def make_node(self, x):
        x = as_tensor_variable(x)
        if self.axis is not None and not 0 <= self.axis < x.type.ndim:
            raise ValueError(f"cum{'sum' if self.mode == 'add' else 'prod'}: axis {self.axis} is out of bounds for {x} with ndim={x.type.ndim}")
        from opgraph.kernel_core.tensor.reduction import _sum_dtype

        dtype = _sum_dtype(x.type.dtype)
        if self.axis is None:
            shape = (None if None in x.type.shape else int(np.prod(x.type.shape, dtype=np.int64)),)
        else:
            shape = x.type.shape
        return Apply(self, [x], [TensorType(dtype, shape).make_variable()])

    def perform(self, node, inputs, output_storage):
        f = np.cumsum if self.mode == "add" else np.cumprod
        output_storage[0][0] = f(inputs[0], axis=self.axis, dtype=node.outputs[0].type.dtype)

    infer_shape = _SortBase.infer_shape

    def L_op(self, inputs, outputs, output_grads):
        """A reverse cumulative sum along the axis.

        cumsum: grad_i = sum_{j >= i} g_j.
        cumprod: grad_i = sum_{j >= i} g_j prod_{k <= j, k != i} x_k, without dividing
        by zero.  Before the first zero of a slice it is revcumsum(g * out)_i / x_i.  At
        that zero it is revcumsum(g * out')_i, with out' the cumulative product of x
        with that zero taken as 1.  After it, every product holds the zero: 0.
        """
        from opgraph.kernel_core.tensor.shape import flatten, reshape, shape

        (x,) = inputs
        (out,) = outputs
        if x.type.dtype[0] in "biu":
            return [None]
        tm = _tm()
        g = as_tensor_variable(output_grads[0])
        ax = 0 if self.axis is None else self.axis
        if self.mode == "add":
            grad = _reverse_cumsum(g, ax)
        else:
            xs = x if self.axis is not None else flatten(x)
            is_zero = tm.eq(xs, 0)
            zeros_so_far = CumOp(ax, "add")(is_zero)
            before = tm.eq(zeros_so_far, 0)
            first_zero = tm.and_(is_zero, tm.eq(zeros_so_far, 1))
            divided = tm.true_div(_reverse_cumsum(tm.mul(g, out), ax), tm.switch(before, xs, 1))
            out_skipping = CumOp(ax, "mul")(tm.switch(first_zero, 1, xs))
            at_zero = _reverse_cumsum(tm.mul(g, out_skipping), ax)
            grad = tm.switch(before, divided, tm.switch(first_zero, at_zero, 0))
        if self.axis is None and x.type.ndim != 1:
            grad = reshape(grad, shape(x), ndim=x.type.ndim)
        return [grad]


def _reverse_cumsum(v, axis):
    """sum_{j >= i} v_j along ``axis``: a cumsum of the reversed array, reversed back
    (each entry sums only its own terms: no cancellation against the total)."""
    flip = (slice(None),) * axis + (slice(None, None, -1),)
    return CumOp(axis, "add")(v[flip])[flip]


def cumsum(x, axis=None):
    x = as_tensor_variable(x)
    return CumOp(_axis(axis, x.type.ndim, "cumsum"), "add")(x)


def cumprod(x, axis=None):
    x = as_tensor_variable(x)
    return CumOp(_axis(axis, x.type.ndim, "cumprod"), "mul")(x)


def diff(x, n=1, axis=-1):
    """``n``-th discrete difference along ``axis`` (slices of x, like NumPy)."""
    x = as_tensor_variable(x)
    ax = _axis(axis, x.type.ndim, "diff")
    if ax is None:
        raise ValueError("diff: axis must be an int")
    if n < 0:
        raise ValueError(f"diff: order n={n} must be non-negative")
    before = (slice(None),) * ax
    for _ in range(n):
        x = _tm().sub(x[before + (slice(1, None),)], x[before + (slice(None, -1),)])
    return x

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
    "swapaxes", "moveaxis", "roll", "linspace", "logspace", "geomspace", "fill_diagonal", "fill_diagonal_offset",
    "bincount", "compress", "choose", "SearchsortedOp", "searchsorted", "Unique", "unique",
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


def _tile_reps(reps, ndim):
    """``reps`` as a tuple of non-negative ints and 0-d integer tensors."""
    from opgraph.kernel_core.graph.basic import Variable

    if isinstance(reps, Variable):
        reps = as_tensor_variable(reps)
        if reps.type.dtype[0] not in "iu" or reps.type.ndim > 1:
            raise TypeError(f"tile: reps must be integers, got {reps} ({reps.type.short_str()})")
        if reps.type.ndim == 0:
            return (reps,)
        n = reps.type.shape[0]
        if n is None:
            if ndim is None:
                raise ValueError(f"tile: the length of reps {reps} is not static; pass ndim= (its length)")
            n = ndim
        return tuple(reps[i] for i in range(n))
    if isinstance(reps, (int, np.integer)):
        reps = (reps,)
    out = []
    for r in tuple(reps):
        if isinstance(r, Variable):
            r = as_tensor_variable(r)
            if r.type.dtype[0] not in "iu" or r.type.ndim != 0:
                raise TypeError(f"tile: each rep must be an integer scalar, got {r} ({r.type.short_str()})")
            out.append(r)
        elif isinstance(r, (int, np.integer)) and not isinstance(r, (bool, np.bool_)) and r >= 0:
            out.append(int(r))
        else:
            raise ValueError(f"tile: reps must be non-negative ints or integer scalars, got {reps!r}")
    return tuple(out)


def tile(x, reps, ndim=None):
    """``np.tile``: ``x`` repeated ``reps[i]`` times along axis i (an Alloc + Reshape).

    ``reps``: ints, 0-d integer tensors, or an integer vector (``ndim=`` gives its
    length when that is not static).
    """
    from opgraph.kernel_core.tensor.construction import alloc
    from opgraph.kernel_core.tensor.elemwise import expand_dims
    from opgraph.kernel_core.tensor.shape import reshape, shape_i

    x = as_tensor_variable(x)
    reps = _tile_reps(reps, ndim)
    nd = max(x.type.ndim, len(reps))
    reps = (1,) * (nd - len(reps)) + reps
    if x.type.ndim < nd:
        x = expand_dims(x, tuple(range(nd - x.type.ndim)))
    if all(isinstance(r, int) and r == 1 for r in reps):
        return x
    dims = [x.type.shape[d] if x.type.shape[d] is not None else shape_i(x, d) for d in range(nd)]
    # Interleave a new axis before each one: (r0, n0, r1, n1, ...), broadcast, then merge pairs.
    xe = expand_dims(x, tuple(2 * d for d in range(nd)))
    big = alloc(xe, *[v for d in range(nd) for v in (reps[d], dims[d])])
    out = []
    for r, n in zip(reps, dims):
        out.append(r * n if isinstance(r, int) and isinstance(n, int) else _tm().mul(_tm().cast(r, "int64"), n))
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


# -- everyday NumPy functions built from existing ops (gradients come with them) ------------
def _mod():
    from opgraph.kernel_core.tensor import join, shape, subtensor

    return join, shape, subtensor


def _dim(x, d):
    from opgraph.kernel_core.tensor.shape import shape_i

    return x.type.shape[d] if x.type.shape[d] is not None else shape_i(x, d)


def swapaxes(x, axis1, axis2):
    """``x`` with two axes exchanged (a DimShuffle)."""
    from opgraph.kernel_core.tensor.shape import transpose

    x = as_tensor_variable(x)
    a1, a2 = _axis(axis1, x.type.ndim, "swapaxes"), _axis(axis2, x.type.ndim, "swapaxes")
    perm = list(range(x.type.ndim))
    perm[a1], perm[a2] = perm[a2], perm[a1]
    return transpose(x, perm)


def _axes_seq(axes, ndim, who):
    axes = (axes,) if isinstance(axes, (int, np.integer)) else tuple(axes)
    out = [_axis(a, ndim, who) for a in axes]
    if len(set(out)) != len(out):
        raise ValueError(f"{who}: repeated axis in {axes}")
    return out


def moveaxis(a, source, destination):
    """NumPy's ``moveaxis``: axes ``source`` moved to positions ``destination`` (a DimShuffle)."""
    from opgraph.kernel_core.tensor.shape import transpose

    a = as_tensor_variable(a)
    src = _axes_seq(source, a.type.ndim, "moveaxis")
    dst = _axes_seq(destination, a.type.ndim, "moveaxis")
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: source {source} and destination {destination} differ in length")
    order = [d for d in range(a.type.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(a, order)


def roll(x, shift, axis=None):
    """Elements of ``x`` shifted ``shift`` places along ``axis`` (None: the flattened ``x``),
    wrapping around: a Join of two slices, so ``shift`` may be symbolic."""
    from opgraph.kernel_core.tensor.join import join
    from opgraph.kernel_core.tensor.shape import flatten, reshape, shape

    x = as_tensor_variable(x)
    if axis is None:
        if x.type.ndim == 1:
            return roll(x, shift, 0)
        return reshape(roll(flatten(x), shift, 0), shape(x), ndim=x.type.ndim)
    if isinstance(axis, (tuple, list)):
        shifts = tuple(shift) if isinstance(shift, (tuple, list)) else (shift,) * len(axis)
        if len(shifts) != len(axis):
            raise ValueError(f"roll: {len(shifts)} shifts for {len(axis)} axes")
        for s, a in zip(shifts, axis):
            x = roll(x, s, a)
        return x
    ax = _axis(axis, x.type.ndim, "roll")
    tm = _tm()
    n = _dim(x, ax)
    shift = as_tensor_variable(shift)
    if shift.type.dtype[0] not in "iu" or shift.type.ndim != 0:
        raise TypeError(f"roll: shift must be an integer scalar, got {shift} ({shift.type.short_str()})")
    # Python's modulo keeps the split point in [0, n); max(n, 1) keeps an empty axis defined.
    cut = tm.sub(n, tm.mod(tm.cast(shift, "int64"), tm.maximum(n, 1)))
    before = (slice(None),) * ax
    return join(ax, x[before + (slice(cut, None),)], x[before + (slice(None, cut),)])


def _space_dtype(*vs):
    from opgraph.kernel_core.scalar.type import upcast

    d = upcast(*[v.type.dtype for v in vs])
    return d if d[0] in "fc" else "float64"


def _space(start, end, steps, endpoint, dtype, axis, who):
    """(values, step): the evenly spaced values of ``linspace`` before the final cast.

    ``start``/``end`` broadcast; the new axis is first (moved to ``axis`` by the caller).
    Values are ``start + i * step``, the last one ``end`` exactly when ``endpoint``, as NumPy.
    """
    from opgraph.kernel_core.tensor.construction import arange
    from opgraph.kernel_core.tensor.elemwise import expand_dims

    tm = _tm()
    start, end = as_tensor_variable(start), as_tensor_variable(end)
    steps = as_tensor_variable(steps)
    if steps.type.dtype[0] not in "iu" or steps.type.ndim != 0:
        raise TypeError(f"{who}: steps must be an integer scalar, got {steps} ({steps.type.short_str()})")
    work = _space_dtype(start, end)
    start, end = tm.cast(start, work), tm.cast(end, work)
    nd = max(start.type.ndim, end.type.ndim)
    steps = tm.cast(steps, "int64")
    div = tm.sub(steps, 1) if endpoint else steps
    step = tm.true_div(tm.sub(end, start), tm.cast(tm.maximum(div, 1), work))
    idx = arange(steps, dtype="int64")
    if nd:
        idx = expand_dims(idx, tuple(range(1, nd + 1)))
    y = tm.add(expand_dims(start, 0) if nd else start, tm.mul(tm.cast(idx, work), expand_dims(step, 0) if nd else step))
    if endpoint:
        y = tm.switch(tm.and_(tm.eq(idx, div), tm.gt(div, 0)), expand_dims(end, 0) if nd else end, y)
    return y, tm.switch(tm.gt(div, 0), step, np.nan)


def _finish_space(y, dtype, axis, who):
    tm = _tm()
    if dtype is not None:
        dtype = np.dtype(dtype).name
        if dtype[0] in "iu":
            y = tm.floor(y)  # NumPy floors before casting to an integer dtype
        y = tm.cast(y, dtype)
    if axis not in (0, None) and y.type.ndim > 1:
        y = moveaxis(y, 0, axis)
    return y


def linspace(start, end, steps=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``steps`` evenly spaced values from ``start`` to ``end`` (NumPy's ``linspace``; ``start``
    and ``end`` may be arrays, the new axis goes at ``axis``)."""
    y, step = _space(start, end, steps, endpoint, dtype, axis, "linspace")
    y = _finish_space(y, dtype, axis, "linspace")
    return (y, step) if retstep else y


def logspace(start, end, steps=50, base=10.0, endpoint=True, dtype=None, axis=0):
    """``base ** linspace(start, end, steps)``."""
    y, _ = _space(start, end, steps, endpoint, dtype, axis, "logspace")
    y = _tm().pow(as_tensor_variable(base), y)
    return _finish_space(y, dtype, axis, "logspace")


def geomspace(start, end, steps=50, endpoint=True, dtype=None, axis=0):
    """Values spaced evenly on a log scale, from ``start`` to ``end`` exactly (NumPy's
    ``geomspace`` for real bounds of one sign).  A zero bound raises NumPy's ValueError:
    here for constant bounds, when the function runs otherwise."""
    tm = _tm()
    start, end = as_tensor_variable(start), as_tensor_variable(end)
    for what, bound in (("start", start), ("end", end)):
        if isinstance(bound, Constant) and np.any(np.asarray(bound.data) == 0):
            raise ValueError(f"geomspace: {_ZERO_IN_GEOMETRIC} ({what} is 0)")
    nonzero = [tm.neq(b, 0) for b in (start, end) if not isinstance(b, Constant)]
    work = _space_dtype(start, end)
    start, end = tm.cast(start, work), tm.cast(end, work)
    sign = tm.sign(start)
    y, _ = _space(tm.log10(tm.mul(start, sign)), tm.log10(tm.mul(end, sign)), steps, endpoint, dtype, axis,
                  "geomspace")
    from opgraph.kernel_core.tensor.construction import arange
    from opgraph.kernel_core.tensor.elemwise import expand_dims

    nd = y.type.ndim - 1
    lift = (lambda v: expand_dims(v, 0)) if nd else (lambda v: v)
    y = tm.mul(lift(sign), tm.pow(np.asarray(10.0, dtype=work), y))
    # Exact bounds, as NumPy (10 ** log10(v) is not always v).
    idx = arange(tm.cast(as_tensor_variable(steps), "int64"), dtype="int64")
    if nd:
        idx = expand_dims(idx, tuple(range(1, nd + 1)))
    y = tm.switch(tm.eq(idx, 0), lift(start), y)
    if endpoint:
        y = tm.switch(tm.and_(tm.eq(idx, tm.sub(steps, 1)), tm.gt(idx, 0)), lift(end), y)
    if nonzero:
        # The generic run-time check node (a ValueError subclass naming the condition).
        from opgraph.kernel_core.logprob.check import check_parameters

        y = check_parameters(y, *nonzero, msg=f"geomspace: {_ZERO_IN_GEOMETRIC}")
    return _finish_space(y, dtype, axis, "geomspace")


_ZERO_IN_GEOMETRIC = "Geometric sequence cannot include zero"  # NumPy's words


def fill_diagonal(a, val):
    """``a`` with its main diagonal set to the scalar ``val`` (NumPy's ``fill_diagonal`` without
    wrap; for ndim > 2 every axis must have the same length).  A set_subtensor at (i, i, ...)."""
    from opgraph.kernel_core.tensor.construction import arange
    from opgraph.kernel_core.tensor.subtensor import set_subtensor

    a, val = as_tensor_variable(a), as_tensor_variable(val)
    if a.type.ndim < 2:
        raise ValueError(f"fill_diagonal: {a} needs at least 2 dimensions, has ndim={a.type.ndim}")
    if val.type.ndim != 0:
        raise TypeError(f"fill_diagonal: val must be a scalar, got {val} ({val.type.short_str()})")
    if a.type.ndim > 2:
        known = {s for s in a.type.shape if s is not None}
        if len(known) > 1:
            raise ValueError(f"fill_diagonal: all dimensions of {a} must have the same length, got {a.type.shape}")
    n = _dim(a, 0)
    for d in range(1, a.type.ndim):
        n = _tm().minimum(n, _dim(a, d)) if not (isinstance(n, int) and isinstance(_dim(a, d), int)) \
            else min(n, _dim(a, d))
    idx = arange(n, dtype="int64")
    return set_subtensor(a[(idx,) * a.type.ndim], val)


def fill_diagonal_offset(a, val, offset):
    """Matrix ``a`` with diagonal ``offset`` (> 0 above the main one) set to the scalar ``val``."""
    from opgraph.kernel_core.tensor.construction import arange
    from opgraph.kernel_core.tensor.subtensor import set_subtensor

    tm = _tm()
    a, val, offset = as_tensor_variable(a), as_tensor_variable(val), as_tensor_variable(offset)
    if a.type.ndim != 2:
        raise ValueError(f"fill_diagonal_offset: {a} must be a matrix, has ndim={a.type.ndim}")
    if val.type.ndim != 0:
        raise TypeError(f"fill_diagonal_offset: val must be a scalar, got {val} ({val.type.short_str()})")
    if offset.type.dtype[0] not in "iu" or offset.type.ndim != 0:
        raise TypeError(f"fill_diagonal_offset: offset must be an integer scalar, got {offset.type.short_str()}")
    offset = tm.cast(offset, "int64")
    row0, col0 = tm.maximum(tm.neg(offset), 0), tm.maximum(offset, 0)
    length = tm.maximum(tm.minimum(tm.sub(_dim(a, 0), row0), tm.sub(_dim(a, 1), col0)), 0)
    idx = arange(length, dtype="int64")
    return set_subtensor(a[tm.add(idx, row0), tm.add(idx, col0)], val)


def bincount(x, weights=None, minlength=None, assert_nonneg=False):
    """Counts (or summed ``weights``) of each value of the non-negative integer vector ``x``.

    Built as ``inc_subtensor(zeros(n)[x], weights)``, so ``weights`` get a gradient.  A
    negative value raises IndexError at run time whatever ``assert_nonneg`` says (NumPy refuses
    them too; silently wrapping to the end would be a wrong count).
    """
    from opgraph.kernel_core.tensor.construction import zeros
    from opgraph.kernel_core.tensor.join import concatenate
    from opgraph.kernel_core.tensor.reduction import max as _max
    from opgraph.kernel_core.tensor.subtensor import inc_subtensor

    tm = _tm()
    x = as_tensor_variable(x)
    if x.type.dtype[0] not in "iu" or x.type.ndim != 1:
        raise TypeError(f"bincount: x must be an integer vector, got {x} ({x.type.short_str()})")
    x = tm.cast(x, "int64")
    # max of x with -1 appended: an empty x gives length 0 (NumPy's rule), not an error.
    length = tm.add(_max(concatenate([x, as_tensor_variable(np.array([-1], dtype="int64"))])), 1)
    if minlength is not None:
        length = tm.maximum(length, tm.cast(as_tensor_variable(minlength), "int64"))
    if weights is None:
        out, w = zeros((length,), dtype="int64"), 1
    else:
        w = as_tensor_variable(weights)
        out = zeros((length,), dtype=w.type.dtype)
    safe = tm.switch(tm.lt(x, 0), length, x)  # out of bounds: refused by the indexing op
    return inc_subtensor(out[safe], w)


def compress(condition, x, axis=None):
    """The slices of ``x`` along ``axis`` (None: of the flattened ``x``) where ``condition``
    is true; a shorter ``condition`` counts as False beyond its end (NumPy's rule)."""
    from opgraph.kernel_core.tensor.shape import flatten

    tm = _tm()
    x, condition = as_tensor_variable(x), as_tensor_variable(condition)
    if condition.type.ndim != 1:
        raise ValueError(f"compress: condition must be a vector, got {condition} ({condition.type.short_str()})")
    if axis is None:
        x, ax = (flatten(x) if x.type.ndim != 1 else x), 0
    else:
        ax = _axis(axis, x.type.ndim, "compress")
    mask = tm.neq(condition, 0) if condition.type.dtype != "bool" else condition
    before = (slice(None),) * ax
    head = x[before + (slice(None, _dim(condition, 0)),)]
    return head[before + (mask,)]


def choose(a, choices, mode="raise"):
    """``out[i] = choices[a[i]][i]`` (NumPy's ``choose``): ``a`` and the choices broadcast.

    Built as take_along_axis on the stacked, broadcast choices; ``mode`` 'raise' (out of
    range: IndexError at run time), 'wrap' (modulo) or 'clip'.
    """
    from opgraph.kernel_core.tensor.join import stack

    tm = _tm()
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"choose: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    a = as_tensor_variable(a)
    if a.type.dtype[0] not in "iu":
        raise TypeError(f"choose: a must be integer, got {a} ({a.type.short_str()})")
    if isinstance(choices, (list, tuple)):
        choices = [as_tensor_variable(c) for c in choices]
    else:
        c = as_tensor_variable(choices)
        if c.type.ndim == 0:
            raise ValueError(f"choose: choices {c} must be a sequence or an array with a first axis")
        choices = [c[k] for k in range(len(c))] if c.type.shape[0] is not None else None
        if choices is None:
            return _choose_stacked(a, c, mode)
    if not choices:
        raise ValueError("choose: choices must not be empty")
    dtype = np.result_type(*[np.dtype(c.type.dtype) for c in choices]).name
    # A zero of the broadcast shape of a and every choice: second(template, v) broadcasts v.
    template = tm.zeros_like(tm.cast(a, dtype))
    for c in choices:
        template = tm.add(template, tm.zeros_like(tm.cast(c, dtype)))
    stacked = stack([tm.second(template, tm.cast(c, dtype)) for c in choices])
    return _choose_stacked(tm.second(template, a) if a.type.dtype == "int64" else tm.cast(tm.second(template, a), "int64"),
                           stacked, mode, broadcast=False)


def _choose_stacked(a, c, mode, broadcast=True):
    from opgraph.kernel_core.tensor.elemwise import expand_dims

    tm = _tm()
    a = tm.cast(a, "int64")
    if broadcast:
        # c: (k, *S); a broadcasts against S.
        template = tm.zeros_like(c[0])
        template = tm.add(template, tm.zeros_like(tm.cast(a, c.type.dtype)))
        a = tm.cast(tm.second(template, a), "int64")
        c = tm.second(expand_dims(template, 0), c)
    k = _dim(c, 0)
    if mode == "wrap":
        a = tm.mod(a, k)
    elif mode == "clip":
        a = tm.clip(a, 0, tm.sub(k, 1))
    else:
        a = tm.switch(tm.lt(a, 0), k, a)  # a negative choice is out of range, not "from the end"
    return take_along_axis(c, expand_dims(a, 0), 0)[0]


class SearchsortedOp(Op):
    """``np.searchsorted(x, v, side, sorter)``: int64 insertion points of ``v`` in sorted ``x``.

    Integer-valued, so no gradient flows through it (a step function of ``x`` and ``v``).
    """

    __props__ = ("side",)

    def __init__(self, side="left"):
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        self.side = side

    def __str__(self):
        return f"Searchsorted{{side={self.side}}}"

    def make_node(self, x, v, sorter=None):
        x, v = as_tensor_variable(x), as_tensor_variable(v)
        if x.type.ndim != 1:
            raise ValueError(f"searchsorted: x must be a vector, got {x} ({x.type.short_str()})")
        inputs = [x, v]
        if sorter is not None:
            sorter = as_tensor_variable(sorter)
            if sorter.type.ndim != 1 or sorter.type.dtype[0] not in "iu":
                raise TypeError(f"searchsorted: sorter must be an integer vector, got {sorter.type.short_str()}")
            inputs.append(sorter)
        return Apply(self, inputs, [TensorType("int64", v.type.shape).make_variable()])

    def perform(self, node, inputs, output_storage):
        x, v, *sorter = inputs
        out = np.searchsorted(x, v, side=self.side, sorter=sorter[0] if sorter else None)
        output_storage[0][0] = np.asarray(out, dtype="int64")

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[1]]

    def L_op(self, inputs, outputs, output_grads):
        return [None] * len(inputs)


def searchsorted(x, v, side="left", sorter=None):
    """Indices where the elements of ``v`` would be inserted into the sorted vector ``x``."""
    return SearchsortedOp(side)(x, v, sorter)


class Unique(Op):
    """``np.unique`` with ``return_index`` / ``return_inverse`` / ``return_counts`` and ``axis``.

    Outputs: the sorted unique values (or slices along ``axis``), then the requested
    int64 arrays in NumPy's order.  NaNs count as equal (NumPy's ``equal_nan=True``).
    """

    __props__ = ("return_index", "return_inverse", "return_counts", "axis")

    def __init__(self, return_index=False, return_inverse=False, return_counts=False, axis=None):
        self.return_index = bool(return_index)
        self.return_inverse = bool(return_inverse)
        self.return_counts = bool(return_counts)
        self.axis = None if axis is None else int(axis)

    def __str__(self):
        flags = [n for n in ("return_index", "return_inverse", "return_counts") if getattr(self, n)]
        return f"Unique{{{', '.join(flags + [f'axis={self.axis}'])}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        if self.axis is not None and not 0 <= self.axis < x.type.ndim:
            raise ValueError(f"unique: axis {self.axis} is out of bounds for {x} with ndim={x.type.ndim}")
        if self.axis is None:
            out = TensorType(x.type.dtype, (None,))
            inverse_shape = x.type.shape  # NumPy 2: the inverse has x's shape
        else:
            shape = list(x.type.shape)
            shape[self.axis] = None
            out = TensorType(x.type.dtype, tuple(shape))
            inverse_shape = (x.type.shape[self.axis],)
        outs = [out.make_variable()]
        if self.return_index:
            outs.append(TensorType("int64", (None,)).make_variable())
        if self.return_inverse:
            outs.append(TensorType("int64", inverse_shape).make_variable())
        if self.return_counts:
            outs.append(TensorType("int64", (None,)).make_variable())
        return Apply(self, [x], outs)

    def perform(self, node, inputs, output_storage):
        res = np.unique(inputs[0], return_index=self.return_index, return_inverse=self.return_inverse,
                        return_counts=self.return_counts, axis=self.axis)
        if not isinstance(res, tuple):
            res = (res,)
        for storage, value, var in zip(output_storage, res, node.outputs):
            value = np.asarray(value, dtype=var.type.dtype)
            if var is not node.outputs[0] and value.ndim != var.type.ndim:
                value = value.reshape(inputs[0].shape if self.axis is None else -1)
            storage[0] = value

    def infer_shape(self, fgraph, node, input_shapes):
        from opgraph.kernel_core.tensor.shape import shape_i

        n_unique = shape_i(node.outputs[0], 0 if self.axis is None else self.axis)
        out = []
        if self.axis is None:
            out.append((n_unique,))
        else:
            s = list(input_shapes[0])
            s[self.axis] = n_unique
            out.append(tuple(s))
        if self.return_index:
            out.append((n_unique,))
        if self.return_inverse:
            out.append(tuple(input_shapes[0]) if self.axis is None else (input_shapes[0][self.axis],))
        if self.return_counts:
            out.append((n_unique,))
        return out

    def L_op(self, inputs, outputs, output_grads):
        raise NotImplementedError("unique has no gradient (which output element an input feeds is "
                                  "decided by value comparisons)")


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None):
    """NumPy's ``unique``: a single variable, or a list when any ``return_*`` flag is set."""
    ar = as_tensor_variable(ar)
    axis = _axis(axis, ar.type.ndim, "unique")
    outs = Unique(return_index, return_inverse, return_counts, axis)(ar)
    return outs

"""Indexing: basic ``Subtensor`` (ints, slices), ``IncSubtensor`` (set / inc),
and advanced indexing (integer arrays, boolean masks) with its set / inc.

Basic index entries that are not static become *scalar* inputs of the node
(``ScalarType(int64)`` constants for Python ints), so ``x[0, 1]`` prints as

    Subtensor{i, j}
     ├─ x
     ├─ 0
     └─ 1

The op's ``idx_list`` describes the pattern: each entry is either a
``ScalarType`` (an integer index taken from the next input) or an
``IdxSlice(start, stop, step)`` whose fields are ``ScalarType`` (taken from
the next input) or None (absent).  Advanced ops use ``TensorType`` entries
for array indices.  ``indices_from_node(node)`` rebuilds the Python-level
index (slices holding variables) for rewrites.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from opgraph.kernel_core.graph.basic import Apply, Constant, Variable
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.scalar.type import INT_DTYPES, ScalarType, get_scalar_type
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.elemwise import DimShuffle, scalar_from_tensor, tensor_from_scalar
from opgraph.kernel_core.tensor.type import TensorType


__all__ = [
    "Subtensor", "IncSubtensor", "AdvancedSubtensor1", "AdvancedSubtensor",
    "AdvancedIncSubtensor1", "AdvancedIncSubtensor", "IdxSlice",
    "getitem", "set_subtensor", "inc_subtensor", "indices_from_node",
]

_INT64 = get_scalar_type("int64")


@dataclass(frozen=True)
class IdxSlice:
    """A hashable slice pattern (Python 3.11 slices cannot be op props)."""

    start: object = None
    stop: object = None
    step: object = None

    def __iter__(self):
        return iter((self.start, self.stop, self.step))


# -- index conversion ---------------------------------------------------------
def _is_int_value(v):
    if isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "iu":
        return True  # a 0-d integer array indexes like an int
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, (bool, np.bool_))


def _as_index_scalar(v, what="index"):
    """A scalar integer Variable for a basic index entry (or slice part)."""
    if _is_int_value(v):
        return _INT64.make_constant(np.int64(v))
    if isinstance(v, Variable):
        t = v.type
        if isinstance(t, ScalarType):
            if t.dtype not in INT_DTYPES:
                raise TypeError(f"{what} {v} must be an integer, not {t.dtype}")
            return v
        if isinstance(t, TensorType) and t.ndim == 0:
            if t.dtype not in INT_DTYPES:
                raise TypeError(f"{what} {v} must be an integer, not {t.dtype}")
            if isinstance(v, Constant):
                return _INT64.make_constant(np.int64(v.data))
            return scalar_from_tensor(v)
        raise TypeError(f"{what} {v} must be a scalar integer, got {t.short_str()}")
    raise TypeError(f"{what} must be an integer or an integer variable, got {type(v).__name__} {v!r:.40}")


def _static_int(var):
    """The Python int a scalar index variable holds, or None when symbolic."""
    if isinstance(var, Constant):
        return int(np.asarray(var.data))
    return None


def _is_full_slice(entry):
    return isinstance(entry, slice) and entry.start is None and entry.stop is None and entry.step is None


def _is_advanced_entry(e):
    """Whether an index entry needs advanced indexing (arrays, masks, bools)."""
    if e is None or e is Ellipsis or isinstance(e, slice):
        return False
    if isinstance(e, (bool, np.bool_)):
        return True
    if _is_int_value(e):
        return False
    if isinstance(e, (list, tuple, np.ndarray)):
        return True
    if isinstance(e, Variable):
        t = e.type
        if isinstance(t, TensorType):
            return t.ndim > 0 or t.dtype == "bool"
        return False
    return False


def _consumed_dims(e):
    """How many input axes an index entry consumes (bool masks consume their ndim)."""
    if e is None or isinstance(e, (bool, np.bool_)):
        return 0
    if isinstance(e, (list, tuple, np.ndarray)):
        arr = np.asarray(e)
        return arr.ndim if arr.dtype == bool else 1
    if isinstance(e, Variable) and isinstance(e.type, TensorType) and e.type.dtype == "bool":
        return e.type.ndim
    return 1


def _slice_length_static(start, stop, step, n):
    if n is None:
        if start is None and stop is None and (step is None or step == 1):
            return None
        # Length may still be known without n in a few cases, e.g. x[2:5] is not.
        return None
    return len(range(*slice(start, stop, step).indices(n)))


def _check_static_bound(value, n, axis, x):
    if n is not None and not -n <= value < n:
        raise IndexError(f"index {value} is out of bounds for axis {axis} with size {n} (indexing {x})")


def _entries_from_inputs(idx_list, inputs):
    """Python-level entries (ints / slices of values or Variables) from an op's idx_list."""
    it = iter(inputs)
    out = []
    for e in idx_list:
        if isinstance(e, IdxSlice):
            out.append(slice(*[None if p is None else next(it) for p in e]))
        else:
            out.append(next(it))
    return out


def indices_from_node(node):
    """The index of a (Inc)Subtensor node as a tuple of Variables / slices of Variables."""
    op = node.op
    start = 2 if isinstance(op, (IncSubtensor, AdvancedIncSubtensor)) else 1
    return tuple(_entries_from_inputs(op.idx_list, node.inputs[start:]))


def _basic_idx_list(entries, x, what="index"):
    """(idx_list, index inputs) of basic entries (ints and slices)."""
    idx_list, inputs = [], []
    for axis, e in enumerate(entries):
        if isinstance(e, slice):
            parts = []
            for p in (e.start, e.stop, e.step):
                if p is None or (isinstance(p, Variable) and getattr(p, "data", 0) is None):
                    parts.append(None)
                    continue
                sv = _as_index_scalar(p, "slice bound")
                if e.step is p and _static_int(sv) == 0:
                    raise ValueError("slice step cannot be zero")
                parts.append(sv.type)
                inputs.append(sv)
            idx_list.append(IdxSlice(*parts))
        else:
            sv = _as_index_scalar(e, what)
            v = _static_int(sv)
            if v is not None and x is not None:
                _check_static_bound(v, x.type.shape[axis], axis, x)
            idx_list.append(sv.type)
            inputs.append(sv)
    return tuple(idx_list), inputs


def _idx_str(idx_list):
    """PyTensor's pattern names: ints are i, j, k (then ii, jj, ...), slices start:stop:step."""
    parts, letters = [], 0
    for e in idx_list:
        if isinstance(e, IdxSlice):
            if e.step is not None:
                parts.append(":".join(("start" if e.start is not None else "",
                                       "stop" if e.stop is not None else "", "step")))
            elif e.stop is not None:
                parts.append(("start" if e.start is not None else "") + ":stop")
            elif e.start is not None:
                parts.append("start:")
            else:
                parts.append(":")
        elif isinstance(e, TensorType):
            parts.append(_idx_tensor_str(e))
        else:
            parts.append("ijk"[letters % 3] * (letters // 3 + 1))
            letters += 1
    return ", ".join(parts)


def _idx_tensor_str(t):
    return "bool mask" if t.dtype == "bool" else ("int" if t.ndim == 0 else "int array")


def _as_int64_tensor(v):
    t = as_tensor_variable(v) if not isinstance(v, Variable) or isinstance(v.type, TensorType) else tensor_from_scalar(v)
    if t.type.dtype != "int64":
        from opgraph.kernel_core.tensor.math import cast

        t = cast(t, "int64")
    return t


def _symbolic_slice_length(n, start, stop, step):
    """Length of ``range(n)[start:stop:step]`` as an int64 graph (bounds may be None)."""
    from opgraph.kernel_core.tensor import math as tm

    n = _as_int64_tensor(n)
    zero, one = as_tensor_variable(np.int64(0)), as_tensor_variable(np.int64(1))
    minus_one = as_tensor_variable(np.int64(-1))
    step_v = one if step is None else _as_int64_tensor(step)

    def norm(b, default_pos, default_neg, lo_pos, hi_pos, lo_neg, hi_neg):
        # Negative bounds count from the end, then clip into range (like slice.indices).
        if b is None:
            return default_pos, default_neg
        b = _as_int64_tensor(b)
        b = tm.switch(tm.lt(b, 0), b + n, b)
        return tm.clip(b, lo_pos, hi_pos), tm.clip(b, lo_neg, hi_neg)

    start_p, start_n = norm(start, zero, n - 1, zero, n, minus_one, n - 1)
    stop_p, stop_n = norm(stop, n, minus_one, zero, n, minus_one, n - 1)
    pos = tm.maximum(tm.int_div(stop_p - start_p + step_v - 1, step_v), zero)
    neg = tm.maximum(tm.int_div(start_n - stop_n - step_v - 1, -step_v), zero)
    static_step = _static_int(step) if isinstance(step, Variable) else (1 if step is None else None)
    if static_step is not None:
        return pos if static_step > 0 else neg
    return tm.switch(tm.gt(step_v, 0), pos, neg)


def _basic_out_shape(x_shape, idx_list, inputs):
    """Static output shape of basic indexing."""
    entries = _entries_from_inputs(idx_list, inputs)
    out = []
    for axis, e in enumerate(entries):
        if isinstance(e, slice):
            parts = [None if p is None else _static_int(p) for p in (e.start, e.stop, e.step)]
            known = all(p is None or v is not None for p, v in zip((e.start, e.stop, e.step), parts))
            n = x_shape[axis]
            if _is_full_slice(e):
                out.append(n)
            elif known:
                out.append(_slice_length_static(*parts, n))
            else:
                out.append(None)
    out.extend(x_shape[len(entries):])
    return tuple(out)


def _numpy_index(idx_list, values):
    entries = _entries_from_inputs(idx_list, values)
    return tuple(slice(*[None if p is None else int(p) for p in (e.start, e.stop, e.step)])
                 if isinstance(e, slice) else int(e) for e in entries)


# -- basic Subtensor ------------------------------------------------------------
class Subtensor(Op):
    """``x[idx]`` with ints and slices; returns a view."""

    __props__ = ("idx_list",)
    view_map = {0: [0]}

    def __init__(self, idx_list):
        self.idx_list = tuple(idx_list)

    def __str__(self):
        return f"Subtensor{{{_idx_str(self.idx_list)}}}"

    def make_node(self, x, *index_inputs):
        x = as_tensor_variable(x)
        if len(self.idx_list) > x.type.ndim:
            raise IndexError(f"too many indices for {x} ({x.type.short_str()}): {len(self.idx_list)} given")
        index_inputs = [_as_index_scalar(i) for i in index_inputs]
        expected = sum(1 for _ in _iter_types(self.idx_list))
        if len(index_inputs) != expected:
            raise TypeError(f"{self} takes {expected} index inputs, got {len(index_inputs)}")
        for t, i in zip(_iter_types(self.idx_list), index_inputs):
            if i.type != t:
                raise TypeError(f"{self}: index input {i} has type {i.type}, expected {t}")
        shape = _basic_out_shape(x.type.shape, self.idx_list, index_inputs)
        return Apply(self, [x, *index_inputs], [TensorType(x.type.dtype, shape).make_variable()])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        idx = _numpy_index(self.idx_list, inputs[1:])
        output_storage[0][0] = np.asarray(x[idx])

    def infer_shape(self, fgraph, node, input_shapes):
        xshape = input_shapes[0]
        entries = _entries_from_inputs(self.idx_list, node.inputs[1:])
        static = node.outputs[0].type.shape
        out, k = [], 0
        for axis, e in enumerate(entries):
            if not isinstance(e, slice):
                continue
            if static[k] is not None:
                out.append(static[k])
            elif _is_full_slice(e):
                out.append(xshape[axis])
            else:
                out.append(_symbolic_slice_length(xshape[axis], e.start, e.stop, e.step))
            k += 1
        out.extend(xshape[len(entries):])
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.math import zeros_like

        x, *idx = inputs
        (gz,) = output_grads
        gx = IncSubtensor(self.idx_list)(zeros_like(x), gz, *idx)
        return [gx] + [None] * len(idx)


def _iter_types(idx_list):
    for e in idx_list:
        if isinstance(e, IdxSlice):
            for p in e:
                if p is not None:
                    yield p
        else:
            yield e


def _cast_value_to(y, dtype, what):
    """``y`` as ``dtype`` when that loses nothing (constants are checked by value)."""
    from opgraph.kernel_core.tensor.math import cast

    y = as_tensor_variable(y)
    if y.type.dtype == dtype:
        return y
    if np.can_cast(y.type.dtype, dtype):
        return cast(y, dtype)
    if isinstance(y, Constant):
        data = np.asarray(y.data)
        if np.array_equal(data.astype(dtype), data):
            return as_tensor_variable(data.astype(dtype))
    raise TypeError(f"{what}: cannot store {y.type.dtype} values {y} into a {dtype} tensor without loss; "
                    f"cast them explicitly")


class _IncSubtensorBase(Op):
    """Shared by basic and advanced inc/set: ``x`` with ``x[idx]`` set to or incremented by ``y``.

    Subclasses name the op that reads ``x[idx]`` (``read_op``), used by the pullback.
    """

    __props__ = ("idx_list", "inplace", "set_instead_of_inc")

    def __init__(self, idx_list, inplace=False, set_instead_of_inc=False):
        self.idx_list = tuple(idx_list)
        self.inplace = bool(inplace)
        self.set_instead_of_inc = bool(set_instead_of_inc)
        self.destroy_map = {0: [0]} if inplace else {}

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        return _inc_pullback(self, type(self), self.read_op, inputs, output_grads)


class IncSubtensor(_IncSubtensorBase):
    """``x`` with ``x[idx]`` set to (or incremented by) ``y``."""

    def __str__(self):
        name = "SetSubtensor" if self.set_instead_of_inc else "IncSubtensor"
        return f"{name}{{{_idx_str(self.idx_list)}}}" + ("{inplace}" if self.inplace else "")

    def make_node(self, x, y, *index_inputs):
        x = as_tensor_variable(x)
        index_inputs = [_as_index_scalar(i) for i in index_inputs]
        sub_shape = _basic_out_shape(x.type.shape, self.idx_list, index_inputs)
        y = _cast_value_to(y, x.type.dtype, str(self))
        _check_assignable(y, sub_shape, self)
        return Apply(self, [x, y, *index_inputs], [x.type.make_variable()])

    def perform(self, node, inputs, output_storage):
        x, y, *idx = inputs
        out = x if self.inplace else x.copy()
        index = _numpy_index(self.idx_list, idx)
        if self.set_instead_of_inc:
            out[index] = y
        else:
            out[index] += y
        output_storage[0][0] = out



def _check_assignable(y, sub_shape, op):
    if y.type.ndim > len(sub_shape):
        raise ValueError(f"{op}: cannot assign a {y.type.ndim}-d value {y} into a {len(sub_shape)}-d selection")
    for ys, ss in zip(y.type.shape[::-1], sub_shape[::-1]):
        if ys is not None and ss is not None and ys != 1 and ys != ss:
            raise ValueError(f"{op}: value {y} of shape {y.type.shape} does not broadcast to the selection "
                             f"of shape {sub_shape}")


def _inc_pullback(op, inc_cls, get_cls, inputs, output_grads):
    """Gradients of x[idx] += y (or = y): gz for x (zeroed at idx when setting), gz[idx] for y.

    Setting through an advanced index that repeats a position keeps the last
    write (NumPy's order), so only that element of y reaches the output:
    ``_last_write_wins`` zeroes the gradient of the overwritten ones."""
    from opgraph.kernel_core.tensor.math import zeros_like

    x, y, *idx = inputs
    (gz,) = output_grads
    if op.set_instead_of_inc:
        gx = inc_cls(op.idx_list, set_instead_of_inc=True)(gz, zeros_like(y), *idx)
    else:
        gx = gz
    sel = get_cls(op.idx_list)(gz, *idx)
    if op.set_instead_of_inc and inc_cls is not IncSubtensor:
        sel = _last_write_wins(sel, x, lambda t: get_cls(op.idx_list)(t, *idx),
                               lambda t, v: inc_cls(op.idx_list, set_instead_of_inc=True)(t, v, *idx), idx)
    gy = _reduce_like(sel, y)
    return [gx, gy] + [None] * len(idx)


def _may_repeat(idx):
    """Whether advanced index inputs may select one position twice (constants are checked)."""
    arrays = [i for i in idx if getattr(i.type, "ndim", 0) > 0 and i.type.dtype != "bool"]
    if not arrays:
        return False  # slices, scalars and masks never repeat a position
    if len(arrays) == 1 and isinstance(arrays[0], Constant):
        data = np.asarray(arrays[0].data).ravel()
        # (A negative index may alias a positive one: conservatively a repeat.)
        return bool((data < 0).any()) or np.unique(data).size != data.size
    return True


def _last_write_wins(sel, x, read, write, idx):
    """``sel`` (the output gradient read at idx) zeroed where a later write overwrote the element.

    Each selected element gets a label (its flat position in the selection); the
    labels are written into an int64 copy of x's shape with the same index, so
    each position keeps the label of its last write, and reading them back tells
    which elements won."""
    if not _may_repeat(idx):
        return sel
    from opgraph.kernel_core.tensor.construction import alloc, arange
    from opgraph.kernel_core.tensor.math import eq, switch, zeros_like
    from opgraph.kernel_core.tensor.shape import reshape, shape, shape_i

    n = shape_i(sel, 0)
    for d in range(1, sel.type.ndim):
        n = n * shape_i(sel, d)
    labels = reshape(arange(n, dtype="int64"), shape(sel), ndim=sel.type.ndim)
    board = alloc(as_tensor_variable(np.int64(-1)), *[shape_i(x, d) for d in range(x.type.ndim)])
    won = eq(read(write(board, labels)), labels)
    return switch(won, sel, zeros_like(sel))


def _reduce_like(g, y):
    """Sum ``g`` over the axes ``y`` was broadcast along, so it has ``y``'s shape."""
    from opgraph.kernel_core.tensor.blockwise import sum_to_broadcast

    return sum_to_broadcast(g, y)


# -- advanced indexing ------------------------------------------------------
def _as_index_tensor(e, what="index"):
    if isinstance(e, Variable):
        t = as_tensor_variable(e)
    else:
        arr = np.asarray(e)
        if arr.dtype == object:
            raise TypeError(f"{what} {e!r:.40} is not an array of integers or booleans")
        if arr.size == 0 and arr.dtype.kind == "f":
            arr = arr.astype("int64")
        t = as_tensor_variable(arr)
    if t.type.dtype != "bool" and t.type.dtype not in INT_DTYPES:
        raise TypeError(f"{what} {t} must hold integers or booleans, not {t.type.dtype}")
    return t


class AdvancedSubtensor1(Op):
    """``x[ilist]`` for one integer vector on the first axis (a copy)."""

    __props__ = ()

    def make_node(self, x, ilist):
        x = as_tensor_variable(x)
        ilist = _as_index_tensor(ilist)
        if x.type.ndim == 0:
            raise IndexError(f"cannot index the 0-d tensor {x}")
        if ilist.type.ndim != 1 or ilist.type.dtype == "bool":
            raise TypeError(f"AdvancedSubtensor1 needs an integer vector index, got {ilist.type.short_str()}")
        _check_static_array_bounds(ilist, x.type.shape[0], 0, x)
        shape = (ilist.type.shape[0],) + x.type.shape[1:]
        return Apply(self, [x, ilist], [TensorType(x.type.dtype, shape).make_variable()])

    def perform(self, node, inputs, output_storage):
        x, i = inputs
        output_storage[0][0] = x[i]

    def infer_shape(self, fgraph, node, input_shapes):
        xs, ishape = input_shapes
        return [(ishape[0],) + tuple(xs[1:])]

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.math import zeros_like

        x, i = inputs
        (gz,) = output_grads
        return [AdvancedIncSubtensor1()(zeros_like(x), gz, i), None]


def _check_static_array_bounds(idx, n, axis, x):
    if isinstance(idx, Constant) and n is not None and idx.type.dtype != "bool":
        data = np.asarray(idx.data)
        bad = data[(data < -n) | (data >= n)]
        if bad.size:
            _check_static_bound(int(bad.ravel()[0]), n, axis, x)


class AdvancedIncSubtensor1(Op):
    """``x`` with ``x[ilist]`` set / incremented by ``y`` (repeated indices accumulate for inc)."""

    __props__ = ("inplace", "set_instead_of_inc")

    def __init__(self, inplace=False, set_instead_of_inc=False):
        self.inplace = bool(inplace)
        self.set_instead_of_inc = bool(set_instead_of_inc)
        self.destroy_map = {0: [0]} if inplace else {}

    def __str__(self):
        name = "AdvancedSetSubtensor1" if self.set_instead_of_inc else "AdvancedIncSubtensor1"
        return name + ("{inplace}" if self.inplace else "")

    def make_node(self, x, y, ilist):
        x = as_tensor_variable(x)
        ilist = _as_index_tensor(ilist)
        if ilist.type.ndim != 1 or ilist.type.dtype == "bool":
            raise TypeError(f"{self} needs an integer vector index, got {ilist.type.short_str()}")
        y = _cast_value_to(y, x.type.dtype, str(self))
        _check_assignable(y, (ilist.type.shape[0],) + x.type.shape[1:], self)
        return Apply(self, [x, y, ilist], [x.type.make_variable()])

    def perform(self, node, inputs, output_storage):
        x, y, i = inputs
        out = x if self.inplace else x.copy()
        if self.set_instead_of_inc:
            out[i] = y
        else:
            np.add.at(out, i, y)
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.math import zeros_like

        x, y, i = inputs
        (gz,) = output_grads
        gx = AdvancedIncSubtensor1(set_instead_of_inc=True)(gz, zeros_like(y), i) if self.set_instead_of_inc else gz
        sel = AdvancedSubtensor1()(gz, i)
        if self.set_instead_of_inc:  # repeated indices: the last write wins (_last_write_wins)
            sel = _last_write_wins(sel, x, lambda t: AdvancedSubtensor1()(t, i),
                                   lambda t, v: AdvancedIncSubtensor1(set_instead_of_inc=True)(t, v, i), [i])
        return [gx, _reduce_like(sel, y), None]


def _adv_entries(idx_list, inputs):
    """Python-level entries: TensorType / ScalarType entries take the next input."""
    it = iter(inputs)
    out = []
    for e in idx_list:
        if isinstance(e, IdxSlice):
            out.append(slice(*[None if p is None else next(it) for p in e]))
        else:
            out.append(next(it))
    return out


def _adv_static_shape(x_shape, idx_list, inputs):
    """Static output shape of NumPy advanced indexing (unknown dims are None)."""
    entries = _adv_entries(idx_list, inputs)
    adv_shapes, adv_positions, out_basic = [], [], []
    axis = 0
    for pos, e in enumerate(entries):
        if isinstance(e, slice):
            parts = [None if p is None else _static_int(p) for p in (e.start, e.stop, e.step)]
            known = all(p is None or v is not None for p, v in zip((e.start, e.stop, e.step), parts))
            n = x_shape[axis]
            length = n if _is_full_slice(e) else (_slice_length_static(*parts, n) if known else None)
            out_basic.append((pos, length))
            axis += 1
            continue
        t = e.type
        if t.dtype == "bool":
            count = int(np.count_nonzero(e.data)) if isinstance(e, Constant) else None
            adv_shapes.append((count,))
            axis += max(t.ndim, 1) if t.ndim else 0
        else:
            adv_shapes.append(t.shape)
            axis += 1
        adv_positions.append(pos)
    from opgraph.kernel_core.tensor.type import broadcast_static_shapes

    adv = broadcast_static_shapes(adv_shapes) if adv_shapes else ()
    rest = tuple(x_shape[axis:])
    adjacent = adv_positions == list(range(adv_positions[0], adv_positions[-1] + 1)) if adv_positions else True
    if adjacent and adv_positions:
        first = adv_positions[0]
        before = tuple(l for p, l in out_basic if p < first)
        after = tuple(l for p, l in out_basic if p > first)
        return before + adv + after + rest
    return adv + tuple(l for _, l in out_basic) + rest


class AdvancedSubtensor(Op):
    """NumPy advanced indexing: integer arrays and boolean masks, mixed with ints and slices."""

    __props__ = ("idx_list",)

    def __init__(self, idx_list):
        self.idx_list = tuple(idx_list)

    def __str__(self):
        return "AdvancedSubtensor"

    def make_node(self, x, *index_inputs):
        x = as_tensor_variable(x)
        index_inputs = list(index_inputs)
        shape = _adv_static_shape(x.type.shape, self.idx_list, index_inputs)
        return Apply(self, [x, *index_inputs], [TensorType(x.type.dtype, shape).make_variable()])

    def perform(self, node, inputs, output_storage):
        x, *idx = inputs
        output_storage[0][0] = np.asarray(x[_adv_numpy_index(self.idx_list, idx)])

    def infer_shape(self, fgraph, node, input_shapes):
        # Shapes of advanced selections depend on index values (masks); the
        # output's own length is the honest answer when it is not static.  As a
        # Shape_i of the output (not Shape(out)[i]) the shape rules recognise it
        # and leave it alone instead of cycling Shape_i <-> Shape[i] (issue 22).
        from opgraph.kernel_core.tensor.shape import shape_i

        out = node.outputs[0]
        return [tuple(s if s is not None else shape_i(out, i) for i, s in enumerate(out.type.shape))]

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.math import zeros_like

        x, *idx = inputs
        (gz,) = output_grads
        return [AdvancedIncSubtensor(self.idx_list)(zeros_like(x), gz, *idx)] + [None] * len(idx)


def _adv_numpy_index(idx_list, values):
    entries = _adv_entries(idx_list, values)
    return tuple(slice(*[None if p is None else int(p) for p in (e.start, e.stop, e.step)])
                 if isinstance(e, slice) else e for e in entries)


class AdvancedIncSubtensor(_IncSubtensorBase):
    """``x`` with ``x[index]`` (advanced) set / incremented by ``y``; inc accumulates like np.add.at."""

    def __str__(self):
        name = "AdvancedSetSubtensor" if self.set_instead_of_inc else "AdvancedIncSubtensor"
        return name + ("{inplace}" if self.inplace else "")

    def make_node(self, x, y, *index_inputs):
        x = as_tensor_variable(x)
        y = _cast_value_to(y, x.type.dtype, str(self))
        _check_assignable(y, _adv_static_shape(x.type.shape, self.idx_list, list(index_inputs)), self)
        return Apply(self, [x, y, *index_inputs], [x.type.make_variable()])

    def perform(self, node, inputs, output_storage):
        x, y, *idx = inputs
        out = x if self.inplace else x.copy()
        index = _adv_numpy_index(self.idx_list, idx)
        if self.set_instead_of_inc:
            out[index] = y
        else:
            # np.add.at accumulates repeated indices; it wants masks as integer arrays.
            index = tuple(np.nonzero(e) if isinstance(e, np.ndarray) and e.dtype == bool else (e,)
                          for e in index)
            np.add.at(out, tuple(i for group in index for i in group), y)
        output_storage[0][0] = out



# -- the entry point ------------------------------------------------------------
def _normalize_index(x, index):
    """Tuple of entries with Ellipsis expanded and None turned into an ExpandDims of x."""
    if not isinstance(index, tuple):
        index = (index,)
    index = tuple(_unwrap_list_entry(e) for e in index)
    n_ellipsis = sum(1 for e in index if e is Ellipsis)
    if n_ellipsis > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(_consumed_dims(e) for e in index if e is not Ellipsis)
    if consumed > x.type.ndim:
        raise IndexError(f"too many indices for {x} ({x.type.short_str()}): {x.type.ndim}-d, "
                         f"but {consumed} were indexed")
    if n_ellipsis:
        pos = next(i for i, e in enumerate(index) if e is Ellipsis)
        index = index[:pos] + (slice(None),) * (x.type.ndim - consumed) + index[pos + 1:]
    if any(e is None for e in index):
        order, counter, new_index = [], 0, []
        for e in index:
            if e is None:
                order.append("x")
                new_index.append(slice(None))
            else:
                k = _consumed_dims(e)
                order.extend(range(counter, counter + k))
                counter += k
                new_index.append(e)
        order.extend(range(counter, x.type.ndim))
        x = DimShuffle(x.type.ndim, order)(x)
        index = tuple(new_index)
        if all(_is_full_slice(e) for e in index):
            return x, None
    return x, index


def _unwrap_list_entry(e):
    if isinstance(e, Variable) and getattr(e, "data", 0) is None:
        return None
    return e


def getitem(x, index):
    """``x[index]`` with NumPy semantics: basic -> Subtensor, arrays / masks -> advanced ops."""
    x = as_tensor_variable(x)
    x, index = _normalize_index(x, index)
    if index is None:
        return x
    if any(_is_advanced_entry(e) for e in index):
        return _advanced_getitem(x, index)
    idx_list, inputs = _basic_idx_list(index, x)
    return Subtensor(idx_list)(x, *inputs)


def _advanced_getitem(x, index):
    tensors = [(i, _as_index_tensor(e)) if _is_advanced_entry(e) else (i, e) for i, e in enumerate(index)]
    if (len(index) == 1 or all(_is_full_slice(e) for e in index[1:])) and _is_advanced_entry(index[0]):
        t = tensors[0][1]
        if t.type.ndim == 1 and t.type.dtype != "bool":
            return AdvancedSubtensor1()(x, t)
    idx_list, inputs, axis = [], [], 0
    for _, e in tensors:
        if isinstance(e, slice):
            sub_list, sub_inputs = _basic_idx_list([e], None)
            idx_list.extend(sub_list)
            inputs.extend(sub_inputs)
            axis += 1
        elif isinstance(e, Variable) and isinstance(e.type, TensorType) and (e.type.ndim > 0 or e.type.dtype == "bool"):
            if e.type.dtype == "bool":
                for d, s in enumerate(e.type.shape):
                    n = x.type.shape[axis + d]
                    if s is not None and n is not None and s != n:
                        raise IndexError(f"boolean index of shape {e.type.shape} does not match axis {axis + d} "
                                         f"of {x} with size {n}")
                axis += e.type.ndim
            else:
                _check_static_array_bounds(e, x.type.shape[axis], axis, x)
                axis += 1
            idx_list.append(e.type)
            inputs.append(e)
        else:
            # A plain int among arrays is an advanced (0-d) index in NumPy.
            sv = _as_index_scalar(e)
            v = _static_int(sv)
            if v is not None:
                _check_static_bound(v, x.type.shape[axis], axis, x)
            t = as_tensor_variable(np.int64(v)) if v is not None else _as_int64_tensor(sv)
            idx_list.append(t.type)
            inputs.append(t)
            axis += 1
    return AdvancedSubtensor(tuple(idx_list))(x, *inputs)


def _inc_or_set(x_indexed, y, set_instead_of_inc, inplace=False):
    what = "set_subtensor" if set_instead_of_inc else "inc_subtensor"
    if not isinstance(x_indexed, Variable) or x_indexed.owner is None:
        raise TypeError(f"{what} expects an indexed variable such as x[0] or x[1:], got {x_indexed}")
    node = x_indexed.owner
    op = node.op
    if isinstance(op, Subtensor):
        return IncSubtensor(op.idx_list, inplace, set_instead_of_inc)(node.inputs[0], y, *node.inputs[1:])
    if isinstance(op, AdvancedSubtensor1):
        return AdvancedIncSubtensor1(inplace, set_instead_of_inc)(node.inputs[0], y, node.inputs[1])
    if isinstance(op, AdvancedSubtensor):
        return AdvancedIncSubtensor(op.idx_list, inplace, set_instead_of_inc)(node.inputs[0], y, *node.inputs[1:])
    if isinstance(op, DimShuffle) and op.is_expand_dims:
        # x[None, ...]: set into the un-expanded input, dropping the new axes of y.
        inner = node.inputs[0]
        y = as_tensor_variable(y)
        keep = [d for d in range(x_indexed.type.ndim) if d not in op.augment]
        lead = y.type.ndim - x_indexed.type.ndim
        if lead < 0:
            y = DimShuffle(y.type.ndim, ["x"] * -lead + list(range(y.type.ndim)))(y)
            lead = 0
        drop_ok = all(y.type.shape[lead + a] == 1 for a in op.augment)
        if drop_ok:
            y = DimShuffle(y.type.ndim, list(range(lead)) + [lead + d for d in keep])(y)
            return _inc_or_set(inner, y, set_instead_of_inc, inplace) if inner.owner is not None else \
                _replace_whole(inner, y, set_instead_of_inc)
    raise TypeError(f"{what} expects the result of indexing (x[...]), got {x_indexed} computed by {op}")


def _replace_whole(x, y, set_instead_of_inc):
    from opgraph.kernel_core.tensor.math import add, second

    y = _cast_value_to(y, x.type.dtype, "set_subtensor")
    return second(x, y) if set_instead_of_inc else add(x, y)


def set_subtensor(x, y, inplace=False):
    """``x`` is an indexed variable (``a[idx]``): returns ``a`` with ``a[idx] = y``."""
    return _inc_or_set(x, y, True, inplace)


def inc_subtensor(x, y, inplace=False, set_instead_of_inc=False, ignore_duplicates=False):
    """``x`` is an indexed variable (``a[idx]``): returns ``a`` with ``a[idx] += y``.

    Repeated indices accumulate (``np.add.at``); ``ignore_duplicates=True`` gives NumPy's
    ``a[idx] += y`` instead (each position written once, the last repeat wins): that is
    ``a[idx] = a[idx] + y``, built as such.
    """
    if ignore_duplicates and not set_instead_of_inc:
        if isinstance(x, Variable) and x.owner is not None and isinstance(x.owner.op, AdvancedSubtensor1):
            return _inc_once_per_position(x, y, inplace)
        from opgraph.kernel_core.tensor.math import add

        return _inc_or_set(x, add(x, y), True, inplace)
    return _inc_or_set(x, y, set_instead_of_inc, inplace)


def _inc_once_per_position(x_indexed, y, inplace):
    """``a[idx] += y`` for a vector ``idx``: only the last repeat of each position adds.

    The last occurrences are the first ones of the reversed (normalised) indices;
    adding through them alone has no repeats, so the value and its gradient are
    NumPy's ``a[idx] += y`` (a set of ``a[idx] + y`` would send the gradient of
    the overwritten repeats too).
    """
    from opgraph.kernel_core.tensor import math as tm
    from opgraph.kernel_core.tensor.extra_ops import unique
    from opgraph.kernel_core.tensor.shape import shape_i

    base, idx = x_indexed.owner.inputs
    idx = tm.cast(idx, "int64")
    idx = tm.switch(tm.lt(idx, 0), tm.add(idx, shape_i(base, 0)), idx)
    rev_first = unique(idx[::-1], return_index=True)[1]
    keep = tm.sub(tm.sub(shape_i(idx, 0), 1), rev_first)
    y_full = tm.second(x_indexed, y)  # y broadcast to one row per index
    return _inc_or_set(base[idx[keep]], y_full[keep], False, inplace)


# The op each inc/set pullback reads ``gz[idx]`` with (defined after both classes exist).
IncSubtensor.read_op = Subtensor
AdvancedIncSubtensor.read_op = AdvancedSubtensor

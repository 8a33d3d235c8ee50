"""Building tensors from shapes: Alloc (zeros / ones / full / broadcast_to),
AllocEmpty (empty), ARange (arange), Eye (eye), and tri / tril / triu.

Shape entries are ints or 0-d integer tensors; they become int64 inputs of the
node, so a symbolic length stays symbolic.  ``zeros_like`` & co. live in math.py
(they are ``Second`` of a constant).
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Apply, Constant
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.tensor.basic import as_tensor_variable, constant
from opgraph.kernel_core.tensor.shape import _entries, _int64, shape_i, static_int
from opgraph.kernel_core.tensor.type import TensorType, _fmt_shape, resolve_dtype

__all__ = [
    "Alloc", "AllocEmpty", "ARange", "Eye",
    "alloc", "zeros", "ones", "full", "empty", "arange", "eye", "broadcast_to", "tri", "tril", "triu",
]


class Alloc(Op):
    """A new array of the given shape filled by broadcasting ``value`` into it."""

    __props__ = ()

    def make_node(self, value, *shape):
        value = as_tensor_variable(value)
        entries = [_int64(s) for s in shape]
        nd = len(entries)
        if value.type.ndim > nd:
            raise ValueError(f"alloc: value {value} has ndim={value.type.ndim}, more than the {nd} dimensions requested")
        offset = nd - value.type.ndim
        static = []
        for d, e in enumerate(entries):
            v = static_int(e)
            vs = value.type.shape[d - offset] if d >= offset else None
            if v is not None and v < 0:
                raise ValueError(f"alloc: negative length {v} at axis {d}")
            if v is not None and vs is not None and vs != 1 and vs != v:
                raise ValueError(f"alloc: value {value} with shape {_fmt_shape(value.type.shape, '?')} "
                                 f"cannot be broadcast to length {v} at axis {d}")
            static.append(v if v is not None else (vs if vs not in (None, 1) else None))
        out = TensorType(value.type.dtype, tuple(static)).make_variable()
        return Apply(self, [value, *entries], [out])

    def perform(self, node, inputs, output_storage):
        value, *shape = inputs
        shape = tuple(int(s) for s in shape)
        try:
            out = np.broadcast_to(value, shape)
        except ValueError:
            raise ValueError(f"Alloc: value of shape {np.shape(value)} cannot be broadcast to {shape}") from None
        output_storage[0][0] = np.array(out, dtype=node.outputs[0].type.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        static = node.outputs[0].type.shape
        return [tuple(s if s is not None else e for s, e in zip(static, node.inputs[1:]))]

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.math import cast
        from opgraph.kernel_core.tensor.reduction import sum as _sum

        value, *shape = inputs
        (g,) = output_grads
        g = as_tensor_variable(g)
        nones = [None] * len(shape)
        if value.type.dtype[0] in "biu":
            return [None] + nones
        offset = len(shape) - value.type.ndim
        # Sum over the leading axes alloc added, and over axes where value had length 1
        # (the static broadcast pattern, like PyTensor).
        if offset:
            g = _sum(g, axis=tuple(range(offset)))
        # Use g's static shape (not the output's): summing a runtime length-1 axis is
        # harmless and keeps the gradient's type equal to value's.
        bcast = tuple(d for d, s in enumerate(value.type.shape) if s == 1 and g.type.shape[d + offset] != 1)
        if bcast:
            g = _sum(g, axis=bcast, keepdims=True)
        g = _sum_runtime_broadcast(g, value)
        return [cast(g, value.type.dtype)] + nones


def _sum_runtime_broadcast(g, value):
    """``g`` (of the output's rank and shape) summed over the axes where ``value``,
    of unknown static length there, had length 1 at run time and was broadcast.

    NumPy's (and PyTensor's) broadcast_to allows that, so the pullback cannot
    know the axes statically: each such axis of length ``lo`` is reshaped to
    ``(lv, lo // max(lv, 1))`` with ``lv`` value's run-time length (``(1, lo)``
    when broadcast, ``(lo, 1)`` when not) and the second part summed away.
    """
    from opgraph.kernel_core.tensor import math as tm
    from opgraph.kernel_core.tensor.reduction import sum as _sum
    from opgraph.kernel_core.tensor.shape import reshape

    unknown = [d for d, s in enumerate(value.type.shape) if s is None and g.type.shape[d] != 1]
    if not unknown:
        return g
    shape, summed = [], []
    for d in range(g.type.ndim):
        lo = g.type.shape[d] if g.type.shape[d] is not None else shape_i(g, d)
        if d in unknown:
            lv = shape_i(value, d)
            shape += [lv, tm.int_div(lo, tm.maximum(lv, 1))]
            summed.append(len(shape) - 1)
        else:
            shape.append(lo)
    return _sum(reshape(g, shape), axis=tuple(summed))


_alloc = Alloc()


def alloc(value, *shape):
    """``value`` broadcast into a new array of shape ``shape``."""
    return _alloc(value, *shape)


def _shape_entries(shape, who):
    if isinstance(shape, (int, np.integer)) or (hasattr(shape, "type") and getattr(shape.type, "ndim", None) == 0):
        return [shape]
    return _entries(shape, who)


def full(shape, fill_value, dtype=None):
    """An array of shape ``shape`` filled with ``fill_value`` (default dtype: the value's)."""
    fill = as_tensor_variable(fill_value)
    if fill.type.ndim != 0:
        raise ValueError(f"full: fill_value must be a scalar, got {fill.type.short_str()}")
    if dtype is not None:
        dtype = np.dtype(dtype).name
        fill = constant(np.asarray(fill.data).astype(dtype)) if isinstance(fill, Constant) else _cast(fill, dtype)
    return alloc(fill, *_shape_entries(shape, "full"))


def _cast(x, dtype):
    from opgraph.kernel_core.tensor.math import cast

    return cast(x, dtype)


def zeros(shape, dtype=None):
    return alloc(constant(np.asarray(0, dtype=resolve_dtype(dtype))), *_shape_entries(shape, "zeros"))


def ones(shape, dtype=None):
    return alloc(constant(np.asarray(1, dtype=resolve_dtype(dtype))), *_shape_entries(shape, "ones"))


def broadcast_to(x, shape):
    """``x`` broadcast to ``shape`` (NumPy rules), as an ``Alloc``."""
    x = as_tensor_variable(x)
    return alloc(x, *_shape_entries(shape, "broadcast_to"))


class AllocEmpty(Op):
    """An uninitialised array of the given shape and dtype."""

    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype).name

    def make_node(self, *shape):
        entries = [_int64(s) for s in shape]
        static = tuple(static_int(e) for e in entries)
        return Apply(self, entries, [TensorType(self.dtype, static).make_variable()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.empty(tuple(int(s) for s in inputs), dtype=self.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        static = node.outputs[0].type.shape
        return [tuple(s if s is not None else e for s, e in zip(static, node.inputs))]

    def L_op(self, inputs, outputs, output_grads):
        return [None] * len(inputs)

    def do_constant_folding(self, fgraph, node):
        return False  # its content is garbage: never freeze it into a constant


def empty(shape, dtype=None):
    return AllocEmpty(resolve_dtype(dtype))(*_shape_entries(shape, "empty"))


class ARange(Op):
    """``np.arange(start, stop, step)`` with the three bounds as 0-d inputs."""

    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype).name

    def make_node(self, start, stop, step):
        ins = [as_tensor_variable(v) for v in (start, stop, step)]
        for name, v in zip(("start", "stop", "step"), ins):
            if v.type.ndim != 0:
                raise ValueError(f"arange: {name} must be a scalar, got {v} ({v.type.short_str()})")
        length = None
        if all(isinstance(v, Constant) for v in ins):
            a, b, s = (np.asarray(v.data)[()] for v in ins)
            if s == 0:
                raise ValueError("arange: step must not be 0")
            length = len(np.arange(a, b, s))
        return Apply(self, ins, [TensorType(self.dtype, (length,)).make_variable()])

    def perform(self, node, inputs, output_storage):
        start, stop, step = (np.asarray(v)[()] for v in inputs)
        if step == 0:
            raise ValueError("arange: step must not be 0")
        output_storage[0][0] = np.arange(start, stop, step, dtype=self.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        from opgraph.kernel_core.tensor import math as tm

        static = node.outputs[0].type.shape[0]
        if static is not None:
            return [(static,)]
        start, stop, step = [tm.cast(v, "float64") for v in node.inputs]
        n = tm.ceil(tm.true_div(tm.sub(stop, start), step))
        return [(tm.cast(tm.maximum(n, constant(0.0)), "int64"),)]

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.reduction import sum as _sum

        if self.dtype[0] in "biu":
            return [None, None, None]
        start, stop, step = inputs
        g = as_tensor_variable(output_grads[0])
        # out[i] = start + i * step: d/dstart = sum(g), d/dstep = sum(g * i); stop only sets the length.
        idx = arange(shape_i(outputs[0], 0), dtype=self.dtype)
        return [_cast(_sum(g), start.type.dtype) if start.type.dtype[0] in "fc" else None,
                None,
                _cast(_sum(g * idx), step.type.dtype) if step.type.dtype[0] in "fc" else None]


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values; default dtype is the upcast of the bounds' dtypes (PyTensor's rule)."""
    if stop is None:
        start, stop = 0, start
    ins = [as_tensor_variable(v) for v in (start, stop, step)]
    if dtype is None:
        dtype = np.result_type(*[np.dtype(v.type.dtype) for v in ins]).name
    return ARange(dtype)(*ins)


class Eye(Op):
    """An ``n`` x ``m`` matrix with ones on diagonal ``k``."""

    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype).name

    def make_node(self, n, m, k):
        ins = [_int64(v) for v in (n, m, k)]
        static = (static_int(ins[0]), static_int(ins[1]))
        return Apply(self, ins, [TensorType(self.dtype, static).make_variable()])

    def perform(self, node, inputs, output_storage):
        n, m, k = (int(v) for v in inputs)
        output_storage[0][0] = np.eye(n, m, k, dtype=self.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        static = node.outputs[0].type.shape
        return [tuple(s if s is not None else e for s, e in zip(static, node.inputs[:2]))]

    def L_op(self, inputs, outputs, output_grads):
        return [None, None, None]


def eye(n, m=None, k=0, dtype=None):
    return Eye(resolve_dtype(dtype))(n, n if m is None else m, k)


def tri(N, M=None, k=0, dtype=None):
    """Lower-triangular mask: ``out[i, j] = j <= i + k``."""
    from opgraph.kernel_core.tensor import math as tm
    from opgraph.kernel_core.tensor.elemwise import expand_dims

    M = N if M is None else M
    rows = arange(_int64(N), dtype="int64")
    cols = arange(_int64(M), dtype="int64")
    mask = tm.ge(tm.add(expand_dims(rows, 1), _int64(k)), expand_dims(cols, 0))
    return _cast(mask, resolve_dtype(dtype))


def _tri_mask(m, k):
    m = as_tensor_variable(m)
    if m.type.ndim < 2:
        raise ValueError(f"tril/triu: {m} needs at least 2 dimensions, has ndim={m.type.ndim}")
    n_rows = m.type.shape[-2] if m.type.shape[-2] is not None else shape_i(m, m.type.ndim - 2)
    n_cols = m.type.shape[-1] if m.type.shape[-1] is not None else shape_i(m, m.type.ndim - 1)
    return m, tri(n_rows, n_cols, k, dtype="bool")


def tril(m, k=0):
    """Lower triangle of (the last two axes of) ``m``; the rest set to 0."""
    from opgraph.kernel_core.tensor import math as tm

    m, mask = _tri_mask(m, k)
    return tm.switch(mask, m, tm.zeros_like(m))


def triu(m, k=0):
    """Upper triangle of (the last two axes of) ``m``; the rest set to 0."""
    from opgraph.kernel_core.tensor import math as tm

    m, mask = _tri_mask(m, k - 1)
    return tm.switch(mask, tm.zeros_like(m), m)

"""Shape ops: Shape, Shape_i, SpecifyShape, Reshape, and the functions built on them
(shape, shape_i, specify_shape, reshape, flatten, squeeze, transpose).

``x.shape`` is always a ``Shape`` node, even when the static shape is known
(like PyTensor); rewrites constant-fold it later.  Symbolic shape entries are
0-d int64 tensors.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Apply, Constant, Variable
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.tensor.basic import as_tensor_variable, constant
from opgraph.kernel_core.tensor.elemwise import DimShuffle
from opgraph.kernel_core.tensor.type import TensorType, _fmt_shape

__all__ = [
    "Shape", "Shape_i", "SpecifyShape", "ShapeAgreement", "Reshape",
    "shape", "shape_i", "specify_shape", "specify_broadcastable", "reshape", "flatten",
    "squeeze", "transpose", "shape_padleft", "shape_padright", "shape_padaxis",
]


def _int64(v):
    """A shape entry (Python int or 0-d integer tensor) as an int64 0-d tensor."""
    if isinstance(v, Variable):
        v = as_tensor_variable(v)
        if v.type.ndim != 0 or v.type.dtype[0] not in "iu":
            raise TypeError(f"shape entries must be integer scalars, got {v} ({v.type.short_str()})")
        if v.type.dtype != "int64":
            from opgraph.kernel_core.tensor.math import cast

            v = cast(v, "int64")
        return v
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"shape entries must be ints or integer scalars, got {v!r}")
    return constant(int(v), dtype="int64")


def static_int(v):
    """The Python int a shape entry is known to hold, or None."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, Variable):
        if isinstance(v, Constant):
            data = np.asarray(v.data)
            if data.ndim == 0 and data.dtype.kind in "iu":
                return int(data)
            return None
        owner = v.owner
        # Look through casts between integer dtypes.
        if owner is not None and type(getattr(owner.op, "scalar_op", None)).__name__ == "Cast":
            inner = owner.inputs[0]
            if inner.type.dtype[0] in "iu":
                return static_int(inner)
    return None


class Shape(Op):
    """The shape of a tensor as an int64 vector of static length ``ndim``."""

    __props__ = ()

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", (x.type.ndim,)).make_variable()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(np.shape(inputs[0]), dtype="int64")

    def infer_shape(self, fgraph, node, input_shapes):
        return [(node.inputs[0].type.ndim,)]

    def L_op(self, inputs, outputs, output_grads):
        return [None]  # a shape does not depend on the values


_shape = Shape()


class Shape_i(Op):
    """Length of dimension ``i`` as an int64 0-d tensor."""

    __props__ = ("i",)

    def __init__(self, i):
        self.i = int(i)

    def __str__(self):
        return f"Shape_i{{{self.i}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        if not 0 <= self.i < x.type.ndim:
            raise ValueError(f"Shape_i: axis {self.i} is out of bounds for {x} with ndim={x.type.ndim}")
        return Apply(self, [x], [TensorType("int64", ()).make_variable()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(np.shape(inputs[0])[self.i], dtype="int64")

    def infer_shape(self, fgraph, node, input_shapes):
        return [()]

    def L_op(self, inputs, outputs, output_grads):
        return [None]


def shape(x):
    """Symbolic shape of ``x`` (a ``Shape`` node; int64 vector of length x.ndim)."""
    return _shape(as_tensor_variable(x))


def shape_i(x, i):
    """Symbolic length of axis ``i`` (negative allowed) of ``x``: a ``Shape_i{i}`` node."""
    x = as_tensor_variable(x)
    nd = x.type.ndim
    if not -nd <= i < nd:
        raise ValueError(f"shape_i: axis {i} is out of bounds for {x} with ndim={nd}")
    return Shape_i(i % nd)(x)


class SpecifyShape(Op):
    """Assert (at run time) the lengths of the axes in ``dims``; refines the static shape.

    Inputs: ``x`` then one int64 0-d tensor per axis of ``dims``.
    """

    __props__ = ("dims",)
    view_map = {0: [0]}

    def __init__(self, dims):
        self.dims = tuple(int(d) for d in dims)

    def __str__(self):
        return "SpecifyShape"

    def make_node(self, x, *entries):
        x = as_tensor_variable(x)
        if len(entries) != len(self.dims):
            raise TypeError(f"SpecifyShape: expected {len(self.dims)} shape entries, got {len(entries)}")
        for d in self.dims:
            if not 0 <= d < x.type.ndim:
                raise ValueError(f"SpecifyShape: axis {d} is out of bounds for {x} with ndim={x.type.ndim}")
        entries = [_int64(e) for e in entries]
        static = list(x.type.shape)
        for d, e in zip(self.dims, entries):
            v = static_int(e)
            if v is None:
                continue
            if static[d] is not None and static[d] != v:
                raise ValueError(
                    f"specify_shape: {x} has static shape {_fmt_shape(x.type.shape, '?')}, "
                    f"which cannot have length {v} at axis {d}")
            static[d] = v
        out = TensorType(x.type.dtype, tuple(static)).make_variable()
        return Apply(self, [x, *entries], [out])

    def perform(self, node, inputs, output_storage):
        x, *entries = inputs
        for d, e in zip(self.dims, entries):
            if x.shape[d] != int(e):
                raise ValueError(
                    f"SpecifyShape: axis {d} has length {x.shape[d]}, expected {int(e)} (input shape {x.shape})")
        output_storage[0][0] = x

    def infer_shape(self, fgraph, node, input_shapes):
        out = list(input_shapes[0])
        for d, e in zip(self.dims, node.inputs[1:]):
            v = static_int(e)
            out[d] = v if v is not None else e
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0]] + [None] * len(self.dims)


class ShapeAgreement(SpecifyShape):
    """``x``, after checking at run time that it has the lengths of the variables an
    Elemwise combined it with (``sources`` names them, one per axis in ``dims``).

    A rewrite that removes such an Elemwise because its value is not needed
    (``Second(x * y, 1) * y -> y``) would also remove the only comparison of the
    inputs' shapes; this node keeps it, with the Elemwise's explanation, so the
    simplified graph (a gradient, typically) rejects the inputs its forward rejects.
    """

    __props__ = ("dims", "sources")

    def __init__(self, dims, sources=None):
        super().__init__(dims)
        self.sources = tuple(str(s) for s in sources) if sources is not None else ("?",) * len(self.dims)
        if len(self.sources) != len(self.dims):
            raise ValueError(f"ShapeAgreement: {len(self.dims)} axes but {len(self.sources)} sources")

    def __str__(self):
        return "ShapeAgreement"

    def mismatch_message(self, d, source, length=None, expected=None):
        if length is None:
            found = f"another length along axis {d} than the others"
        else:
            found = f"run-time length {length} along axis {d} where the others have {expected}"
        return (f"Elemwise: {source} has {found}; run-time broadcasting of a dim not declared broadcastable is not supported: give it shape 1 "
                "in its type (specify_broadcastable) or broadcast it explicitly")

    def perform(self, node, inputs, output_storage):
        x, *entries = inputs
        for d, e, source in zip(self.dims, entries, self.sources):
            if x.shape[d] != int(e):
                raise ValueError(self.mismatch_message(d, source, int(e), x.shape[d]))
        output_storage[0][0] = x


def _entries(shape_spec, who):
    """A shape given as tuple/list/int/vector variable -> list of entries (ints or 0-d tensors)."""
    if isinstance(shape_spec, Variable):
        v = as_tensor_variable(shape_spec)
        if v.type.ndim == 0:
            return [v]
        if v.type.ndim != 1:
            raise ValueError(f"{who}: a shape must be a vector, got {v} ({v.type.short_str()})")
        n = v.type.shape[0]
        if n is None:
            raise ValueError(f"{who}: shape vector {v} has unknown length; its length must be static")
        if isinstance(v, Constant):
            return [int(e) for e in np.asarray(v.data)]
        if v.owner is not None and type(v.owner.op).__name__ == "MakeVector":
            return list(v.owner.inputs)
        from opgraph.kernel_core.tensor.subtensor import getitem

        return [getitem(v, i) for i in range(n)]
    if isinstance(shape_spec, (int, np.integer)):
        return [int(shape_spec)]
    if isinstance(shape_spec, np.ndarray):
        return [int(e) for e in shape_spec.ravel()]
    try:
        return list(shape_spec)
    except TypeError:
        raise TypeError(f"{who}: shape must be a tuple, list, int or vector, got {shape_spec!r}") from None


def specify_shape(x, shape):
    """``x`` with its axis lengths asserted; ``None`` entries stay unspecified."""
    x = as_tensor_variable(x)
    entries = _entries(shape, "specify_shape")
    if len(entries) != x.type.ndim:
        raise ValueError(f"specify_shape: shape {tuple(entries)} has {len(entries)} entries but {x} has ndim={x.type.ndim}")
    dims, vals = [], []
    for d, e in enumerate(entries):
        if e is None:
            continue
        if not isinstance(e, Variable) and x.type.shape[d] is not None and x.type.shape[d] == e:
            continue  # already known statically: nothing to assert
        dims.append(d)
        vals.append(e)
    if not dims:
        return x
    return SpecifyShape(dims)(x, *vals)


def specify_broadcastable(x, *axes):
    """Assert that the given axes of ``x`` have length 1."""
    x = as_tensor_variable(x)
    axes = [a % x.type.ndim if x.type.ndim else a for a in axes]
    return specify_shape(x, [1 if d in axes else None for d in range(x.type.ndim)])


class Reshape(Op):
    """Reshape to ``ndim`` dimensions given an int64 shape vector (``-1`` allowed once)."""

    __props__ = ("ndim",)
    view_map = {0: [0]}

    def __init__(self, ndim):
        self.ndim = int(ndim)

    def __str__(self):
        return f"Reshape{{{self.ndim}}}"

    def make_node(self, x, shp):
        x = as_tensor_variable(x)
        shp = as_tensor_variable(shp)
        if shp.type.ndim != 1 or shp.type.dtype[0] not in "iu":
            raise TypeError(f"Reshape: the shape must be an integer vector, got {shp} ({shp.type.short_str()})")
        if shp.type.shape[0] is not None and shp.type.shape[0] != self.ndim:
            raise ValueError(f"Reshape{{{self.ndim}}}: shape {shp} has {shp.type.shape[0]} entries")
        if shp.type.dtype != "int64":
            from opgraph.kernel_core.tensor.math import cast

            shp = cast(shp, "int64")
        static = self._static_out(x, shp)
        return Apply(self, [x, shp], [TensorType(x.type.dtype, static).make_variable()])

    def _static_out(self, x, shp):
        if isinstance(shp, Constant):
            vals = [int(v) for v in np.asarray(shp.data)]
        elif shp.owner is not None and type(shp.owner.op).__name__ == "MakeVector":
            vals = [static_int(e) for e in shp.owner.inputs]
        else:
            return (None,) * self.ndim
        if len([v for v in vals if v == -1]) > 1:
            raise ValueError(f"reshape: at most one -1 is allowed in the shape, got {vals}")
        for v in vals:
            if v is not None and v < -1:
                raise ValueError(f"reshape: negative length {v} in shape {vals}")
        size = None if None in x.type.shape else int(np.prod(x.type.shape, dtype=np.int64))
        known = [v for v in vals if v is not None and v != -1]
        if -1 in vals and 0 in known:
            # As NumPy: the -1 length is undetermined next to a 0 length, whatever x's size.
            raise ValueError(f"cannot reshape {x} into shape {tuple('?' if v is None else v for v in vals)}: "
                             "a -1 length is undetermined when another length is 0")
        if -1 in vals:
            if size is not None and None not in vals:
                rest = int(np.prod(known, dtype=np.int64))
                if rest == 0 or size % rest:
                    raise ValueError(f"cannot reshape {x} of static shape {_fmt_shape(x.type.shape, '?')} into shape {tuple(vals)}")
                vals = [size // rest if v == -1 else v for v in vals]
            else:
                vals = [None if v == -1 else v for v in vals]
        elif size is not None and None not in vals and int(np.prod(vals, dtype=np.int64)) != size:
            raise ValueError(f"cannot reshape {x} of static shape {_fmt_shape(x.type.shape, '?')} into shape {tuple(vals)}")
        return tuple(vals)

    def perform(self, node, inputs, output_storage):
        x, shp = inputs
        output_storage[0][0] = np.reshape(x, tuple(int(s) for s in shp))

    def infer_shape(self, fgraph, node, input_shapes):
        from opgraph.kernel_core.tensor import math as tm

        x, shp = node.inputs
        static = node.outputs[0].type.shape
        entries = _entries(shp, "reshape")
        known = [static_int(e) for e in entries]
        out = []
        for i, s in enumerate(static):
            if s is not None:
                out.append(s)
            elif known[i] == -1:
                # -1: the input size divided by the product of the other entries.
                size = _int64(1)
                for d in input_shapes[0]:
                    size = tm.mul(size, _int64(d))
                rest = _int64(1)
                for j, e in enumerate(entries):
                    if j != i:
                        rest = tm.mul(rest, _int64(e))
                out.append(tm.int_div(size, rest))
            else:
                # Symbolic entries are taken as given (assumed not to be -1).
                out.append(_int64(entries[i]))
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        x, _ = inputs
        # Static lengths where known, so the gradient keeps x's static type.
        entries = [s if s is not None else shape_i(x, d) for d, s in enumerate(x.type.shape)]
        return [reshape(as_tensor_variable(output_grads[0]), entries), None]


def reshape(x, newshape, ndim=None):
    """``x`` reshaped; ``newshape`` holds ints, 0-d integer tensors and at most one -1."""
    x = as_tensor_variable(x)
    if isinstance(newshape, Variable):
        shp = as_tensor_variable(newshape)
        if shp.type.ndim == 0:
            shp = _make_vector([_int64(shp)])
        elif shp.type.ndim != 1:
            raise ValueError(f"reshape: the new shape must be a vector, got {shp.type.short_str()}")
        n = shp.type.shape[0]
        if ndim is None:
            if n is None:
                raise ValueError(f"reshape: the length of shape {shp} is not static; pass ndim=")
            ndim = n
    else:
        entries = _entries(newshape, "reshape")
        if ndim is not None and ndim != len(entries):
            raise ValueError(f"reshape: ndim={ndim} but the shape has {len(entries)} entries")
        ndim = len(entries)
        if all(not isinstance(e, Variable) for e in entries):
            for e in entries:
                if isinstance(e, (bool, np.bool_)) or not isinstance(e, (int, np.integer)):
                    raise TypeError(f"reshape: shape entries must be ints or integer scalars, got {e!r}")
            shp = constant(np.asarray(entries, dtype="int64").reshape(len(entries)))
        else:
            shp = _make_vector([_int64(e) for e in entries])
    return Reshape(ndim)(x, shp)


def _make_vector(entries):
    from opgraph.kernel_core.tensor.join import make_vector

    return make_vector(*entries)


def _dim(x, i):
    """Static length of axis i when known, else a Shape_i node."""
    s = x.type.shape[i]
    return s if s is not None else shape_i(x, i)


def flatten(x, ndim=1):
    """Collapse the trailing axes so the result has ``ndim`` dimensions."""
    x = as_tensor_variable(x)
    if not 1 <= ndim <= builtins_max(x.type.ndim, 1):
        raise ValueError(f"flatten: ndim={ndim} must be between 1 and {builtins_max(x.type.ndim, 1)} for {x}")
    if ndim == x.type.ndim:
        return x
    # The last length is the product of the collapsed axes (not -1, which NumPy
    # rejects for arrays with a zero-length axis).
    tail = [_dim(x, i) for i in range(ndim - 1, x.type.ndim)]
    if all(isinstance(t, int) for t in tail):
        last = int(np.prod(tail, dtype=np.int64))
    else:
        from opgraph.kernel_core.tensor.math import mul

        last = _int64(tail[0])
        for t in tail[1:]:
            last = mul(last, _int64(t))
    return reshape(x, [_dim(x, i) for i in range(ndim - 1)] + [last])


def builtins_max(a, b):
    return a if a >= b else b


def squeeze(x, axis=None):
    """Drop length-1 axes.

    ``axis=None`` drops the axes *statically* known to have length 1.  An explicit
    axis of unknown length is first asserted to be 1 with ``SpecifyShape`` (checked
    at run time); an axis statically known not to be 1 is an error.
    """
    from opgraph.kernel_core.tensor.reduction import normalize_axis

    x = as_tensor_variable(x)
    if axis is None:
        axes = tuple(d for d, s in enumerate(x.type.shape) if s == 1)
    else:
        axes = normalize_axis(axis, x.type.ndim, "squeeze")
    if not axes:
        return x
    for d in axes:
        if x.type.shape[d] is not None and x.type.shape[d] != 1:
            raise ValueError(f"squeeze: axis {d} of {x} has length {x.type.shape[d]}, not 1")
    unknown = [d for d in axes if x.type.shape[d] is None]
    if unknown:
        x = specify_broadcastable(x, *unknown)
    return DimShuffle(x.type.ndim, [d for d in range(x.type.ndim) if d not in axes])(x)


def transpose(x, axes=None):
    """Permute the axes of ``x`` (default: reverse them), as a DimShuffle."""
    x = as_tensor_variable(x)
    nd = x.type.ndim
    if axes is None:
        perm = list(range(nd - 1, -1, -1))
    else:
        perm = []
        for a in axes:
            if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
                raise TypeError(f"transpose: axes must be ints, got {a!r}")
            if not -nd <= a < nd:
                raise ValueError(f"transpose: axis {a} is out of bounds for {x} with ndim={nd}")
            perm.append(int(a) % nd)
        if sorted(perm) != list(range(nd)):
            raise ValueError(f"transpose: axes {tuple(axes)} are not a permutation of the {nd} axes of {x}")
    if perm == list(range(nd)):
        return x
    out = DimShuffle(nd, perm)(x)
    if x.name and axes is None:
        out.name = f"{x.name}.T"
    return out


def shape_padleft(x, n_ones=1):
    x = as_tensor_variable(x)
    return DimShuffle(x.type.ndim, ["x"] * n_ones + list(range(x.type.ndim)))(x)


def shape_padright(x, n_ones=1):
    x = as_tensor_variable(x)
    return DimShuffle(x.type.ndim, list(range(x.type.ndim)) + ["x"] * n_ones)(x)


def shape_padaxis(x, axis):
    from opgraph.kernel_core.tensor.elemwise import expand_dims

    return expand_dims(x, axis)

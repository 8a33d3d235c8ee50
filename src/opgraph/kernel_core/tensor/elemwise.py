"""Elemwise (a scalar op broadcast over tensors) and DimShuffle (axis surgery)."""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Apply, Tag
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.scalar.basic import ScalarOp
from opgraph.kernel_core.scalar.type import ScalarType, get_scalar_type
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.type import TensorType, broadcast_static_shapes


class frozendict(dict):
    """A hashable, read-only dict (Elemwise's inplace_pattern)."""

    def __hash__(self):
        return hash(tuple(sorted(self.items())))

    def __repr__(self):
        return f"<frozendict {dict.__repr__(self)}>"

    def _readonly(self, *args, **kwargs):
        raise TypeError("frozendict is read-only")

    __setitem__ = __delitem__ = update = pop = popitem = setdefault = clear = _readonly

    def __reduce__(self):
        # pickle would rebuild a dict subclass item by item through __setitem__.
        return (frozendict, (dict(self),))


# A module-level name, not an import inside a helper: make_node converts every input.
_as_tensor = as_tensor_variable
# The types as_tensor_variable turns into a fresh constant by itself (tensor.basic.constant).
_PYTHON_NUMBERS = (float, int, bool)


class DimShuffle(Op):
    """Reorder, add ('x') or drop (length-1) axes.  Output is a view of the input."""

    __props__ = ("input_ndim", "new_order")
    view_map = {0: [0]}
    # Rearranging integers is exact: the gradient of an integer input (as a real
    # number) passes through (kernel_core/gradient.py).
    integer_gradient_passes = True

    def __init__(self, input_ndim, new_order):
        new_order = tuple(new_order)
        kept = [d for d in new_order if d != "x"]
        for d in kept:
            if not isinstance(d, (int, np.integer)) or not 0 <= d < input_ndim:
                raise ValueError(f"DimShuffle: {d!r} is not an axis of a {input_ndim}-d input")
        if len(set(kept)) != len(kept):
            raise ValueError(f"DimShuffle: repeated axis in {new_order}")
        self.input_ndim = int(input_ndim)
        self.new_order = tuple(d if d == "x" else int(d) for d in new_order)
        self.drop = tuple(d for d in range(input_ndim) if d not in kept)
        self.augment = tuple(i for i, d in enumerate(self.new_order) if d == "x")
        self.shuffle = tuple(kept)

    @property
    def is_expand_dims(self):
        return not self.drop and self.shuffle == tuple(range(self.input_ndim)) and bool(self.augment)

    @property
    def is_squeeze(self):
        return bool(self.drop) and not self.augment and list(self.shuffle) == sorted(self.shuffle)

    @property
    def is_transpose(self):
        return not self.drop and not self.augment and self.shuffle != tuple(range(self.input_ndim))

    @property
    def is_left_expand_dims(self):
        return self.is_expand_dims and self.augment == tuple(range(len(self.augment)))

    def __str__(self):
        def axes(values):
            values = list(values)
            return f"{{axis={values[0]}}}" if len(values) == 1 else f"{{axes={values}}}"

        if self.is_expand_dims:
            return "ExpandDims" + axes(self.augment)
        if self.is_squeeze:
            return "Squeeze" + axes(self.drop)
        if self.is_transpose:
            return f"Transpose{{axes={list(self.shuffle)}}}"
        if not self.drop and not self.augment:
            return "Identity"
        order = [d for d in self.new_order]
        return f"DimShuffle{{order={order}}}".replace("'", "")

    def make_node(self, x):
        x = _as_tensor(x)
        if x.type.ndim != self.input_ndim:
            raise TypeError(f"{self} expects a {self.input_ndim}-d input, got {x.type.short_str()}")
        for d in self.drop:
            if x.type.shape[d] != 1:
                raise ValueError(
                    f"Cannot drop axis {d} of {x} ({x.type.short_str()}): it is not known to have length 1")
        shape = tuple(1 if d == "x" else x.type.shape[d] for d in self.new_order)
        return Apply(self, [x], [TensorType(x.type.dtype, shape).make_variable()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        res = np.transpose(x, self.shuffle + self.drop)
        shape = [1 if d == "x" else x.shape[d] for d in self.new_order]
        output_storage[0][0] = res.reshape(shape)

    def infer_shape(self, fgraph, node, input_shapes):
        (ishape,) = input_shapes
        return [tuple(1 if d == "x" else ishape[d] for d in self.new_order)]

    def L_op(self, inputs, outputs, output_grads):
        (gz,) = output_grads
        (x,) = inputs
        gz = _as_tensor(gz)
        # Remove the axes we added (length 1), then undo the permutation and
        # put back the dropped length-1 axes.
        kept_positions = [i for i, d in enumerate(self.new_order) if d != "x"]
        if len(kept_positions) != gz.type.ndim:
            g = gz.dimshuffle(kept_positions)
        else:
            g = gz
        order = [self.shuffle.index(j) if j in self.shuffle else "x" for j in range(self.input_ndim)]
        if order != list(range(g.type.ndim)):
            g = g.dimshuffle(order)
        if g.type.dtype != x.type.dtype and x.type.dtype.startswith("float"):
            from opgraph.kernel_core.tensor.math import cast

            g = cast(g, x.type.dtype)
        return [g]


def dimshuffle(x, *order):
    x = _as_tensor(x)
    if len(order) == 1 and isinstance(order[0], (list, tuple)):
        order = tuple(order[0])
    return DimShuffle(x.type.ndim, order)(x)


def expand_dims(x, axis):
    """Insert length-1 axes at the positions ``axis`` (int or tuple) of the result."""
    x = _as_tensor(x)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out_ndim = x.type.ndim + len(axes)
    axes = sorted(a + out_ndim if a < 0 else a for a in axes)
    if any(a < 0 or a >= out_ndim for a in axes) or len(set(axes)) != len(axes):
        raise ValueError(f"expand_dims: invalid axis {axis} for a {x.type.ndim}-d input")
    order, src = [], iter(range(x.type.ndim))
    for i in range(out_ndim):
        order.append("x" if i in axes else next(src))
    return DimShuffle(x.type.ndim, order)(x)


def runtime_broadcast_problem(static_one, shapes):
    """The first axis where ``shapes`` (one per input) break the static broadcast rule of
    ``check_no_runtime_broadcast``, as ``(axis, i, first, length_i, length_first)``, or
    None.  ``static_one[i][d]``: input ``i``'s type declares length 1 along ``d`` (those
    dims are skipped).  Shared by PYTHON mode and the compiled kernels' error formatting,
    so both name the same input and axis."""
    ndim = len(static_one[0]) if static_one else 0
    for d in range(ndim):
        length = first = None
        for i, shape in enumerate(shapes):
            if static_one[i][d]:
                continue
            n = shape[d]
            if length is None:
                length, first = n, i
            elif n != length:
                return d, i, first, n, length
    return None


def runtime_broadcast_message(d, i, first, n, length, op="Elemwise", describe=None, shapes=None):
    """The message of a broadcast failure found by ``runtime_broadcast_problem``.
    ``describe(j)``: extra words naming input ``j`` (PYTHON mode gives its name and type)."""
    if 1 in (n, length):
        j = i if n == 1 else first
        named = f"input {j}" + (f" ({describe(j)})" if describe else "")
        return (f"{op}: {named} has run-time length 1 along axis {d} where the others have {max(n, length)}; "
                "run-time broadcasting of a dim not declared broadcastable is not supported: give it shape 1 in "
                "its type (e.g. pt.tensor(shape=(1, None)), specify_broadcastable) or broadcast it explicitly")
    listed = f"input shapes {list(shapes)} " if shapes is not None else "input shapes "
    return f"{op}: {listed}do not broadcast along axis {d} (inputs {first} and {i})"


def check_no_runtime_broadcast(node, values):
    """Raise ValueError when a dim not statically 1 has length 1 where the output's is longer.

    Design decision (issue 21, as PyTensor >= 2.19): an Elemwise broadcasts an
    input only along the dims its *type* says have length 1.  The alternative,
    broadcasting whatever has length 1 at run time, makes every pullback sum
    over axes that are unknown when the gradient graph is built (an extra
    reduction in every fused gradient chain), and the shape rewrites
    (``shape_of_elemwise``) already rely on the static pattern.  A run-time
    broadcast that would give a wrong gradient is an error instead.
    """
    ndim = node.outputs[0].type.ndim
    static_one = [[var.type.shape[d] == 1 for d in range(ndim)] for var in node.inputs]
    shapes = [np.shape(x) for x in values]
    problem = runtime_broadcast_problem(static_one, shapes)
    if problem is not None:
        raise ValueError(runtime_broadcast_message(
            *problem, op=node.op, shapes=shapes,
            describe=lambda j: f"{node.inputs[j]}, {node.inputs[j].type.short_str()}"))


class Elemwise(Op):
    """Apply ``scalar_op`` element by element, broadcasting like NumPy.

    Only dims whose static type length is 1 broadcast (see
    ``check_no_runtime_broadcast``): an input of type ``(None,)`` that arrives
    with length 1 next to a longer one raises ValueError, in PYTHON and NUMBA
    mode alike, so a gradient can never keep a broadcast shape.
    """

    __props__ = ("scalar_op", "inplace_pattern")

    def __init__(self, scalar_op, inplace_pattern=None, name=None):
        if not isinstance(scalar_op, ScalarOp):
            raise TypeError(f"Elemwise needs a ScalarOp, got {scalar_op!r}")
        self.scalar_op = scalar_op
        self.inplace_pattern = frozendict(inplace_pattern or {})
        self.destroy_map = {o: [i] for o, i in self.inplace_pattern.items()}
        self.name = name

    def __str__(self):
        return self.name or self.scalar_op.elemwise_name()

    def __repr__(self):
        return f"Elemwise(scalar_op={self.scalar_op},inplace_pattern={self.inplace_pattern!r})"

    @property
    def nout(self):
        return self.scalar_op.nout

    def outer(self, x, y):
        """NumPy's ``ufunc.outer``: ``out[i..., j...] = op(x[i...], y[j...])`` (``pt.add.outer(x, y)``),
        x's axes first, then y's, through ExpandDims and broadcasting."""
        if not (self.scalar_op.variadic or self.scalar_op.nin == 2):
            raise TypeError(f"{self}.outer needs a binary op; {self} takes {self.scalar_op.nin} input(s)")
        x, y = _as_tensor(x), _as_tensor(y)
        xe = DimShuffle(x.type.ndim, list(range(x.type.ndim)) + ["x"] * y.type.ndim)(x) if y.type.ndim else x
        ye = DimShuffle(y.type.ndim, ["x"] * x.type.ndim + list(range(y.type.ndim)))(y) if x.type.ndim else y
        return self(xe, ye)

    def inner_graphs(self):
        # Elemwise(Composite) shows the Composite's scalar graph in dprint.
        return self.scalar_op.inner_graphs()

    def make_node(self, *inputs):
        args = inputs
        inputs = [_as_tensor(i) for i in inputs]
        scalar_op = self.scalar_op
        nin = scalar_op.nin
        if not scalar_op.variadic and len(inputs) != nin:
            raise TypeError(f"{self} takes {nin} input{'s' if nin != 1 else ''}, got {len(inputs)}")
        shapes = [i.type.shape for i in inputs]
        ndim = max(map(len, shapes), default=0)
        # Align ranks by inserting leading length-1 axes (ExpandDims), like NumPy.
        if any(len(s) != ndim for s in shapes):
            inputs = [
                i if i.type.ndim == ndim else DimShuffle(i.type.ndim, ["x"] * (ndim - i.type.ndim) + list(range(i.type.ndim)))(i)
                for i in inputs
            ]
            shapes = [i.type.shape for i in inputs]
        shape = broadcast_static_shapes(shapes, names=inputs)
        try:
            dtypes = scalar_op.output_dtypes(*[i.type.dtype for i in inputs])
        except TypeError as exc:
            raise TypeError(f"{self}: {exc}") from None
        for o, i in self.inplace_pattern.items():
            if inputs[i].type.shape != shape or inputs[i].type.dtype != dtypes[o]:
                raise ValueError(f"{self}: input {i} cannot hold output {o} in place")
        for arg, var in zip(args, inputs):
            if type(arg) in _PYTHON_NUMBERS:
                # That number became a constant (and maybe its ExpandDims) just now,
                # through opgraph's frames only: the stack walk for its source line
                # found the user frame the outputs' walk would find.
                trace = var.tag.get("trace")
                outputs = [TensorType(d, shape).make_variable_with_tag(Tag() if trace is None else Tag(trace=trace))
                           for d in dtypes]
                break
        else:
            outputs = [TensorType(d, shape).make_variable() for d in dtypes]
        return Apply(self, inputs, outputs)

    def perform(self, node, inputs, output_storage):
        if len(inputs) > 1:
            check_no_runtime_broadcast(node, inputs)
        with np.errstate(all="ignore"):
            results = self.scalar_op.impl(*inputs)
        if self.scalar_op.nout == 1:
            results = (results,)
        out_shape = None
        for o, (storage, value, out) in enumerate(zip(output_storage, results, node.outputs)):
            value = np.asarray(value)
            dtype = out.type.numpy_dtype
            if value.dtype != dtype:
                value = value.astype(dtype)
            if o in self.inplace_pattern:
                target = inputs[self.inplace_pattern[o]]
                if target.shape == value.shape:
                    target[...] = value
                    value = target
            elif len(inputs) > 1 or value.shape != np.shape(inputs[0]):
                # Ops like Second may return a broadcast view: materialise the full shape.
                if out_shape is None:
                    out_shape = np.broadcast_shapes(*[np.shape(i) for i in inputs])
                if value.shape != out_shape:
                    value = np.broadcast_to(value, out_shape).copy()
            storage[0] = value

    def infer_shape(self, fgraph, node, input_shapes):
        out_shape = []
        for d, static in enumerate(node.outputs[0].type.shape):
            if static is not None:
                out_shape.append(static)
                continue
            candidates = [s[d] for s, i in zip(input_shapes, node.inputs) if i.type.shape[d] != 1]
            if len(candidates) == 1 or candidates:
                out_shape.append(candidates[0])
            else:
                out_shape.append(1)
        return [tuple(out_shape)] * len(node.outputs)

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor import math as tm

        from opgraph.kernel_core.gradient import NullType

        grads = self.scalar_op.pullback(list(inputs), list(outputs), list(output_grads))
        result = []
        out_shape = outputs[0].type.shape
        for inp, g in zip(inputs, grads):
            if g is None or isinstance(g.type, NullType):   # None, or a grad_not_implemented marker
                result.append(g)
                continue
            g = _as_tensor(g)
            # Sum the gradient over the axes this input was broadcast along.
            axes = tuple(d for d, (s, o) in enumerate(zip(inp.type.shape, g.type.shape))
                         if s == 1 and o != 1)
            if axes:
                from opgraph.kernel_core.tensor.reduction import sum as _sum

                g = _sum(g, axis=axes, keepdims=True)
            if g.type.dtype != inp.type.dtype and inp.type.dtype.startswith(("float", "complex")):
                g = tm.cast(g, inp.type.dtype)
            result.append(g)
        del out_shape
        return result


class TensorFromScalar(Op):
    """A 0-d tensor holding a scalar variable's value."""

    def make_node(self, s):
        if not isinstance(s.type, ScalarType):
            raise TypeError(f"TensorFromScalar expects a scalar, got {s.type}")
        return Apply(self, [s], [TensorType(s.type.dtype, ()).make_variable()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs[0], dtype=node.outputs[0].type.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [()]

    def L_op(self, inputs, outputs, output_grads):
        return [scalar_from_tensor(output_grads[0])]


class ScalarFromTensor(Op):
    """The scalar value of a 0-d tensor."""

    def make_node(self, t):
        t = _as_tensor(t)
        if t.type.ndim != 0:
            raise TypeError(f"ScalarFromTensor expects a 0-d tensor, got {t.type.short_str()}")
        return Apply(self, [t], [get_scalar_type(t.type.dtype).make_variable()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs[0]).astype(node.outputs[0].type.dtype)[()]

    def infer_shape(self, fgraph, node, input_shapes):
        return [()]

    def L_op(self, inputs, outputs, output_grads):
        return [tensor_from_scalar(output_grads[0])]


tensor_from_scalar = TensorFromScalar()
scalar_from_tensor = ScalarFromTensor()


# The public names: everything defined here (PyTensor's module re-exports them).
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and getattr(_v, "__module__", None) == __name__]

"""Reductions: Sum, Prod, Max, Min, All, Any (one CAReduce family), Argmax/Argmin,
and the functions built on them (mean, var, std, logsumexp).

A reduction op removes its axes; ``keepdims=True`` is an ``ExpandDims`` applied
after it (as PyTensor does), so rewrites only ever see one reduction form.
Axes are stored normalised: a sorted tuple of non-negative ints, or None for
"all axes".
"""

from __future__ import annotations

import builtins
import numbers

import numpy as np

from opgraph.kernel_core.config import config
from opgraph.kernel_core.graph.basic import Apply
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.type import TensorType

__all__ = [
    "CAReduce", "Sum", "Prod", "Max", "Min", "All", "Any", "Argmax", "Argmin",
    "sum", "prod", "max", "min", "all", "any", "argmax", "argmin", "max_and_argmax",
    "mean", "var", "std", "logsumexp", "normalize_axis",
]

_DISCRETE_KINDS = "biu"


def _math():
    from opgraph.kernel_core.tensor import math

    return math


def normalize_axis(axis, ndim, who="reduction"):
    """``axis`` (None, int or sequence, negatives allowed) as a sorted tuple or None.

    Raises a short error naming the bad axis and the input's ndim.
    """
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, (bool, np.bool_)):
        axes = [int(axis)]
    else:
        try:
            axes = [a for a in axis]
        except TypeError:
            raise TypeError(f"{who}: axis must be None, an int or a tuple of ints, got {axis!r}") from None
    out = []
    for a in axes:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"{who}: axis entries must be ints, got {a!r}")
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"{who}: axis {a} is out of bounds for an input with ndim={ndim}")
        out.append(a % ndim if ndim else a)
    if len(set(out)) != len(out):
        raise ValueError(f"{who}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def _axes_str(axis):
    if axis is None:
        return "{axes=None}"
    if len(axis) == 1:
        return f"{{axis={axis[0]}}}"
    return f"{{axes={list(axis)}}}"


def _reduced_axes(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


def _expand_reduced(g, axis, ndim):
    """Put back (as length-1) the axes a reduction removed: ``g`` gets ``ndim`` dims."""
    from opgraph.kernel_core.tensor.elemwise import expand_dims

    axes = _reduced_axes(axis, ndim)
    if not axes:
        return g
    return expand_dims(g, axes)


def _sum_dtype(dtype):
    """NumPy's accumulator for sums/products: small signed ints and bool widen to int64."""
    kind = np.dtype(dtype).kind
    if kind == "b" or (kind == "i" and np.dtype(dtype).itemsize < 8):
        return "int64"
    if kind == "u" and np.dtype(dtype).itemsize < 8:
        return "uint64"
    return np.dtype(dtype).name


class CAReduce(Op):
    """Reduce the axes ``axis`` (sorted tuple, or None for all) of one tensor."""

    __props__ = ("axis",)
    name = "CAReduce"

    def __init__(self, axis=None):
        self.axis = None if axis is None else tuple(int(a) for a in axis)

    def __str__(self):
        return type(self).__name__ + _axes_str(self.axis)

    def output_dtype(self, in_dtype):
        return in_dtype

    def _check_input(self, x):
        x = as_tensor_variable(x)
        if self.axis is not None:
            for a in self.axis:
                if not 0 <= a < x.type.ndim:
                    raise ValueError(f"{self}: axis {a} is out of bounds for {x} with ndim={x.type.ndim}")
        return x

    def _out_shape(self, shape):
        axes = _reduced_axes(self.axis, len(shape))
        return tuple(s for d, s in enumerate(shape) if d not in axes)

    def make_node(self, x):
        x = self._check_input(x)
        out = TensorType(self.output_dtype(x.type.dtype), self._out_shape(x.type.shape))
        return Apply(self, [x], [out.make_variable()])

    def infer_shape(self, fgraph, node, input_shapes):
        return [self._out_shape(tuple(input_shapes[0]))]

    def _np_axis(self):
        return self.axis

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        res = self.np_reduce(np.asarray(x), self._np_axis(), node.outputs[0].type.dtype)
        output_storage[0][0] = np.asarray(res, dtype=node.outputs[0].type.dtype)


class _Accumulating(CAReduce):
    """Sum / Prod: carry an output ``dtype`` (resolved at make_node, NumPy's rule)."""

    __props__ = ("axis", "dtype")

    def __init__(self, axis=None, dtype=None):
        super().__init__(axis)
        self.dtype = None if dtype is None else np.dtype(dtype).name

    def output_dtype(self, in_dtype):
        return self.dtype or _sum_dtype(in_dtype)

    def make_node(self, x):
        x = self._check_input(x)
        dtype = self.output_dtype(x.type.dtype)
        # Store the concrete dtype on the op so equal graphs have equal ops.
        op = self if self.dtype == dtype else type(self)(self.axis, dtype)
        out = TensorType(dtype, op._out_shape(x.type.shape))
        return Apply(op, [x], [out.make_variable()])


class Sum(_Accumulating):
    @staticmethod
    def np_reduce(x, axis, dtype):
        return np.sum(x, axis=axis, dtype=dtype)

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        (g,) = output_grads
        tm = _math()
        if x.type.dtype[0] in "bui":
            return [tm.zeros_like(x, dtype=config.floatX)]
        g = as_tensor_variable(g)
        g = _expand_reduced(g, self.axis, x.type.ndim)
        # Second broadcasts the (length-1 axes) gradient back to x's shape.
        return [tm.second(x, g)]


class Prod(_Accumulating):
    @staticmethod
    def np_reduce(x, axis, dtype):
        return np.prod(x, axis=axis, dtype=dtype)

    def L_op(self, inputs, outputs, output_grads):
        """d prod / d x_i = product of the other entries; exact with zeros in x.

        Where the reduced slice holds no zero this is prod / x_i; with one zero
        only that zero's position gets the product of the non-zero entries;
        with two or more zeros every derivative is 0.
        """
        (x,) = inputs
        (g,) = output_grads
        tm = _math()
        if x.type.dtype[0] in "bui":
            return [tm.zeros_like(x, dtype=config.floatX)]
        nd = x.type.ndim
        g = _expand_reduced(as_tensor_variable(g), self.axis, nd)
        is_zero = tm.eq(x, 0)
        n_zero = sum(is_zero, axis=self.axis, keepdims=True)
        prod_nonzero = prod(tm.switch(is_zero, tm.ones_like(x), x), axis=self.axis, keepdims=True)
        no_zero = prod_nonzero / x
        one_zero = tm.switch(is_zero, prod_nonzero, tm.zeros_like(x))
        d = tm.switch(tm.eq(n_zero, 0), no_zero, tm.switch(tm.eq(n_zero, 1), one_zero, tm.zeros_like(x)))
        return [tm.mul(g, d)]


class _Extremum(CAReduce):
    """Max / Min: the gradient goes to the positions equal to the extremum.

    Ties: the k positions tied for the extremum share the output gradient
    evenly (g / k each), so the input gradient of each reduced slice sums to g:
    a valid subgradient (the mean of the one-sided ones).  PyTensor gives each
    tied position the full g (k * g in total), which double-counts.
    """

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        (out,) = outputs
        (g,) = output_grads
        tm = _math()
        if x.type.dtype[0] in "bui":
            return [tm.zeros_like(x, dtype=config.floatX)]
        nd = x.type.ndim
        g = _expand_reduced(as_tensor_variable(g), self.axis, nd)
        hit = tm.cast(tm.eq(x, _expand_reduced(out, self.axis, nd)), x.type.dtype)
        # How many positions tie for each extremum (>= 1 unless it is NaN, where
        # no position equals it: 0 / 1 keeps that gradient 0).
        ties = _expand_reduced(Sum(self.axis)(hit), self.axis, nd)
        return [tm.mul(tm.true_div(hit, tm.maximum(ties, 1)), g)]

    def np_reduce(self, x, axis, dtype):
        if x.size == 0:
            raise ValueError(f"{type(self).__name__} of an empty array has no identity")
        return self.np_func(x, axis=axis)


class Max(_Extremum):
    np_func = staticmethod(np.max)


class Min(_Extremum):
    np_func = staticmethod(np.min)


class _Logical(CAReduce):
    def output_dtype(self, in_dtype):
        return "bool"

    def L_op(self, inputs, outputs, output_grads):
        return [None]


class All(_Logical):
    @staticmethod
    def np_reduce(x, axis, dtype):
        return np.all(x, axis=axis)


class Any(_Logical):
    @staticmethod
    def np_reduce(x, axis, dtype):
        return np.any(x, axis=axis)


class _ArgExtremum(Op):
    """Index (int64) of the first max / min along ``axis`` (None: of the flattened input)."""

    __props__ = ("axis",)

    def __init__(self, axis=None):
        self.axis = None if axis is None else int(axis)

    def __str__(self):
        return f"{type(self).__name__}{{axis={self.axis}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        if self.axis is not None and not 0 <= self.axis < x.type.ndim:
            raise ValueError(f"{self}: axis {self.axis} is out of bounds for {x} with ndim={x.type.ndim}")
        shape = () if self.axis is None else tuple(s for d, s in enumerate(x.type.shape) if d != self.axis)
        return Apply(self, [x], [TensorType("int64", shape).make_variable()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        if np.size(x) == 0:
            raise ValueError(f"{self} of an empty array")
        output_storage[0][0] = np.asarray(self.np_func(x, axis=self.axis), dtype="int64")

    def infer_shape(self, fgraph, node, input_shapes):
        if self.axis is None:
            return [()]
        return [tuple(s for d, s in enumerate(input_shapes[0]) if d != self.axis)]

    def L_op(self, inputs, outputs, output_grads):
        # Integer-valued and piecewise constant: no gradient.
        return [None]


class Argmax(_ArgExtremum):
    np_func = staticmethod(np.argmax)


class Argmin(_ArgExtremum):
    np_func = staticmethod(np.argmin)


# -- functions -----------------------------------------------------------------
def _keep(out, axis, ndim, keepdims):
    if keepdims:
        out = _expand_reduced(out, axis, ndim)
    return out


def _reduce(cls, x, axis, keepdims, **kwargs):
    x = as_tensor_variable(x)
    ax = normalize_axis(axis, x.type.ndim, cls.__name__.lower())
    out = cls(ax, **kwargs)(x)
    return _keep(out, ax, x.type.ndim, keepdims)


def sum(input, axis=None, dtype=None, keepdims=False, acc_dtype=None):
    """Sum over ``axis``; integer / bool inputs accumulate in int64 like NumPy."""
    return _reduce(Sum, input, axis, keepdims, dtype=dtype)


def prod(input, axis=None, dtype=None, keepdims=False, acc_dtype=None, no_zeros_in_input=False):
    return _reduce(Prod, input, axis, keepdims, dtype=dtype)


def max(x, axis=None, keepdims=False):
    return _reduce(Max, x, axis, keepdims)


def min(x, axis=None, keepdims=False):
    return _reduce(Min, x, axis, keepdims)


def all(x, axis=None, keepdims=False):
    return _reduce(All, x, axis, keepdims)


def any(x, axis=None, keepdims=False):
    return _reduce(Any, x, axis, keepdims)


def _arg(cls, x, axis, keepdims):
    x = as_tensor_variable(x)
    if axis is not None and not isinstance(axis, (int, np.integer)):
        axes = normalize_axis(axis, x.type.ndim, cls.__name__.lower())
        if len(axes) != 1:
            raise ValueError(f"{cls.__name__.lower()}: axis must be None or one int, got {axis!r}")
        axis = axes[0]
    ax = None if axis is None else normalize_axis(axis, x.type.ndim, cls.__name__.lower())[0]
    out = cls(ax)(x)
    return _keep(out, None if ax is None else (ax,), x.type.ndim, keepdims)


def argmax(x, axis=None, keepdims=False):
    return _arg(Argmax, x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    return _arg(Argmin, x, axis, keepdims)


def max_and_argmax(a, axis=None, keepdims=False):
    """PyTensor's ``[max(a, axis), argmax(a, axis)]`` (two nodes; merge/CSE share the input)."""
    return [max(a, axis=axis, keepdims=keepdims), argmax(a, axis=axis, keepdims=keepdims)]


def _count(x, axes, float_dtype):
    """Number of reduced elements as a float scalar: product of ``shape(x)[i]`` entries.

    Built as ``Subtensor{i}(Cast{float64}(Shape(x)), i)`` (the seeds' mean graph).
    """
    from opgraph.kernel_core.tensor.shape import shape
    from opgraph.kernel_core.tensor.subtensor import getitem

    tm = _math()
    shp = tm.cast(shape(x), float_dtype)
    n = None
    for a in axes:
        entry = getitem(shp, a)
        n = entry if n is None else tm.mul(n, entry)
    if n is None:  # a 0-d input: one element
        n = as_tensor_variable(np.asarray(1.0, dtype=float_dtype))
    return n


def _float_for(dtype):
    return "float32" if dtype in ("float16", "float32") else ("complex64" if dtype == "complex64" else "float64")


def mean(input, axis=None, dtype=None, keepdims=False, acc_dtype=None):
    """Sum divided by the number of reduced elements (taken from ``shape(input)``).

    As PyTensor's: ``dtype`` is the dtype of the inner sum (a float32 sum is
    divided in float32, anything else in float64); ``acc_dtype`` the dtype the
    sum accumulates in before it is cast to ``dtype``.
    """
    x = as_tensor_variable(input)
    ax = normalize_axis(axis, x.type.ndim, "mean")
    if acc_dtype is None:
        s = sum(x, axis=axis, dtype=dtype)
    else:
        acc = np.dtype(acc_dtype).name
        if not np.can_cast(x.type.dtype, acc):
            raise ValueError(f"mean: acc_dtype {acc} would lose precision of the {x.type.dtype} input {x}")
        s = sum(x, axis=axis, dtype=acc)
        s = _math().cast(s, dtype or _sum_dtype(x.type.dtype))
    n = _count(x, _reduced_axes(ax, x.type.ndim), _float_for(s.type.dtype))
    out = _math().true_div(s, n)
    out = _keep(out, ax, x.type.ndim, keepdims)
    out.name = "mean"
    return out


def _check_ddof(ddof, fn):
    if isinstance(ddof, (bool, np.bool_)) or not isinstance(ddof, (numbers.Real, np.number)):
        raise TypeError(f"{fn}: ddof must be a number (NumPy's delta degrees of freedom), got {ddof!r}")
    return ddof


def var(input, axis=None, ddof=0, keepdims=False, corrected=False):
    """Mean squared deviation from the mean, divided by n - ``ddof`` (NumPy's ``ddof``).

    ``corrected=True`` is PyTensor's meaning, not ddof=1: the "corrected two-pass"
    algorithm, which subtracts the rounding error left in the mean,
    (sum((x - m)**2) - sum(x - m)**2 / n) / (n - ddof).  The value is np.var's
    (the correction is zero in exact arithmetic); only the rounding improves.
    """
    x = as_tensor_variable(input)
    ddof = _check_ddof(ddof, "var")
    tm = _math()
    ax = normalize_axis(axis, x.type.ndim, "var")
    centered = tm.sub(x, mean(x, axis=axis, keepdims=True))
    sq = tm.sqr(centered)
    if ddof == 0 and not corrected:
        v = mean(sq, axis=axis, keepdims=keepdims)
    else:
        s = sum(sq, axis=axis, keepdims=keepdims)
        n = _count(x, _reduced_axes(ax, x.type.ndim), _float_for(s.type.dtype))
        if corrected:
            error = tm.sqr(sum(centered, axis=axis, keepdims=keepdims))
            s = tm.sub(s, tm.true_div(error, n))
        v = tm.true_div(s, tm.sub(n, ddof) if ddof != 0 else n)
    v.name = "var"
    return v


def std(input, axis=None, ddof=0, keepdims=False, corrected=False):
    """Square root of :func:`var` (same ``ddof`` and ``corrected``)."""
    _check_ddof(ddof, "std")
    out = _math().sqrt(var(input, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected))
    out.name = "std"
    return out


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` written naively, like PyTensor.

    The numerically stable form (subtracting the max) is produced by the
    ``stabilize`` rewrites, so the user's graph stays the textbook formula.
    """
    tm = _math()
    return tm.log(sum(tm.exp(x), axis=axis, keepdims=keepdims))


# Keep Python's builtins reachable inside this module despite the shadowing names.
_builtin_sum, _builtin_max, _builtin_min = builtins.sum, builtins.max, builtins.min

"""TensorVariable: NumPy-like operators and methods on symbolic tensors."""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Constant, Variable
from opgraph.kernel_core.tensor.type import TensorType


def _m():
    from opgraph.kernel_core.tensor import math

    return math


def _r():
    from opgraph.kernel_core.tensor import reduction

    return reduction


def _no_out(out, who):
    if out is not None:
        raise TypeError(f"{who}: out= is not supported on symbolic variables (graphs are not mutated)")


def _no_dtype(dtype, who):
    if dtype is not None:
        raise TypeError(f"{who}: dtype= is not supported; cast the input first (x.astype(...))")


class _TensorOps:
    """Operator overloads shared by TensorVariable and TensorConstant."""

    # Variables are dict keys: equality stays identity, use pt.eq for values.
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    # -- arithmetic -------------------------------------------------------
    def __add__(self, other):
        return _m().add(self, other)

    def __radd__(self, other):
        return _m().add(other, self)

    def __sub__(self, other):
        return _m().sub(self, other)

    def __rsub__(self, other):
        return _m().sub(other, self)

    def __mul__(self, other):
        return _m().mul(self, other)

    def __rmul__(self, other):
        return _m().mul(other, self)

    def __truediv__(self, other):
        return _m().true_div(self, other)

    def __rtruediv__(self, other):
        return _m().true_div(other, self)

    def __floordiv__(self, other):
        return _m().int_div(self, other)

    def __rfloordiv__(self, other):
        return _m().int_div(other, self)

    def __mod__(self, other):
        return _m().mod(self, other)

    def __rmod__(self, other):
        return _m().mod(other, self)

    def __pow__(self, other):
        return _m().pow(self, other)

    def __rpow__(self, other):
        return _m().pow(other, self)

    def __neg__(self):
        return _m().neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _m().abs(self)

    def __matmul__(self, other):
        from opgraph.kernel_core.tensor.dot import matmul

        return matmul(self, other)

    def __rmatmul__(self, other):
        from opgraph.kernel_core.tensor.dot import matmul

        return matmul(other, self)

    # -- comparisons and logic -------------------------------------------
    def __lt__(self, other):
        return _m().lt(self, other)

    def __le__(self, other):
        return _m().le(self, other)

    def __gt__(self, other):
        return _m().gt(self, other)

    def __ge__(self, other):
        return _m().ge(self, other)

    def __invert__(self):
        return _m().invert(self)

    def __and__(self, other):
        return _m().and_(self, other)

    def __rand__(self, other):
        return _m().and_(other, self)

    def __or__(self, other):
        return _m().or_(self, other)

    def __ror__(self, other):
        return _m().or_(other, self)

    def __xor__(self, other):
        return _m().xor(self, other)

    def __rxor__(self, other):
        return _m().xor(other, self)

    def __bool__(self):
        raise TypeError(
            f"{self} is symbolic: it has no truth value. Use pt.switch / pt.where for "
            "conditionals, or .eval() to get a number.")

    def __len__(self):
        n = self.type.shape[0] if self.type.ndim else None
        if n is None:
            raise TypeError(f"len() of {self} is unknown: its first dimension is not static ({self.type.short_str()})")
        return n

    def __iter__(self):
        n = len(self)
        for i in range(n):
            yield self[i]

    def __array__(self, *args, **kwargs):
        raise TypeError(f"{self} is symbolic and cannot become a NumPy array; call .eval() first")

    # NumPy ufuncs on symbolic variables build graphs (np.exp(x), np.add(x, 1), and
    # np.float64(2) * x, which NumPy routes through np.multiply).
    __array_priority__ = 1000

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _array_ufunc(ufunc, method, inputs, kwargs)

    # -- indexing ---------------------------------------------------------
    def __getitem__(self, index):
        from opgraph.kernel_core.tensor.subtensor import getitem

        return getitem(self, index)

    def set(self, y, **kwargs):
        """``x[i].set(v)``: ``x`` with ``x[i] = v`` (``set_subtensor``); ``self`` must be indexed."""
        from opgraph.kernel_core.tensor.subtensor import set_subtensor

        return set_subtensor(self, y, **kwargs)

    def inc(self, y, **kwargs):
        """``x[i].inc(v)``: ``x`` with ``x[i] += v`` (``inc_subtensor``); ``self`` must be indexed."""
        from opgraph.kernel_core.tensor.subtensor import inc_subtensor

        return inc_subtensor(self, y, **kwargs)

    # -- shape ------------------------------------------------------------
    @property
    def ndim(self):
        return self.type.ndim

    @property
    def dtype(self):
        return self.type.dtype

    @property
    def broadcastable(self):
        return self.type.broadcastable

    @property
    def shape(self):
        from opgraph.kernel_core.tensor.shape import shape

        return shape(self)

    @property
    def size(self):
        from opgraph.kernel_core.tensor.shape import shape

        return _r().prod(shape(self))

    @property
    def T(self):
        return self.transpose()

    @property
    def real(self):
        from opgraph.kernel_core.tensor.complex import real

        return real(self)

    @property
    def imag(self):
        from opgraph.kernel_core.tensor.complex import imag

        return imag(self)

    def conj(self):
        from opgraph.kernel_core.tensor.complex import conj

        return conj(self)

    conjugate = conj

    def transpose(self, *axes):
        from opgraph.kernel_core.tensor.shape import transpose

        if len(axes) == 1 and isinstance(axes[0], (list, tuple)):
            axes = tuple(axes[0])
        return transpose(self, axes or None)

    def dimshuffle(self, *order):
        from opgraph.kernel_core.tensor.elemwise import dimshuffle

        return dimshuffle(self, *order)

    def reshape(self, *shape, ndim=None):
        from opgraph.kernel_core.tensor.shape import reshape

        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            shape = shape[0]
        return reshape(self, shape, ndim=ndim)

    def flatten(self, ndim=1):
        from opgraph.kernel_core.tensor.shape import flatten

        return flatten(self, ndim)

    ravel = flatten

    def squeeze(self, axis=None):
        from opgraph.kernel_core.tensor.shape import squeeze

        return squeeze(self, axis)

    def astype(self, dtype):
        return _m().cast(self, dtype)

    def copy(self, name=None):
        out = _m().identity(self)
        out.name = name
        return out

    # -- reductions -------------------------------------------------------
    # ``out=`` is accepted (and must be None) because np.sum(x), np.mean(x), ... call
    # these methods with NumPy's full keyword set.
    def sum(self, axis=None, keepdims=False, dtype=None, out=None):
        _no_out(out, "sum")
        return _r().sum(self, axis=axis, keepdims=keepdims, dtype=dtype)

    def prod(self, axis=None, keepdims=False, dtype=None, out=None):
        _no_out(out, "prod")
        return _r().prod(self, axis=axis, keepdims=keepdims, dtype=dtype)

    def mean(self, axis=None, keepdims=False, dtype=None, out=None):
        _no_out(out, "mean")
        if dtype is not None:
            return _r().mean(self, axis=axis, keepdims=keepdims, dtype=dtype)
        return _r().mean(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims=False, ddof=0, dtype=None, out=None, corrected=False):
        _no_out(out, "var")
        _no_dtype(dtype, "var")
        return _r().var(self, axis=axis, keepdims=keepdims, ddof=ddof, corrected=corrected)

    def std(self, axis=None, keepdims=False, ddof=0, dtype=None, out=None, corrected=False):
        _no_out(out, "std")
        _no_dtype(dtype, "std")
        return _r().std(self, axis=axis, keepdims=keepdims, ddof=ddof, corrected=corrected)

    def max(self, axis=None, keepdims=False, out=None):
        _no_out(out, "max")
        return _r().max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False, out=None):
        _no_out(out, "min")
        return _r().min(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False, out=None):
        _no_out(out, "argmax")
        return _r().argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False, out=None):
        _no_out(out, "argmin")
        return _r().argmin(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, keepdims=False, out=None):
        _no_out(out, "all")
        return _r().all(self, axis=axis, keepdims=keepdims)

    def any(self, axis=None, keepdims=False, out=None):
        _no_out(out, "any")
        return _r().any(self, axis=axis, keepdims=keepdims)

    # -- misc -------------------------------------------------------------
    def dot(self, other):
        from opgraph.kernel_core.tensor.dot import dot

        return dot(self, other)

    def clip(self, a_min, a_max):
        return _m().clip(self, a_min, a_max)

    def round(self):
        return _m().round(self)

    def cumsum(self, axis=None):
        from opgraph.kernel_core.tensor.extra_ops import cumsum

        return cumsum(self, axis)

    def cumprod(self, axis=None):
        from opgraph.kernel_core.tensor.extra_ops import cumprod

        return cumprod(self, axis)

    def sort(self, axis=-1):
        from opgraph.kernel_core.tensor.extra_ops import sort

        return sort(self, axis)

    def argsort(self, axis=-1):
        from opgraph.kernel_core.tensor.extra_ops import argsort

        return argsort(self, axis)


# NumPy ufunc name -> the opgraph.tensor function of the same meaning.
_UFUNCS = {
    "add": "add", "subtract": "sub", "multiply": "mul", "true_divide": "true_div", "divide": "true_div",
    "floor_divide": "int_div", "remainder": "mod", "power": "pow", "negative": "neg", "positive": "identity",
    "absolute": "abs", "fabs": "abs", "sign": "sign", "square": "sqr", "reciprocal": "reciprocal",
    "maximum": "maximum", "minimum": "minimum", "exp": "exp", "exp2": "exp2", "expm1": "expm1", "log": "log",
    "log2": "log2", "log10": "log10", "log1p": "log1p", "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan",
    "arcsin": "arcsin", "arccos": "arccos", "arctan": "arctan", "arctan2": "arctan2", "sinh": "sinh",
    "cosh": "cosh", "tanh": "tanh", "arcsinh": "arcsinh", "arccosh": "arccosh", "arctanh": "arctanh",
    "floor": "floor", "ceil": "ceil", "rint": "round_half_to_even", "less": "lt", "greater": "gt",
    "less_equal": "le", "greater_equal": "ge", "logical_and": "and_", "matmul": "matmul",
    "logical_or": "or_", "logical_xor": "xor", "logical_not": "logical_not", "bitwise_and": "bitwise_and",
    "bitwise_or": "bitwise_or", "bitwise_xor": "bitwise_xor", "invert": "invert", "isnan": "isnan",
    "isinf": "isinf", "conjugate": "conj",
}
# ufunc.reduce -> the reduction (NumPy's default axis for reduce is 0).
_REDUCES = {"add": "sum", "multiply": "prod", "maximum": "max", "minimum": "min", "logical_and": "all",
            "logical_or": "any"}


def _array_ufunc(ufunc, method, inputs, kwargs):
    import opgraph.kernel_core.tensor as ten

    name = ufunc.__name__
    if name in ("equal", "not_equal") and method == "__call__" and len(inputs) == 2:
        # ``array == x`` stays an identity test, as ``x == array`` is (variables are dict keys
        # and list members: ``array in [x]`` must not build a graph).  Symbolic equality is
        # pt.eq / pt.neq.
        same = inputs[0] is inputs[1]
        return np.bool_(same if name == "equal" else not same)
    if name == "divmod" and method == "__call__":
        import opgraph.kernel_core.tensor as ten

        return ten.int_div(*inputs), ten.mod(*inputs)
    for v in inputs:
        if not isinstance(v, (Variable, np.ndarray, np.generic, int, float, bool, complex, list, tuple)):
            return NotImplemented  # another library's array: let it (or NumPy's error) decide
    if kwargs.get("out") is not None:
        raise TypeError(f"numpy.{name}: out= is not supported on symbolic variables (graphs are not mutated)")
    allowed = {"out", "axis", "keepdims"} if method == "reduce" else {"out"}
    extra = sorted(set(kwargs) - allowed)
    if extra:
        raise TypeError(f"numpy.{name}: keyword(s) {', '.join(extra)} are not supported on symbolic variables")
    if name not in _UFUNCS:
        raise TypeError(f"numpy.{name} has no opgraph equivalent: it cannot take symbolic variables")
    fn = getattr(ten, _UFUNCS[name])
    if method == "__call__":
        return fn(*inputs)
    if method == "outer":
        return fn.outer(*inputs)
    if method == "reduce" and name in _REDUCES:
        (x,) = inputs
        return getattr(ten, _REDUCES[name])(x, axis=kwargs.get("axis", 0), keepdims=kwargs.get("keepdims", False))
    raise TypeError(f"numpy.{name}.{method} is not supported on symbolic variables")


class TensorVariable(_TensorOps, Variable):
    pass


class TensorConstant(_TensorOps, Constant):
    pass


TensorType.variable_class = TensorVariable
TensorType.constant_class = TensorConstant


# The public names: everything defined here (PyTensor's module re-exports them).
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and getattr(_v, "__module__", None) == __name__]

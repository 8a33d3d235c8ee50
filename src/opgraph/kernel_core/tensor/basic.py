"""Converting Python / NumPy values to graph variables, and typed constructors."""

from __future__ import annotations

import numbers

import numpy as np

from opgraph.kernel_core.config import config
from opgraph.kernel_core.graph.basic import Constant, Variable
from opgraph.kernel_core.scalar.type import ScalarType, check_dtype
from opgraph.kernel_core.tensor.type import TensorType, resolve_dtype

_INT_LADDER = ("int8", "int16", "int32", "int64")


def smallest_int_dtype(values):
    """PyTensor's rule: Python ints become the smallest signed dtype that holds them."""
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if arr.size == 0:
        return "int8"
    lo, hi = int(np.min(arr)), int(np.max(arr))
    for dt in _INT_LADDER:
        info = np.iinfo(dt)
        if info.min <= lo and hi <= info.max:
            return dt
    if lo >= 0 and hi <= np.iinfo("uint64").max:
        return "uint64"
    raise ValueError(f"integer constant {hi if hi > np.iinfo('int64').max else lo} does not fit in 64 bits")


# (min, max, dtype) of the signed ladder, for one Python int without NumPy's help.
_INT_BOUNDS = tuple((int(np.iinfo(dt).min), int(np.iinfo(dt).max), dt) for dt in _INT_LADDER)


def _python_int_dtype(value):
    """``smallest_int_dtype([value])`` for one Python int, by plain comparisons."""
    for lo, hi, dt in _INT_BOUNDS:
        if lo <= value <= hi:
            return dt
    return smallest_int_dtype([value])  # uint64, or the error naming the value


def _all_python(values, kind):
    stack = [values]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif not isinstance(v, kind) or isinstance(v, np.generic):
            return False
    return True


def _has_elements(values):
    stack = [values]
    while stack:
        v = stack.pop()
        if not isinstance(v, (list, tuple)):
            return True
        stack.extend(v)
    return False


def constant_data(x, dtype=None):
    """The NumPy array a Python / NumPy value becomes as a graph constant."""
    if dtype is not None:
        return np.asarray(x, dtype=resolve_dtype(dtype))
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, np.generic):
        return np.asarray(x)
    if isinstance(x, bool):
        return np.asarray(x, dtype="bool")
    if isinstance(x, numbers.Integral):
        return np.asarray(x, dtype=_python_int_dtype(int(x)))
    if isinstance(x, float):
        return np.asarray(x, dtype=config.floatX)
    if isinstance(x, complex):
        return np.asarray(x, dtype="complex128")
    if isinstance(x, (list, tuple)):
        if not _has_elements(x):
            # [] and [[]] hold no value to type them: NumPy's (and PyTensor's) float64.
            return np.asarray(x, dtype="float64")
        if _all_python(x, bool):
            return np.asarray(x, dtype="bool")
        if _all_python(x, numbers.Integral):
            try:
                arr = np.asarray(x, dtype=object)
            except ValueError:
                raise TypeError("ragged nested sequences cannot become a tensor") from None
            return np.asarray(x, dtype=smallest_int_dtype(arr.ravel()) if arr.size else "int8")
        try:
            arr = np.asarray(x)
        except ValueError:
            raise TypeError("ragged nested sequences cannot become a tensor") from None
        if arr.dtype.kind == "f" and _all_python(x, numbers.Real):
            arr = arr.astype(config.floatX)
        return arr
    raise TypeError(f"Cannot convert {type(x).__name__} object {x!r:.60} to a tensor")


# The 0-d TensorType of each dtype, shared by the constants made from Python
# scalars (types are immutable values: sharing one changes nothing but the cost).
_SCALAR_TENSOR_TYPES = {}


def _python_scalar_constant(x, kind, name):
    """``constant(x)`` for a Python float / int / bool: the dtype rules of
    ``constant_data`` without its isinstance chain, a shared type, and no
    filter or defensive copy of the array made here (``y + 1.0`` in a loop
    spends most of its time making the 1.0)."""
    if kind is float:
        dtype = config.floatX
    elif kind is int:
        dtype = _python_int_dtype(x)
    else:
        dtype = "bool"
    data = np.asarray(x, dtype=dtype)
    data.setflags(write=False)
    ttype = _SCALAR_TENSOR_TYPES.get(dtype)
    if ttype is None:
        ttype = _SCALAR_TENSOR_TYPES[dtype] = TensorType(dtype, ())
    return (ttype.constant_class or Constant)._from_valid_data(ttype, data, name)


def constant(x, name=None, ndim=None, dtype=None):
    """A TensorConstant holding ``x`` (shape fully static)."""
    kind = type(x)
    if (kind is float or kind is int or kind is bool) and dtype is None and not ndim:
        return _python_scalar_constant(x, kind, name)
    data = constant_data(x, dtype)
    if data.dtype == object:
        raise TypeError(f"Cannot convert {type(x).__name__} object to a tensor")
    if ndim is not None and data.ndim != ndim:
        if data.ndim < ndim:
            data = data.reshape((1,) * (ndim - data.ndim) + data.shape)
        else:
            raise ValueError(f"constant has {data.ndim} dimensions, expected {ndim}")
    ttype = TensorType(check_dtype(data.dtype), data.shape)
    return ttype.make_constant(data, name=name)


def as_tensor_variable(x, name=None, ndim=None, dtype=None):
    """Return ``x`` as a tensor Variable (constants for Python / NumPy values)."""
    if isinstance(x, Variable):
        if isinstance(x.type, TensorType):
            var = x
        elif isinstance(x.type, ScalarType):
            from opgraph.kernel_core.tensor.elemwise import tensor_from_scalar

            var = tensor_from_scalar(x)
        else:
            raise TypeError(f"Variable {x} of type {x.type} cannot be used as a tensor")
        if ndim is not None and var.type.ndim != ndim:
            raise ValueError(f"{var} has {var.type.ndim} dimensions, expected {ndim}")
        if dtype is not None and var.type.dtype != resolve_dtype(dtype):
            from opgraph.kernel_core.tensor.math import cast

            var = cast(var, dtype)
        return var
    if isinstance(x, (list, tuple)) and any(_contains_variable(e) for e in x):
        from opgraph.kernel_core.tensor.join import stack

        return stack([as_tensor_variable(e) for e in x])
    return constant(x, name=name, ndim=ndim, dtype=dtype)


as_tensor = as_tensor_variable


def _contains_variable(x):
    stack = [x]
    while stack:
        v = stack.pop()
        if isinstance(v, Variable):
            return True
        if isinstance(v, (list, tuple)):
            stack.extend(v)
    return False


def get_underlying_scalar_constant(x):
    """The Python scalar a constant-valued variable holds, else None.

    Looks through broadcasting (ExpandDims, Second/Alloc of a constant).
    """
    from opgraph.kernel_core.tensor.elemwise import DimShuffle, Elemwise

    seen = 0
    while isinstance(x, Variable) and seen < 64:
        seen += 1
        if isinstance(x, Constant):
            data = np.asarray(x.data)
            if data.size == 0:
                return None
            flat = data.ravel()
            if data.size == 1 or np.all(flat == flat[0]):
                return flat[0]
            return None
        owner = x.owner
        if owner is None:
            return None
        if isinstance(owner.op, DimShuffle):
            x = owner.inputs[0]
            continue
        if isinstance(owner.op, Elemwise) and type(owner.op.scalar_op).__name__ == "Second":
            x = owner.inputs[1]
            continue
        if type(owner.op).__name__ == "Alloc":
            x = owner.inputs[0]
            continue
        return None
    return None


# The public names: everything defined here (PyTensor's module re-exports them).
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and getattr(_v, "__module__", None) == __name__]

"""ScalarType: a single number of a fixed dtype (inner graphs, index inputs)."""

from __future__ import annotations

import functools

import numpy as np

from opgraph.kernel_core.graph.basic import Constant, Variable
from opgraph.kernel_core.graph.type import Type

SUPPORTED_DTYPES = (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
)
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
FLOAT_DTYPES = ("float16", "float32", "float64")
DISCRETE_DTYPES = ("bool",) + INT_DTYPES


_dtype_names: dict = {}


def check_dtype(dtype, what="dtype"):
    """Normalise a dtype spec to its string name; reject what we cannot compute with."""
    try:
        return _dtype_names[dtype]
    except (KeyError, TypeError):
        pass
    try:
        name = np.dtype(dtype).name
    except TypeError:
        raise TypeError(f"Unsupported {what} {dtype!r}; use one of {', '.join(SUPPORTED_DTYPES)}") from None
    if name not in SUPPORTED_DTYPES:
        raise TypeError(f"Unsupported {what} {name!r}; use one of {', '.join(SUPPORTED_DTYPES)}")
    try:
        _dtype_names[dtype] = name
    except TypeError:  # unhashable spec
        pass
    return name


@functools.lru_cache(maxsize=4096)
def upcast(*dtypes):
    """NumPy's promotion of the given dtype names."""
    return np.result_type(*[np.dtype(d) for d in dtypes]).name


class ScalarType(Type):
    def __init__(self, dtype):
        self.dtype = check_dtype(dtype)

    def __eq__(self, other):
        return type(self) is type(other) and self.dtype == other.dtype

    def __hash__(self):
        return hash((ScalarType, self.dtype))

    def __str__(self):
        return self.dtype

    __repr__ = __str__

    def short_str(self):
        return self.dtype

    @property
    def ndim(self):
        return 0

    def filter(self, value, strict=False, allow_downcast=None):
        arr = np.asarray(value)
        if arr.ndim != 0:
            raise TypeError(f"Expected a scalar of dtype {self.dtype}, got an array of shape {arr.shape}")
        if arr.dtype.name != self.dtype:
            if strict:
                raise TypeError(f"Expected dtype {self.dtype}, got {arr.dtype.name}")
            casted = arr.astype(self.dtype)
            if not allow_downcast and not np.can_cast(arr.dtype, self.dtype) and casted != arr:
                raise TypeError(f"Cannot safely convert {value!r} to {self.dtype}")
            arr = casted
        return arr[()]

    def data_key(self, data):
        return (self.dtype, data.item() if hasattr(data, "item") else data)

    def constant_str(self, data):
        return str(data)


def _binary(op_name, reflected=False):
    def method(self, other):
        from opgraph.kernel_core.scalar import basic

        if isinstance(other, Variable) and not isinstance(other.type, ScalarType):
            return NotImplemented  # a tensor: its reflected operator builds the (tensor) graph
        op = getattr(basic, op_name)
        return op(other, self) if reflected else op(self, other)

    method.__name__ = f"__{'r' if reflected else ''}{op_name.rstrip('_')}__"
    return method


def _unary(op_name):
    def method(self):
        from opgraph.kernel_core.scalar import basic

        return getattr(basic, op_name)(self)

    return method


class ScalarVariable(Variable):
    """A symbolic scalar (``opgraph.scalar.float64("x")``) with Python's operators.

    Equality stays identity (variables are dict keys): use ``opgraph.scalar.eq``.
    """

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    __add__, __radd__ = _binary("add"), _binary("add", True)
    __sub__, __rsub__ = _binary("sub"), _binary("sub", True)
    __mul__, __rmul__ = _binary("mul"), _binary("mul", True)
    __truediv__, __rtruediv__ = _binary("true_div"), _binary("true_div", True)
    __floordiv__, __rfloordiv__ = _binary("int_div"), _binary("int_div", True)
    __mod__, __rmod__ = _binary("mod"), _binary("mod", True)
    __pow__, __rpow__ = _binary("pow"), _binary("pow", True)
    __and__, __rand__ = _binary("and_"), _binary("and_", True)
    __or__, __ror__ = _binary("or_"), _binary("or_", True)
    __xor__, __rxor__ = _binary("xor"), _binary("xor", True)
    __lt__, __le__ = _binary("lt"), _binary("le")
    __gt__, __ge__ = _binary("gt"), _binary("ge")
    __neg__, __abs__, __invert__ = _unary("neg"), _unary("abs_"), _unary("invert")

    def __pos__(self):
        return self

    def __bool__(self):
        raise TypeError(f"{self} is symbolic: it has no truth value (use opgraph.scalar.switch)")


class ScalarConstant(Constant, ScalarVariable):
    pass


ScalarType.variable_class = ScalarVariable
ScalarType.constant_class = ScalarConstant


def get_scalar_type(dtype):
    return _scalar_types.setdefault(dtype, ScalarType(dtype))


_scalar_types: dict = {}

bool_ = get_scalar_type("bool")
int8 = get_scalar_type("int8")
int64 = get_scalar_type("int64")
float64 = get_scalar_type("float64")
# One type per supported dtype (``ps.float32``, ``ps.uint8``, ...), as PyTensor's scalar module has.
for _dt in SUPPORTED_DTYPES:
    if _dt != "bool":
        globals()[_dt] = get_scalar_type(_dt)


def scalar_constant(value, dtype=None):
    arr = np.asarray(value)
    dtype = dtype or arr.dtype.name
    return get_scalar_type(dtype).make_constant(arr.astype(dtype))


def as_scalar(x, dtype=None):
    if isinstance(x, Variable):
        if isinstance(x.type, ScalarType):
            return x
        raise TypeError(f"{x} is not a scalar variable")
    return scalar_constant(x, dtype)


# The public names: everything defined here (PyTensor's module re-exports them).
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and getattr(_v, "__module__", None) == __name__]

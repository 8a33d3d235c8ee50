"""Elementwise tensor functions: each is an Elemwise over a scalar op."""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.scalar import basic as ps
from opgraph.kernel_core.tensor.basic import as_tensor_variable, constant
from opgraph.kernel_core.tensor.elemwise import Elemwise
from opgraph.kernel_core.tensor.type import resolve_dtype as _resolve_dtype

# Arithmetic
add = Elemwise(ps.add)
sub = Elemwise(ps.sub)
mul = Elemwise(ps.mul)
true_div = Elemwise(ps.true_div)
int_div = Elemwise(ps.int_div)
mod = Elemwise(ps.mod)
pow = Elemwise(ps.pow)
neg = Elemwise(ps.neg)
abs = Elemwise(ps.abs_)
sign = Elemwise(ps.sign)
sqr = Elemwise(ps.sqr)
reciprocal = Elemwise(ps.reciprocal)
maximum = Elemwise(ps.maximum)
minimum = Elemwise(ps.minimum)
clip = Elemwise(ps.clip)
switch = Elemwise(ps.switch)
second = Elemwise(ps.second)
identity = Elemwise(ps.identity)

# Comparisons and logic
lt = Elemwise(ps.lt)
gt = Elemwise(ps.gt)
le = Elemwise(ps.le)
ge = Elemwise(ps.ge)
eq = Elemwise(ps.eq)
neq = Elemwise(ps.neq)
isnan = Elemwise(ps.isnan)
isinf = Elemwise(ps.isinf)
and_ = Elemwise(ps.and_)
or_ = Elemwise(ps.or_)
xor = Elemwise(ps.xor)
invert = Elemwise(ps.invert)

# Rounding
floor = Elemwise(ps.floor)
ceil = Elemwise(ps.ceil)
round_half_to_even = Elemwise(ps.round_half_to_even)

# Exponentials, logarithms, roots
exp = Elemwise(ps.exp)
exp2 = Elemwise(ps.exp2)
expm1 = Elemwise(ps.expm1)
log = Elemwise(ps.log)
log2 = Elemwise(ps.log2)
log10 = Elemwise(ps.log10)
log1p = Elemwise(ps.log1p)
log1mexp = Elemwise(ps.log1mexp)
sqrt = Elemwise(ps.sqrt)

# Trigonometry
sin = Elemwise(ps.sin)
cos = Elemwise(ps.cos)
tan = Elemwise(ps.tan)
arcsin = Elemwise(ps.arcsin)
arccos = Elemwise(ps.arccos)
arctan = Elemwise(ps.arctan)
arctan2 = Elemwise(ps.arctan2)
sinh = Elemwise(ps.sinh)
cosh = Elemwise(ps.cosh)
tanh = Elemwise(ps.tanh)
arcsinh = Elemwise(ps.arcsinh)
arccosh = Elemwise(ps.arccosh)
arctanh = Elemwise(ps.arctanh)

# Special functions
sigmoid = Elemwise(ps.sigmoid)
softplus = Elemwise(ps.softplus)
erf = Elemwise(ps.erf)
erfc = Elemwise(ps.erfc)
erfcx = Elemwise(ps.erfcx)
erfinv = Elemwise(ps.erfinv)
gammaln = Elemwise(ps.gammaln)
psi = Elemwise(ps.psi)
tri_gamma = Elemwise(ps.tri_gamma)
gamma = Elemwise(ps.gamma)

# NumPy / PyTensor aliases
divide = true_div
true_divide = true_div
floor_divide = int_div
power = pow
negative = neg
absolute = abs
where = switch
fill = second
expit = sigmoid
log1pexp = softplus
lgamma = gammaln
digamma = psi
greater = gt
less = lt
greater_equal = ge
less_equal = le
equal = eq
not_equal = neq
bitwise_and = and_
bitwise_or = or_
bitwise_xor = xor
bitwise_not = invert
round = round_half_to_even
arcsinh = arcsinh
pi = np.pi
e = np.e


def logical_not(x):
    """NumPy's logical_not: True where ``x`` is zero, for any dtype (``invert`` is bitwise on integers)."""
    return invert(cast(x, "bool"))


def logical_and(a, b):
    return and_(cast(a, "bool"), cast(b, "bool"))


def logical_or(a, b):
    return or_(cast(a, "bool"), cast(b, "bool"))


def logical_xor(a, b):
    return xor(cast(a, "bool"), cast(b, "bool"))


def cast(x, dtype):
    """``x`` converted to ``dtype`` (no node when it already has it)."""
    x = as_tensor_variable(x)
    dtype = _resolve_dtype(dtype)   # "floatX" is config.floatX (it was always float64)
    if x.type.dtype == dtype:
        return x
    return Elemwise(ps.cast_op(dtype))(x)


def zeros_like(x, dtype=None):
    x = as_tensor_variable(x)
    return second(x, constant(0, dtype=dtype or x.type.dtype))


def ones_like(x, dtype=None):
    x = as_tensor_variable(x)
    return second(x, constant(1, dtype=dtype or x.type.dtype))


def full_like(x, fill_value, dtype=None):
    x = as_tensor_variable(x)
    return second(x, constant(fill_value, dtype=dtype or x.type.dtype))


def sigmoid_complement(x):
    return 1 - sigmoid(x)


__all__ = [n for n, v in list(globals().items())
           if not n.startswith("_") and (isinstance(v, Elemwise) or callable(v) or n in ("pi", "e"))
           and n not in ("annotations", "np", "ps", "Elemwise", "as_tensor_variable", "constant")]

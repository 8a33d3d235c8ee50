"""Scalar ops: the elementwise vocabulary.

Each scalar op is a small class: ``nfunc`` is its NumPy (ufunc-like)
implementation, ``output_dtypes`` its typing rule and ``pullback`` its
gradient, written with tensor operations so that ``Elemwise`` can hand it
tensor variables directly.  Elemwise shows the capitalised name
(``log1p`` -> ``Log1p``); inner graphs show the lowercase one.
"""

from __future__ import annotations

import importlib

import numpy as np

from opgraph.kernel_core.graph.basic import Apply, Variable
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.scalar.type import (
    DISCRETE_DTYPES,
    ScalarType,
    as_scalar,
    get_scalar_type,
    upcast,
)


def _special(name):
    """A scipy.special function, imported on first call (keeps `import opgraph` light)."""

    def call(*args):
        return getattr(importlib.import_module("scipy.special"), name)(*args)

    call.__name__ = name
    return call


def _tm():
    # Pullbacks are tensor graphs; importing lazily breaks the import cycle.
    from opgraph.kernel_core.tensor import math

    return math


# -- typing rules ------------------------------------------------------------
def upcast_out(*dtypes):
    return (upcast(*dtypes),)


_TO_FLOAT = {"bool": "float32", "int8": "float32", "int16": "float32", "uint8": "float32",
             "uint16": "float32", "int32": "float64", "int64": "float64",
             "uint32": "float64", "uint64": "float64"}


def upgrade_to_float(*dtypes):
    """Integers become floats (small ints float32, wide ints float64), like PyTensor."""
    return (upcast(*[_TO_FLOAT.get(d, d) for d in dtypes]),)


def bool_out(*dtypes):
    return ("bool",)


def same_out(*dtypes):
    return (dtypes[0],)


def _not_on_bool(name, hint):
    """A typing rule rejecting booleans where NumPy does (its ufunc raises TypeError)."""

    def rule(*dtypes):
        if all(d == "bool" for d in dtypes):
            raise TypeError(f"{name} of booleans is not supported (as in NumPy); {hint}")
        return upcast_out(*dtypes)

    return staticmethod(rule)


def _real_only(rule):
    """``rule`` for ops NumPy / SciPy define on real numbers only (their ufunc raises TypeError)."""

    def typed(*dtypes):
        bad = [d for d in dtypes if d.startswith("complex")]
        if bad:
            raise TypeError(f"not defined for complex inputs (as in NumPy / SciPy), got {bad[0]}")
        return rule(*dtypes)

    return staticmethod(typed)


def _is_discrete(var):
    return var.type.dtype in DISCRETE_DTYPES


class ScalarOp(Op):
    """Base class: ``nin`` inputs, ``nout`` outputs, computed by ``nfunc``."""

    nin = 1
    nout = 1
    nfunc = None
    output_dtypes = staticmethod(upcast_out)
    # For commutative / associative ops the rewrite system can reorder inputs.
    commutative = False
    associative = False
    # Variadic ops (add, mul) accept any number >= 2 of inputs.
    variadic = False

    @property
    def name(self):
        return type(self).__name__.lower()

    def __str__(self):
        return self.name

    def elemwise_name(self):
        """The name of Elemwise(self) in dprint: ``Log1p``, ``True_div``."""
        return self.name.capitalize()

    def make_node(self, *inputs):
        inputs = [as_scalar(i) for i in inputs]
        if not self.variadic and len(inputs) != self.nin:
            raise TypeError(f"{self.name} takes {self.nin} inputs, got {len(inputs)}")
        if self.variadic and len(inputs) < 1:
            raise TypeError(f"{self.name} needs at least one input")
        dtypes = self.output_dtypes(*[i.type.dtype for i in inputs])
        outputs = [get_scalar_type(d).make_variable() for d in dtypes]
        return Apply(self, inputs, outputs)

    def impl(self, *args):
        return self.nfunc(*args)

    def perform(self, node, inputs, output_storage):
        results = self.impl(*inputs)
        if self.nout == 1:
            results = (results,)
        for storage, value, out in zip(output_storage, results, node.outputs):
            storage[0] = np.asarray(value, dtype=out.type.dtype)[()]

    def pullback(self, inputs, outputs, output_grads):
        raise NotImplementedError(f"the gradient of {self.name} is not implemented")


class UnaryScalarOp(ScalarOp):
    nin = 1


class BinaryScalarOp(ScalarOp):
    nin = 2


def _as_float_args(op, args):
    """Integer arguments converted to the op's float output dtype before computing.

    NumPy would pick its own float type (float16 for uint8: exp(uint8(1)) = 2.719),
    and the Numba kernels compute in the output dtype or wider.
    """
    arrays = [np.asarray(a) for a in args]
    if all(a.dtype.kind in "fc" for a in arrays):
        return args
    (dtype,) = op.output_dtypes(*[a.dtype.name for a in arrays])
    return [a if a.dtype.kind in "fc" else a.astype(dtype) for a in arrays]


class FloatUnaryOp(UnaryScalarOp):
    output_dtypes = staticmethod(upgrade_to_float)

    def impl(self, *args):
        return self.nfunc(*_as_float_args(self, args))


class FloatBinaryOp(BinaryScalarOp):
    output_dtypes = staticmethod(upgrade_to_float)

    def impl(self, *args):
        return self.nfunc(*_as_float_args(self, args))


class ComparisonOp(BinaryScalarOp):
    output_dtypes = staticmethod(bool_out)

    def pullback(self, inputs, outputs, output_grads):
        return [None, None]


# -- arithmetic --------------------------------------------------------------
class Add(ScalarOp):
    variadic = True
    commutative = associative = True
    nin = -1

    def impl(self, *args):
        result = args[0]
        for a in args[1:]:
            result = result + a
        return result

    def pullback(self, inputs, outputs, output_grads):
        (gz,) = output_grads
        return [gz for _ in inputs]


class Mul(ScalarOp):
    variadic = True
    commutative = associative = True
    nin = -1

    def impl(self, *args):
        result = args[0]
        for a in args[1:]:
            result = result * a
        return result

    def pullback(self, inputs, outputs, output_grads):
        (gz,) = output_grads
        tm = _tm()
        grads = []
        for i in range(len(inputs)):
            others = inputs[:i] + inputs[i + 1:]
            grads.append(tm.mul(gz, *others) if others else gz)
        return grads


class Sub(BinaryScalarOp):
    nfunc = staticmethod(np.subtract)
    output_dtypes = _not_on_bool("sub", "use xor / neq, or cast to an integer first")

    def pullback(self, inputs, outputs, output_grads):
        (gz,) = output_grads
        return [gz, -gz]


class True_div(BinaryScalarOp):
    output_dtypes = staticmethod(upgrade_to_float)

    @staticmethod
    def nfunc(a, b):
        return np.true_divide(a, b)

    def pullback(self, inputs, outputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        return [gz / y, -(gz * x) / (y * y)]


class Int_div(BinaryScalarOp):
    nfunc = staticmethod(np.floor_divide)
    output_dtypes = _real_only(upcast_out)

    def pullback(self, inputs, outputs, output_grads):
        return [None, None]


class Mod(BinaryScalarOp):
    nfunc = staticmethod(np.mod)
    output_dtypes = _real_only(upcast_out)

    def pullback(self, inputs, outputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        return [gz, -gz * _tm().int_div(x, y)]


class Pow(BinaryScalarOp):
    nfunc = staticmethod(np.power)

    def pullback(self, inputs, outputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        tm = _tm()
        gx = gz * y * x ** (y - 1)
        gy = None if _is_discrete(y) else gz * outputs[0] * tm.log(tm.switch(tm.eq(x, 0), 1, x))
        return [gx, gy]


class Neg(UnaryScalarOp):
    nfunc = staticmethod(np.negative)
    output_dtypes = _not_on_bool("neg", "use invert (~) or logical_not")

    def pullback(self, inputs, outputs, output_grads):
        return [-output_grads[0]]


class Abs(UnaryScalarOp):
    nfunc = staticmethod(np.abs)
    output_dtypes = staticmethod(same_out)

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] * _tm().sign(inputs[0])]


class Sign(UnaryScalarOp):
    nfunc = staticmethod(np.sign)
    output_dtypes = _not_on_bool("sign", "cast to an integer first")

    def pullback(self, inputs, outputs, output_grads):
        return [_tm().zeros_like(inputs[0], dtype=outputs[0].type.dtype)]


class Sqr(UnaryScalarOp):
    nfunc = staticmethod(np.square)

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] * 2 * inputs[0]]


class Reciprocal(FloatUnaryOp):
    nfunc = staticmethod(np.reciprocal)

    def impl(self, x):
        return np.true_divide(1.0, x)

    def pullback(self, inputs, outputs, output_grads):
        return [-output_grads[0] / (inputs[0] * inputs[0])]


class _ExtremumOp(BinaryScalarOp):
    commutative = True

    def pullback(self, inputs, outputs, output_grads):
        # The larger (smaller) argument gets the gradient; at a tie x == y it is
        # split evenly, half to each: a valid subgradient (the mean of the two
        # one-sided ones, what central differences measure), and maximum(a, a)
        # has gradient 1, not 2 (PyTensor gives each tied argument the full
        # gradient).  A NaN argument passes no gradient to either.
        x, y = inputs
        (gz,) = output_grads
        tm = _tm()
        wins = tm.gt(x, y) if isinstance(self, Maximum) else tm.lt(x, y)
        loses = tm.lt(x, y) if isinstance(self, Maximum) else tm.gt(x, y)
        half = gz * 0.5
        tie = tm.eq(x, y)
        return [tm.switch(tie, half, gz * wins), tm.switch(tie, half, gz * loses)]


class Maximum(_ExtremumOp):
    nfunc = staticmethod(np.maximum)


class Minimum(_ExtremumOp):
    nfunc = staticmethod(np.minimum)


class Clip(ScalarOp):
    nin = 3
    nfunc = staticmethod(np.clip)

    def impl(self, x, lo, hi):
        return np.minimum(np.maximum(x, lo), hi)

    def pullback(self, inputs, outputs, output_grads):
        x, lo, hi = inputs
        (gz,) = output_grads
        tm = _tm()
        inside = tm.and_(tm.ge(x, lo), tm.le(x, hi))
        return [gz * inside, gz * tm.lt(x, lo), gz * tm.gt(x, hi)]


class Switch(ScalarOp):
    nin = 3

    @staticmethod
    def output_dtypes(c, a, b):
        return (upcast(a, b),)

    @staticmethod
    def nfunc(c, a, b):
        return np.where(c, a, b)

    def pullback(self, inputs, outputs, output_grads):
        c, a, b = inputs
        (gz,) = output_grads
        tm = _tm()
        zeros = tm.zeros_like(gz)
        return [None, tm.switch(c, gz, zeros), tm.switch(c, zeros, gz)]


class Second(BinaryScalarOp):
    """Keep the second input after broadcasting it against the first."""

    @staticmethod
    def output_dtypes(a, b):
        return (b,)

    @staticmethod
    def nfunc(a, b):
        return np.broadcast_arrays(a, b)[1].copy()

    def pullback(self, inputs, outputs, output_grads):
        return [None, output_grads[0]]


class Identity(UnaryScalarOp):
    output_dtypes = staticmethod(same_out)

    @staticmethod
    def nfunc(x):
        return np.array(x, copy=True)

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0]]


class Cast(UnaryScalarOp):
    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype).name

    @property
    def name(self):
        return f"Cast{{{self.dtype}}}"

    def elemwise_name(self):
        return self.name

    def output_dtypes(self, x):
        return (self.dtype,)

    def impl(self, x):
        return np.asarray(x).astype(self.dtype)

    def pullback(self, inputs, outputs, output_grads):
        if _is_discrete(inputs[0]) or _is_discrete(outputs[0]):
            return [None]
        return [_tm().cast(output_grads[0], inputs[0].type.dtype)]


# -- comparisons and logic ---------------------------------------------------
class LT(ComparisonOp):
    nfunc = staticmethod(np.less)


class GT(ComparisonOp):
    nfunc = staticmethod(np.greater)


class LE(ComparisonOp):
    nfunc = staticmethod(np.less_equal)


class GE(ComparisonOp):
    nfunc = staticmethod(np.greater_equal)


class EQ(ComparisonOp):
    nfunc = staticmethod(np.equal)
    commutative = True


class NEQ(ComparisonOp):
    nfunc = staticmethod(np.not_equal)
    commutative = True


class IsNan(UnaryScalarOp):
    nfunc = staticmethod(np.isnan)
    output_dtypes = staticmethod(bool_out)

    def pullback(self, inputs, outputs, output_grads):
        return [None]


class IsInf(UnaryScalarOp):
    nfunc = staticmethod(np.isinf)
    output_dtypes = staticmethod(bool_out)

    def pullback(self, inputs, outputs, output_grads):
        return [None]


class _BitwiseOp(BinaryScalarOp):
    commutative = associative = True

    def output_dtypes(self, *dtypes):
        bad = [d for d in dtypes if d not in DISCRETE_DTYPES]
        if bad:
            raise TypeError(f"{self.name} needs boolean or integer inputs, got {bad[0]}")
        return upcast_out(*dtypes)

    def pullback(self, inputs, outputs, output_grads):
        return [None] * len(inputs)


class AND(_BitwiseOp):
    nfunc = staticmethod(np.bitwise_and)

    @property
    def name(self):
        return "and_"


class OR(_BitwiseOp):
    nfunc = staticmethod(np.bitwise_or)

    @property
    def name(self):
        return "or_"


class XOR(_BitwiseOp):
    nfunc = staticmethod(np.bitwise_xor)


def _discrete_same_out(dtype):
    if dtype not in DISCRETE_DTYPES:
        raise TypeError(f"invert needs boolean or integer inputs, got {dtype} (as in NumPy); "
                        "for a logical not of floats use logical_not")
    return (dtype,)


class Invert(UnaryScalarOp):
    nfunc = staticmethod(np.invert)
    output_dtypes = staticmethod(_discrete_same_out)

    def pullback(self, inputs, outputs, output_grads):
        return [None]


# -- rounding ----------------------------------------------------------------
class _RoundingOp(FloatUnaryOp):
    def pullback(self, inputs, outputs, output_grads):
        return [_tm().zeros_like(inputs[0], dtype=outputs[0].type.dtype)]


class Floor(_RoundingOp):
    nfunc = staticmethod(np.floor)
    output_dtypes = _real_only(upgrade_to_float)


class Ceil(_RoundingOp):
    nfunc = staticmethod(np.ceil)
    output_dtypes = _real_only(upgrade_to_float)


class Round_half_to_even(_RoundingOp):
    nfunc = staticmethod(np.round)


# -- exponentials and logarithms ---------------------------------------------
class Exp(FloatUnaryOp):
    nfunc = staticmethod(np.exp)

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] * outputs[0]]


class Exp2(FloatUnaryOp):
    nfunc = staticmethod(np.exp2)

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] * outputs[0] * np.log(2.0)]


class Expm1(FloatUnaryOp):
    nfunc = staticmethod(np.expm1)

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] * _tm().exp(inputs[0])]


class Log(FloatUnaryOp):
    nfunc = staticmethod(np.log)

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] / inputs[0]]


class Log2(FloatUnaryOp):
    nfunc = staticmethod(np.log2)

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] / (inputs[0] * np.log(2.0))]


class Log10(FloatUnaryOp):
    nfunc = staticmethod(np.log10)

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] / (inputs[0] * np.log(10.0))]


class Log1p(FloatUnaryOp):
    nfunc = staticmethod(np.log1p)

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] / (1 + inputs[0])]


def _log1mexp(x):
    x = np.asarray(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x < -np.log(2.0), np.log1p(-np.exp(x)), np.log(-np.expm1(x)))


class Log1mexp(FloatUnaryOp):
    """log(1 - exp(x)), accurate for x near 0 and very negative x."""

    nfunc = staticmethod(_log1mexp)

    def pullback(self, inputs, outputs, output_grads):
        # d/dx log(1 - e^x) = -1 / (e^-x - 1) = -1 / expm1(-x), which tends to -inf
        # as x -> 0- (PyTensor's value at 0).  At x = +-0 expm1(-x) is a signed zero
        # (-0.0 for x = +0.0 would give +inf): the denominator there is +0.0.
        tm = _tm()
        x = inputs[0]
        return [-output_grads[0] / tm.switch(tm.eq(x, 0), 0.0, tm.expm1(-x))]


class Sqrt(FloatUnaryOp):
    nfunc = staticmethod(np.sqrt)

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] / (2 * outputs[0])]


# -- trigonometry ------------------------------------------------------------
class Sin(FloatUnaryOp):
    nfunc = staticmethod(np.sin)

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] * _tm().cos(inputs[0])]


class Cos(FloatUnaryOp):
    nfunc = staticmethod(np.cos)

    def pullback(self, inputs, outputs, output_grads):
        return [-output_grads[0] * _tm().sin(inputs[0])]


class Tan(FloatUnaryOp):
    nfunc = staticmethod(np.tan)

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] * (1 + outputs[0] * outputs[0])]


class Arcsin(FloatUnaryOp):
    nfunc = staticmethod(np.arcsin)

    def pullback(self, inputs, outputs, output_grads):
        x = inputs[0]
        return [output_grads[0] / _tm().sqrt(1 - x * x)]


class Arccos(FloatUnaryOp):
    nfunc = staticmethod(np.arccos)

    def pullback(self, inputs, outputs, output_grads):
        x = inputs[0]
        return [-output_grads[0] / _tm().sqrt(1 - x * x)]


class Arctan(FloatUnaryOp):
    nfunc = staticmethod(np.arctan)

    def pullback(self, inputs, outputs, output_grads):
        x = inputs[0]
        return [output_grads[0] / (1 + x * x)]


class Arctan2(FloatBinaryOp):
    output_dtypes = _real_only(upgrade_to_float)
    nfunc = staticmethod(np.arctan2)

    def pullback(self, inputs, outputs, output_grads):
        y, x = inputs
        (gz,) = output_grads
        denom = x * x + y * y
        return [gz * x / denom, -gz * y / denom]


class Sinh(FloatUnaryOp):
    nfunc = staticmethod(np.sinh)

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] * _tm().cosh(inputs[0])]


class Cosh(FloatUnaryOp):
    nfunc = staticmethod(np.cosh)

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] * _tm().sinh(inputs[0])]


class Tanh(FloatUnaryOp):
    nfunc = staticmethod(np.tanh)

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] * (1 - outputs[0] * outputs[0])]


class Arcsinh(FloatUnaryOp):
    nfunc = staticmethod(np.arcsinh)

    def pullback(self, inputs, outputs, output_grads):
        x = inputs[0]
        return [output_grads[0] / _tm().sqrt(x * x + 1)]


class Arccosh(FloatUnaryOp):
    nfunc = staticmethod(np.arccosh)

    def pullback(self, inputs, outputs, output_grads):
        x = inputs[0]
        return [output_grads[0] / _tm().sqrt(x * x - 1)]


class Arctanh(FloatUnaryOp):
    nfunc = staticmethod(np.arctanh)

    def pullback(self, inputs, outputs, output_grads):
        x = inputs[0]
        return [output_grads[0] / (1 - x * x)]


# -- special functions -------------------------------------------------------
def _sigmoid(x):
    # NumPy, not scipy.special.expit: importing scipy.special costs 0.3-1 s, which was
    # most of a logistic model's first result on the Python tier.  The Numba kernel's
    # formula (exp of -|x| only: no overflow), so both tiers agree down to subnormals.
    x = np.asarray(x)
    e = np.exp(-np.abs(x))
    d = 1.0 + e
    return np.where(x >= 0, 1.0 / d, e / d)


class Sigmoid(FloatUnaryOp):
    output_dtypes = _real_only(upgrade_to_float)
    nfunc = staticmethod(_sigmoid)

    def pullback(self, inputs, outputs, output_grads):
        s = outputs[0]
        return [output_grads[0] * s * (1 - s)]


def _softplus(x):
    x = np.asarray(x)
    return np.where(x > 0, x + np.log1p(np.exp(-np.abs(x))), np.log1p(np.exp(-np.abs(x))))


class Softplus(FloatUnaryOp):
    """log(1 + exp(x)), computed without overflow."""

    output_dtypes = _real_only(upgrade_to_float)
    nfunc = staticmethod(_softplus)

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] * _tm().sigmoid(inputs[0])]


class Erf(FloatUnaryOp):
    nfunc = staticmethod(_special("erf"))

    def pullback(self, inputs, outputs, output_grads):
        x = inputs[0]
        return [output_grads[0] * (2 / np.sqrt(np.pi)) * _tm().exp(-x * x)]


class Erfc(FloatUnaryOp):
    nfunc = staticmethod(_special("erfc"))

    def pullback(self, inputs, outputs, output_grads):
        x = inputs[0]
        return [-output_grads[0] * (2 / np.sqrt(np.pi)) * _tm().exp(-x * x)]


class Erfcx(FloatUnaryOp):
    """exp(x**2) * erfc(x)."""

    nfunc = staticmethod(_special("erfcx"))

    def pullback(self, inputs, outputs, output_grads):
        x = inputs[0]
        return [output_grads[0] * (2 * x * outputs[0] - 2 / np.sqrt(np.pi))]


class Erfinv(FloatUnaryOp):
    output_dtypes = _real_only(upgrade_to_float)
    nfunc = staticmethod(_special("erfinv"))

    def pullback(self, inputs, outputs, output_grads):
        y = outputs[0]
        return [output_grads[0] * (np.sqrt(np.pi) / 2) * _tm().exp(y * y)]


class Gammaln(FloatUnaryOp):
    output_dtypes = _real_only(upgrade_to_float)
    nfunc = staticmethod(_special("gammaln"))

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] * _tm().psi(inputs[0])]


class Psi(FloatUnaryOp):
    nfunc = staticmethod(_special("psi"))

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] * _tm().tri_gamma(inputs[0])]


class Tri_gamma(FloatUnaryOp):
    output_dtypes = _real_only(upgrade_to_float)
    @staticmethod
    def nfunc(x):
        return _special("polygamma")(1, x)

    def pullback(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.special import polygamma   # late: a cycle

        return [output_grads[0] * polygamma(2, inputs[0])]


class Gamma(FloatUnaryOp):
    nfunc = staticmethod(_special("gamma"))

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] * outputs[0] * _tm().psi(inputs[0])]


# Module-level singletons, the names scalar graphs are built from.
add, mul, sub, true_div, int_div, mod, pow = Add(), Mul(), Sub(), True_div(), Int_div(), Mod(), Pow()
neg, abs_, sign, sqr, reciprocal = Neg(), Abs(), Sign(), Sqr(), Reciprocal()
maximum, minimum, clip, switch, second, identity = Maximum(), Minimum(), Clip(), Switch(), Second(), Identity()
lt, gt, le, ge, eq, neq = LT(), GT(), LE(), GE(), EQ(), NEQ()
isnan, isinf, and_, or_, xor, invert = IsNan(), IsInf(), AND(), OR(), XOR(), Invert()
floor, ceil, round_half_to_even = Floor(), Ceil(), Round_half_to_even()
exp, exp2, expm1, log, log2, log10, log1p, log1mexp, sqrt = (
    Exp(), Exp2(), Expm1(), Log(), Log2(), Log10(), Log1p(), Log1mexp(), Sqrt())
sin, cos, tan, arcsin, arccos, arctan, arctan2 = Sin(), Cos(), Tan(), Arcsin(), Arccos(), Arctan(), Arctan2()
sinh, cosh, tanh, arcsinh, arccosh, arctanh = Sinh(), Cosh(), Tanh(), Arcsinh(), Arccosh(), Arctanh()
sigmoid, softplus, erf, erfc, erfcx, erfinv = Sigmoid(), Softplus(), Erf(), Erfc(), Erfcx(), Erfinv()
gammaln, psi, tri_gamma, gamma = Gammaln(), Psi(), Tri_gamma(), Gamma()

_cast_ops: dict = {}


def cast_op(dtype):
    dtype = np.dtype(dtype).name
    if dtype not in _cast_ops:
        _cast_ops[dtype] = Cast(dtype)
    return _cast_ops[dtype]


def is_scalar_var(x):
    return isinstance(x, Variable) and isinstance(x.type, ScalarType)


# The public names: everything defined here (PyTensor's module re-exports them).
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and getattr(_v, "__module__", None) == __name__]

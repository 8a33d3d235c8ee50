"""``import opgraph.scalar as ps``: scalar types and the elementwise vocabulary.

``ps.float64("x")`` is a symbolic scalar; ``x + 1``, ``x < y`` build scalar graphs.
"""

from opgraph.kernel_core.scalar.type import (  # noqa: F401
    ScalarConstant, ScalarType, ScalarVariable, as_scalar, bool_, float64, get_scalar_type, int8, int64,
    scalar_constant, upcast,
)
from opgraph.kernel_core.scalar.basic import (  # noqa: F401
    abs_, add, and_, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, cast_op, ceil, clip, cos,
    cosh, eq, erf, erfc, erfcx, erfinv, exp, exp2, expm1, floor, gamma, gammaln, ge, gt, identity, int_div,
    invert, isinf, isnan, le, log, log1mexp, log1p, log2, log10, lt, maximum, minimum, mod, mul, neg, neq,
    or_, pow, psi, reciprocal, round_half_to_even, second, sigmoid, sign, sin, sinh, softplus, sqr, sqrt,
    sub, switch, tan, tanh, tri_gamma, true_div, xor,
)
from opgraph.kernel_core.scalar.composite import Composite  # noqa: F401

from opgraph.kernel_core.scalar.type import SUPPORTED_DTYPES as _DTYPES

for _dt in _DTYPES:  # ps.float32, ps.uint8, ps.complex128, ...
    globals()[_dt if _dt != "bool" else "bool_"] = get_scalar_type(_dt)

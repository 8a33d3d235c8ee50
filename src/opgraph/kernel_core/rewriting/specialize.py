"""Specialization: replace general operations by cheaper special cases."""

from __future__ import annotations

from opgraph.kernel_core.rewriting.pattern import P, register_table
from opgraph.kernel_core.tensor import math as tm

x = P.var("x")

# name, pattern, replacement
TABLE = [
    ("pow_sqr", x ** 2, P.sqr(x)),
    ("pow_sqrt", x ** 0.5, P.sqrt(x)),
    ("pow_reciprocal", x ** -1, P.reciprocal(x)),
    ("pow_rsqrt", x ** -0.5, P.reciprocal(P.sqrt(x))),
    ("pow_one", x ** 1, x),
    ("pow_zero", x ** 0, lambda x: tm.ones_like(x)),
    ("div_reciprocal", 1 / x, P.reciprocal(x)),
    ("mul_sqr", x * x, P.sqr(x)),
]

register_table(TABLE, "specialize", "pow")

"""Invertible elementwise transformations of a random variable: the change-of-variables table.

``y = f(x)`` with ``x`` measurable (it depends on a random variable) and
``f`` invertible elementwise: ``logp_y(v) = logp_x(f^-1(v)) + log|d f^-1/dv|``.
Each rule, keyed by the scalar op's class, gets the node, the index of the
measurable input and the value ``v`` of the output, and returns
``(next_var, next_value, log_jacobian)``: the variable to continue the
derivation with (usually ``node.inputs[idx]``), the value it must take, and
the Jacobian term (0 when the map is a shift).  ``basic.py`` walks a chain of
them down to the random variable.  A rule returns ``None`` when the node is
not one it can invert (the caller then names the op in its error).
"""

from __future__ import annotations

from functools import singledispatch

import numpy as np

import opgraph.kernel_core.scalar.basic as ps
import opgraph.kernel_core.tensor.math as pm
from opgraph.kernel_core.graph.basic import Constant

__all__ = ["invert_elemwise", "SHIFT_OPS"]


@singledispatch
def invert_elemwise(scalar_op, node, idx, value):
    return None


# Maps that keep a discrete variable discrete (no Jacobian): allowed on integer variables.
SHIFT_OPS = (ps.Add, ps.Sub, ps.Neg, ps.Identity)


def _others(node, idx):
    return [v for i, v in enumerate(node.inputs) if i != idx]


@invert_elemwise.register(ps.Identity)
def _identity(op, node, idx, value):
    return node.inputs[idx], value, None


@invert_elemwise.register(ps.Add)
def _add(op, node, idx, value):
    shift = _others(node, idx)
    total = shift[0]
    for s in shift[1:]:
        total = total + s
    return node.inputs[idx], value - total, None


@invert_elemwise.register(ps.Sub)
def _sub(op, node, idx, value):
    a, b = node.inputs
    if idx == 0:                     # v = x - b
        return a, value + b, None
    return b, a - value, None        # v = a - x


@invert_elemwise.register(ps.Neg)
def _neg(op, node, idx, value):
    return node.inputs[0], -value, None


@invert_elemwise.register(ps.Mul)
def _mul(op, node, idx, value):
    scale = _others(node, idx)
    total = scale[0]
    for s in scale[1:]:
        total = total * s
    return node.inputs[idx], value / total, -pm.log(pm.abs(total))


@invert_elemwise.register(ps.True_div)
def _true_div(op, node, idx, value):
    a, b = node.inputs
    if idx == 0:                     # v = x / b
        return a, value * b, pm.log(pm.abs(b))
    # v = a / x  ->  x = a / v, |dx/dv| = |a| / v^2
    return b, a / value, pm.log(pm.abs(a)) - 2.0 * pm.log(pm.abs(value))


@invert_elemwise.register(ps.Exp)
def _exp(op, node, idx, value):
    # v = exp(x) -> x = log(v), log|dx/dv| = -log(v); v <= 0 gives log of a non-positive
    # number, so the support is made explicit (-inf, not NaN).
    pos = pm.gt(value, 0.0)
    safe = pm.switch(pos, value, 1.0)
    return node.inputs[0], pm.log(safe), pm.switch(pos, -pm.log(safe), -np.inf)


@invert_elemwise.register(ps.Log)
def _log(op, node, idx, value):
    inner = node.inputs[0]
    logit_of = _logit_argument(inner)
    if logit_of is not None:
        # v = log(x / (1 - x)) = logit(x) -> x = sigmoid(v), log|dx/dv| = -softplus(-v) - softplus(v)
        return logit_of, pm.sigmoid(value), -pm.softplus(-value) - pm.softplus(value)
    # v = log(x) -> x = exp(v), log|dx/dv| = v
    return inner, pm.exp(value), value


@invert_elemwise.register(ps.Sigmoid)
def _sigmoid(op, node, idx, value):
    # v = sigmoid(x) -> x = logit(v), log|dx/dv| = -log(v) - log1p(-v)
    inside = pm.and_(pm.gt(value, 0.0), pm.lt(value, 1.0))
    safe = pm.switch(inside, value, 0.5)
    x = pm.log(safe) - pm.log1p(-safe)
    return node.inputs[0], x, pm.switch(inside, -pm.log(safe) - pm.log1p(-safe), -np.inf)


def _logit_argument(var):
    """``x`` when ``var`` is ``x / (1 - x)`` (``pt.special.logit``'s graph), else None."""
    node = var.owner
    if node is None or not hasattr(node.op, "scalar_op") or not isinstance(node.op.scalar_op, ps.True_div):
        return None
    num, den = node.inputs
    d = den.owner
    if d is None or not hasattr(d.op, "scalar_op") or not isinstance(d.op.scalar_op, ps.Sub):
        return None
    one, x = d.inputs
    if x is not num:
        return None
    while one.owner is not None and type(one.owner.op).__name__ == "DimShuffle":
        one = one.owner.inputs[0]
    if not isinstance(one, Constant) or not np.all(np.asarray(one.data) == 1):
        return None
    return num

"""Stabilization: rewrite formulas that overflow or lose precision into stable ones.

Read the table as identities; each right side is finite and accurate where
the left side is not (``log(1 + 1e-20)``, ``log(1 + exp(800))``,
``log(sigmoid(-800))``).  The stable ``logsumexp`` needs reductions, so it is
a rule with code.
"""

from __future__ import annotations

from opgraph.kernel_core.rewriting.db import node_rewriter, register_rewrite
from opgraph.kernel_core.rewriting.pattern import P, register_table
from opgraph.kernel_core.scalar import basic as ps
from opgraph.kernel_core.tensor import math as tm
from opgraph.kernel_core.tensor.elemwise import DimShuffle, Elemwise, expand_dims

x = P.var("x")

# name, pattern, replacement
TABLE = [
    ("log1p", P.log(1 + x), P.log1p(x)),
    ("softplus", P.log1p(P.exp(x)), P.softplus(x)),
    ("log1mexp", P.log(1 - P.exp(x)), P.log1mexp(x)),
    ("log1p_neg_exp", P.log1p(-P.exp(x)), P.log1mexp(x)),
    ("log_neg_expm1", P.log(-P.expm1(x)), P.log1mexp(x)),
    ("log_sigmoid", P.log(P.sigmoid(x)), -P.softplus(-x)),
    ("log1m_sigmoid", P.log(1 - P.sigmoid(x)), -P.softplus(x)),
    ("log1p_neg_sigmoid", P.log1p(-P.sigmoid(x)), -P.softplus(x)),
    ("one_minus_sigmoid", 1 - P.sigmoid(x), P.sigmoid(-x)),
    ("expm1", P.exp(x) - 1, P.expm1(x)),
    ("expm1_add", -1 + P.exp(x), P.expm1(x)),
]

register_table(TABLE, "stabilize", "stability")


def _sum_of_exp(var):
    """(x, axis) when ``var`` is Sum(Exp(x)), else None."""
    from opgraph.kernel_core.tensor.reduction import Sum

    node = var.owner
    if node is None or not isinstance(node.op, Sum):
        return None
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, Elemwise) or not isinstance(inner.op.scalar_op, ps.Exp):
        return None
    return inner.inputs[0], node.op.axis


@node_rewriter([Elemwise(ps.log)])
def logsumexp_stable(fgraph, node):
    """log(sum(exp(x), axis)) -> m + log(sum(exp(x - m), axis)) with m = max(x, axis)
    (m replaced by 0 where it is infinite, so all -inf slices stay -inf)."""
    from opgraph.kernel_core.tensor import reduction as red

    if node.tag.get("stable_logsumexp"):
        return None  # the log inside our own replacement
    (arg,) = node.inputs
    expand = None
    if arg.owner is not None and isinstance(arg.owner.op, DimShuffle) and arg.owner.op.is_expand_dims:
        expand, arg = arg.owner.op, arg.owner.inputs[0]  # keepdims=True form
    found = _sum_of_exp(arg)
    if found is None:
        return None
    x, axis = found
    if not x.type.dtype.startswith("float"):
        return None
    m = red.max(x, axis=axis)
    m = tm.switch(tm.isinf(m), tm.zeros_like(m), m)
    reduced = tuple(range(x.type.ndim)) if axis is None else axis
    m_keep = expand_dims(m, reduced) if reduced else m
    inner_log = tm.log(red.sum(tm.exp(x - m_keep), axis=axis))
    inner_log.owner.tag.stable_logsumexp = True
    out = tm.add(m, inner_log)
    if expand is not None:
        out = expand(out)
    return [out]


register_rewrite(logsumexp_stable, "stabilize", "stability")

"""Stabilization rules for ``pt.special``: ``log(softmax(x)) -> log_softmax(x)``.

``log`` of a softmax that underflowed to 0 is ``-inf`` (and its gradient nan);
``LogSoftmax`` computes the same value as ``x - max - log(sum(exp(x - max)))``,
finite wherever ``x`` is.
"""

from __future__ import annotations

from opgraph.kernel_core.rewriting.pattern import P, register_table
from opgraph.kernel_core.tensor.special import LogSoftmax, Softmax


def _is_softmax(var):
    return var.owner is not None and isinstance(var.owner.op, Softmax)


def _log_softmax_of(s):
    node = s.owner
    return LogSoftmax(node.op.axis)(node.inputs[0])


s = P.var("s", when=_is_softmax)

# name, pattern, replacement
TABLE = [
    ("log_softmax", P.log(s), _log_softmax_of),
]

register_table(TABLE, "stabilize", "stability")

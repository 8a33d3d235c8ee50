"""Training -> inference rewrites (tag ``inference``) and ``to_inference(graph)``.

* ``Dropout(x, mask)`` -> ``x`` (a table row): the mask's draw loses its only
  client, so the draw and its generator update are gone from a function
  compiled on the result.
* ``BatchNorm`` (batch statistics) -> the running-statistics form, the graph
  ``batch_norm(..., training=False)`` builds (a rule with code: it reads the op's
  ``epsilon``).

The rules are not in any compilation phase: a training graph compiles as written,
and ``to_inference`` (or ``rewrite_graph(..., include=("inference",))``) turns it
into the prediction graph before ``function``.
"""

from __future__ import annotations

from opgraph.kernel_core.rewriting.db import node_rewriter, register_rewrite
from opgraph.kernel_core.rewriting.pattern import P, register_table
from opgraph.kernel_core.tensor.nnet.dropout import Dropout
from opgraph.kernel_core.tensor.nnet.normalization import BatchNorm, batch_norm

x, mask = P.var("x"), P.var("mask")

# name, pattern, replacement
TABLE = [
    ("dropout_to_identity", P.op(Dropout, x, mask), x),
]

register_table(TABLE, "inference")


@node_rewriter([BatchNorm], name="batch_norm_running_statistics")
def batch_norm_running_statistics(fgraph, node):
    """BatchNorm(x, gamma, beta, running_mean, running_var) -> the running statistics' form."""
    x_, gamma, beta, running_mean, running_var = node.inputs
    return [batch_norm(x_, gamma, beta, running_mean, running_var, training=False, epsilon=node.op.epsilon)]


register_rewrite(batch_norm_running_statistics, "inference")


def to_inference(graph):
    """The inference form of ``graph`` (a variable or a list of them): dropout
    removed, batch normalization on its running statistics.  A new graph; ``graph``
    is not changed."""
    from opgraph.kernel_core.rewriting.api import rewrite_graph

    return rewrite_graph(graph, include=("inference",))


__all__ = ["to_inference", "batch_norm_running_statistics", "TABLE"]

"""Gradient markers leave compiled graphs.

``consider_constant``, ``zero_grad``, ``disconnected_grad``, ``grad_clip`` and ``grad_scale``
only mean something to ``grad``; in the forward pass each is an identity view.  Once a graph
is compiled its gradients have been taken, so the markers are dropped at specialize: left in,
each is one more node between two elementwise ops that keeps them from fusing (and, inside a
scan step, one more kernel call per step).  Specialize runs after stabilize, so a pattern the
stabilizer matched across a marker (the max shift of logprob's logsumexp) is never re-matched.
"""

from __future__ import annotations

from opgraph.kernel_core.gradient import GradientMarker
from opgraph.kernel_core.rewriting.db import node_rewriter, register_rewrite


@node_rewriter([GradientMarker])
def local_remove_gradient_marker(fgraph, node):
    """marker(x) -> x (the forward value is x)."""
    return [node.inputs[0]]


register_rewrite(local_remove_gradient_marker, "specialize", "fast_run", name="local_remove_gradient_marker")

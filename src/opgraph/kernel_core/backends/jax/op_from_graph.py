"""OpFromGraph in the JAX backend: its inner graph as one function, traced in place.

The inner graph goes through ``jax_funcify_fgraph`` like the outer one, so a call
costs nothing once jitted (JAX inlines it).  The nnet layers ``Dropout`` and
``BatchNorm`` are OpFromGraph subclasses and use this implementation.
"""

from __future__ import annotations

from opgraph.kernel_core.backends.jax.dispatch import jax_funcify, jax_funcify_fgraph
from opgraph.kernel_core.compile.builders import OpFromGraph
from opgraph.kernel_core.graph.fgraph import FunctionGraph


def inner_function(inner_inputs, inner_outputs, **kwargs):
    """``fn(*inputs) -> tuple of outputs`` for an inner graph (a private copy of it)."""
    return jax_funcify_fgraph(FunctionGraph(inner_inputs, inner_outputs, clone=True), **kwargs)


@jax_funcify.register(OpFromGraph)
def jax_funcify_op_from_graph(op, node, **kwargs):
    fn = inner_function(op.inner_inputs, op.inner_outputs, **kwargs)
    single = len(node.outputs) == 1

    def op_from_graph(*args):
        outs = fn(*args)
        return outs[0] if single else outs

    return op_from_graph

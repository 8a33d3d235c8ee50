"""The nnet layers in the JAX backend.

``Dropout`` and ``BatchNorm`` are OpFromGraph subclasses (inline; a node survives
only when the graph is compiled without rewrites): their inner graph is traced
like any OpFromGraph's (``op_from_graph.py``), registered here by name so the
coverage check sees them.  Dropout's mask is a ``bernoulli`` draw in the outer
graph (``random.py``); relu, gelu, layer_norm and attention build ordinary
graphs.
"""

from __future__ import annotations

from opgraph.kernel_core.backends.jax.dispatch import jax_funcify
from opgraph.kernel_core.backends.jax.op_from_graph import jax_funcify_op_from_graph
from opgraph.kernel_core.tensor.nnet.dropout import Dropout
from opgraph.kernel_core.tensor.nnet.normalization import BatchNorm

jax_funcify.register(Dropout)(jax_funcify_op_from_graph)
jax_funcify.register(BatchNorm)(jax_funcify_op_from_graph)

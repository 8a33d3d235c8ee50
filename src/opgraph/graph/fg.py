"""``opgraph.graph.fg``: PyTensor's ``pytensor.graph.fg``: FunctionGraph.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_graph_fgraph = import_module("opgraph.kernel_core.graph.fgraph")
from opgraph.kernel_core.graph.fgraph import *  # noqa: F401,F403

__all__ = [*_graph_fgraph.__all__]
__getattr__ = missing_names(__name__)

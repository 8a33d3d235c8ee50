"""``opgraph.graph.traversal``: PyTensor's ``pytensor.graph.traversal`` (all iterative).

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_graph_traversal = import_module("opgraph.kernel_core.graph.traversal")
from opgraph.kernel_core.graph.traversal import *  # noqa: F401,F403

__all__ = [*_graph_traversal.__all__]
__getattr__ = missing_names(__name__)

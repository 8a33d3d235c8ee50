"""``opgraph.graph.replace``: PyTensor's ``pytensor.graph.replace``: functional replacement and vectorization.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_graph_replace = import_module("opgraph.kernel_core.graph.replace")
from opgraph.kernel_core.graph.replace import *  # noqa: F401,F403

__all__ = [*_graph_replace.__all__]
__getattr__ = missing_names(__name__)

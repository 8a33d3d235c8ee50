"""``opgraph.graph.type``: PyTensor's ``pytensor.graph.type``.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_graph_type = import_module("opgraph.kernel_core.graph.type")
from opgraph.kernel_core.graph.type import *  # noqa: F401,F403

__all__ = [*_graph_type.__all__]
__getattr__ = missing_names(__name__)

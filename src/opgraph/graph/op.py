"""``opgraph.graph.op``: PyTensor's ``pytensor.graph.op``.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_graph_op = import_module("opgraph.kernel_core.graph.op")
from opgraph.kernel_core.graph.op import *  # noqa: F401,F403

__all__ = [*_graph_op.__all__]
__getattr__ = missing_names(__name__)

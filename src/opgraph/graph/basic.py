"""``opgraph.graph.basic``: PyTensor's ``pytensor.graph.basic``: Variable, Constant, Apply.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_graph_basic = import_module("opgraph.kernel_core.graph.basic")
from opgraph.kernel_core.graph.basic import *  # noqa: F401,F403

__all__ = [*_graph_basic.__all__]
__getattr__ = missing_names(__name__)

"""``opgraph.printing`` (PyTensor's ``pytensor.printing``): text and graphical views of
graphs, re-exported from the engine."""

from importlib import import_module

from opgraph._pytensor_api import missing_names

_dprint = import_module("opgraph.kernel_core.printing.dprint")
_graphviz = import_module("opgraph.kernel_core.printing.graphviz")
_pretty = import_module("opgraph.kernel_core.printing.pretty")
from opgraph.kernel_core.printing.dprint import *  # noqa: F401,F403,E402
from opgraph.kernel_core.printing.graphviz import *  # noqa: F401,F403,E402
from opgraph.kernel_core.printing.pretty import *  # noqa: F401,F403,E402

__all__ = [*_dprint.__all__, *_graphviz.__all__, *_pretty.__all__]
__getattr__ = missing_names(__name__)

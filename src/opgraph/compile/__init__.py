"""``opgraph.compile`` (PyTensor's ``pytensor.compile``): function, In/Out, shared
variables, modes, profiling and OpFromGraph, re-exported from the engine."""

from importlib import import_module

from opgraph._pytensor_api import missing_names

_engine = import_module("opgraph.kernel_core.compile")
_builders = import_module("opgraph.kernel_core.compile.builders")
from opgraph.kernel_core.compile import *  # noqa: F401,F403,E402
from opgraph.kernel_core.compile.builders import *  # noqa: F401,F403,E402

__all__ = [*_engine.__all__, *_builders.__all__]
__getattr__ = missing_names(__name__)

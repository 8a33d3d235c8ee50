"""``opgraph.tensor.random`` (``pt.random``): random variables, PyTensor's module path.

A re-export of the engine room ``opgraph.kernel_core.tensor.random``."""

from importlib import import_module

from opgraph._pytensor_api import missing_names

_engine = import_module("opgraph.kernel_core.tensor.random")
from opgraph.kernel_core.tensor.random import *  # noqa: F401,F403,E402
from opgraph.kernel_core.tensor.random import basic, op, type, utils  # noqa: F401,E402

__all__ = list(_engine.__all__)
__getattr__ = missing_names(__name__)

"""``opgraph.tensor.random`` (``pt.random``): random variables, PyTensor's module path.

A re-export of the engine room ``opgraph.kernel_core.tensor.random``; its submodules
(``basic``, ``op``, ``type``, ``utils``) are importable here as in PyTensor
(``from opgraph.tensor.random.utils import RandomStream``)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names

_engine = import_module("opgraph.kernel_core.tensor.random")
from opgraph.kernel_core.tensor.random import *  # noqa: F401,F403,E402
from opgraph.tensor.random import basic, op, type, utils  # noqa: F401,E402

__all__ = list(_engine.__all__)
__getattr__ = missing_names(__name__)

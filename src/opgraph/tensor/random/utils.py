"""``opgraph.tensor.random.utils``: PyTensor's module path for the engine's ``tensor.random.utils``."""

from importlib import import_module

_engine = import_module("opgraph.kernel_core.tensor.random.utils")
from opgraph.kernel_core.tensor.random.utils import *  # noqa: F401,F403,E402

__all__ = list(_engine.__all__)

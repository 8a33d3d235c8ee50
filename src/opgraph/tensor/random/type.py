"""``opgraph.tensor.random.type``: PyTensor's module path for the engine's ``tensor.random.type``."""

from importlib import import_module

_engine = import_module("opgraph.kernel_core.tensor.random.type")
from opgraph.kernel_core.tensor.random.type import *  # noqa: F401,F403,E402

__all__ = list(_engine.__all__)

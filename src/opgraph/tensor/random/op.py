"""``opgraph.tensor.random.op``: PyTensor's module path for the engine's ``tensor.random.op``."""

from importlib import import_module

_engine = import_module("opgraph.kernel_core.tensor.random.op")
from opgraph.kernel_core.tensor.random.op import *  # noqa: F401,F403,E402

__all__ = list(_engine.__all__)

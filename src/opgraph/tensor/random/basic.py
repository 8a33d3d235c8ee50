"""``opgraph.tensor.random.basic``: PyTensor's module path for the engine's ``tensor.random.basic``."""

from importlib import import_module

_engine = import_module("opgraph.kernel_core.tensor.random.basic")
from opgraph.kernel_core.tensor.random.basic import *  # noqa: F401,F403,E402

__all__ = list(_engine.__all__)

"""``opgraph.compile.io``: PyTensor's ``pytensor.compile.io``: In / Out.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_compile_io = import_module("opgraph.kernel_core.compile.io")
from opgraph.kernel_core.compile.io import *  # noqa: F401,F403

__all__ = [*_compile_io.__all__]
__getattr__ = missing_names(__name__)

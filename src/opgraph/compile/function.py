"""``opgraph.compile.function``: PyTensor's ``pytensor.compile.function``.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_compile_function = import_module("opgraph.kernel_core.compile.function")
from opgraph.kernel_core.compile.function import *  # noqa: F401,F403

__all__ = [*_compile_function.__all__]
__getattr__ = missing_names(__name__)

"""``opgraph.compile.profiling``: PyTensor's ``pytensor.compile.profiling``.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_compile_profiling = import_module("opgraph.kernel_core.compile.profiling")
from opgraph.kernel_core.compile.profiling import *  # noqa: F401,F403

__all__ = [*_compile_profiling.__all__]
__getattr__ = missing_names(__name__)

"""``opgraph.compile.sharedvalue``: PyTensor's ``pytensor.compile.sharedvalue``.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_compile_shared = import_module("opgraph.kernel_core.compile.shared")
from opgraph.kernel_core.compile.shared import *  # noqa: F401,F403

__all__ = [*_compile_shared.__all__]
__getattr__ = missing_names(__name__)

"""``opgraph.link.numba``: PyTensor's ``pytensor.link.numba``: the Numba backend.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_backends_numba_linker = import_module("opgraph.kernel_core.backends.numba.linker")
from opgraph.kernel_core.backends.numba.linker import *  # noqa: F401,F403

__all__ = [*_backends_numba_linker.__all__]
__getattr__ = missing_names(__name__)

from opgraph.link.numba import dispatch  # noqa: E402,F401

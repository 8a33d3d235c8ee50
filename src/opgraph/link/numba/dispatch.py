"""``opgraph.link.numba.dispatch``: PyTensor's ``pytensor.link.numba.dispatch``: per-Op Numba implementations.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_backends_numba_dispatch = import_module("opgraph.kernel_core.backends.numba.dispatch")
from opgraph.kernel_core.backends.numba.dispatch import *  # noqa: F401,F403

__all__ = [*_backends_numba_dispatch.__all__]
__getattr__ = missing_names(__name__)

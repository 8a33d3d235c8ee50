"""``opgraph.gradient``: PyTensor's ``pytensor.gradient``: symbolic differentiation.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_gradient = import_module("opgraph.kernel_core.gradient")
from opgraph.kernel_core.gradient import *  # noqa: F401,F403

__all__ = [*_gradient.__all__]
__getattr__ = missing_names(__name__)

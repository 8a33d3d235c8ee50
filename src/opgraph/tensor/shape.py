"""``opgraph.tensor.shape``: PyTensor's ``pytensor.tensor.shape``.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_tensor_shape = import_module("opgraph.kernel_core.tensor.shape")
from opgraph.kernel_core.tensor.shape import *  # noqa: F401,F403

__all__ = [*_tensor_shape.__all__]
__getattr__ = missing_names(__name__)

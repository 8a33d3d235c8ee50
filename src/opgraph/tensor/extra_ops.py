"""``opgraph.tensor.extra_ops``: PyTensor's ``pytensor.tensor.extra_ops``.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_tensor_extra_ops = import_module("opgraph.kernel_core.tensor.extra_ops")
from opgraph.kernel_core.tensor.extra_ops import *  # noqa: F401,F403

__all__ = [*_tensor_extra_ops.__all__]
__getattr__ = missing_names(__name__)

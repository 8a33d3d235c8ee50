"""``opgraph.tensor.blockwise``: PyTensor's ``pytensor.tensor.blockwise``.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_tensor_blockwise = import_module("opgraph.kernel_core.tensor.blockwise")
from opgraph.kernel_core.tensor.blockwise import *  # noqa: F401,F403

__all__ = [*_tensor_blockwise.__all__]
__getattr__ = missing_names(__name__)

"""``opgraph.tensor.subtensor``: PyTensor's ``pytensor.tensor.subtensor``.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_tensor_subtensor = import_module("opgraph.kernel_core.tensor.subtensor")
from opgraph.kernel_core.tensor.subtensor import *  # noqa: F401,F403

__all__ = [*_tensor_subtensor.__all__]
__getattr__ = missing_names(__name__)

"""``opgraph.tensor.type``: PyTensor's ``pytensor.tensor.type``: TensorType and the variable constructors.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_tensor_type = import_module("opgraph.kernel_core.tensor.type")
_tensor_constructors = import_module("opgraph.kernel_core.tensor.constructors")
from opgraph.kernel_core.tensor.type import *  # noqa: F401,F403
from opgraph.kernel_core.tensor.constructors import *  # noqa: F401,F403

__all__ = [*_tensor_type.__all__, *_tensor_constructors.__all__]
__getattr__ = missing_names(__name__)

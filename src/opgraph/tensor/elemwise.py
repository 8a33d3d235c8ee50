"""``opgraph.tensor.elemwise``: PyTensor's ``pytensor.tensor.elemwise``.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_tensor_elemwise = import_module("opgraph.kernel_core.tensor.elemwise")
_tensor_reduction = import_module("opgraph.kernel_core.tensor.reduction")
from opgraph.kernel_core.tensor.elemwise import *  # noqa: F401,F403
from opgraph.kernel_core.tensor.reduction import *  # noqa: F401,F403

__all__ = [*_tensor_elemwise.__all__, *_tensor_reduction.__all__]
__getattr__ = missing_names(__name__)

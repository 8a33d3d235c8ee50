"""``opgraph.tensor.math``: PyTensor's ``pytensor.tensor.math``: elementwise math, reductions, products.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_tensor_math = import_module("opgraph.kernel_core.tensor.math")
_tensor_reduction = import_module("opgraph.kernel_core.tensor.reduction")
_tensor_dot = import_module("opgraph.kernel_core.tensor.dot")
from opgraph.kernel_core.tensor.math import *  # noqa: F401,F403
from opgraph.kernel_core.tensor.reduction import *  # noqa: F401,F403
from opgraph.kernel_core.tensor.dot import *  # noqa: F401,F403

__all__ = [*_tensor_math.__all__, *_tensor_reduction.__all__, *_tensor_dot.__all__]
__getattr__ = missing_names(__name__)

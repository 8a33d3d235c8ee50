"""``opgraph.tensor.linalg``: PyTensor's ``pytensor.tensor.linalg`` (``pt.linalg``): det, inv, solve, cholesky, ....

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_tensor_linalg = import_module("opgraph.kernel_core.tensor.linalg")
from opgraph.kernel_core.tensor.linalg import *  # noqa: F401,F403

__all__ = [*_tensor_linalg.__all__]
__getattr__ = missing_names(__name__)

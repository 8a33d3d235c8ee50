"""``opgraph.tensor.optimize`` (PyTensor's ``pytensor.tensor.optimize``): ``minimize``,
``minimize_scalar``, ``root``, ``root_scalar``, each returning ``(solution, success)``."""

from importlib import import_module

from opgraph._pytensor_api import missing_names

_engine = import_module("opgraph.kernel_core.tensor.optimize")
from opgraph.kernel_core.tensor.optimize import *  # noqa: F401,F403,E402

__all__ = list(_engine.__all__)
__getattr__ = missing_names(__name__)

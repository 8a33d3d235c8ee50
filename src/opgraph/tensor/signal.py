"""``opgraph.tensor.signal`` (PyTensor's ``pytensor.tensor.signal``): ``convolve1d``."""

from importlib import import_module

from opgraph._pytensor_api import missing_names

_engine = import_module("opgraph.kernel_core.tensor.signal")
from opgraph.kernel_core.tensor.signal import *  # noqa: F401,F403,E402

__all__ = list(_engine.__all__)
__getattr__ = missing_names(__name__)

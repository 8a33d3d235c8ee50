"""``import opgraph.tensor as pt``: the NumPy-like graph-building API (PyTensor's
``pytensor.tensor``), a re-export of the engine's tensor vocabulary."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_engine = import_module("opgraph.kernel_core.tensor")
from opgraph.kernel_core.tensor import *  # noqa: F401,F403

__all__ = list(_engine.__all__)
__getattr__ = missing_names(__name__)

# The public submodules (``pt.math``, ``pt.linalg``, ``pt.random``, ...), as PyTensor
# users reach them; imported after the names above, which they build on.
from opgraph.tensor import (  # noqa: E402,F401
    basic, blockwise, elemwise, extra_ops, linalg, math, nlinalg, nnet, optimize, random, shape, signal, slinalg,
    sort, special, subtensor, type, variable,
)

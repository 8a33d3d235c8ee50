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

# ``pt.shape`` and ``pt.sort`` are functions, and also the names of PyTensor's modules
# ``pytensor.tensor.shape`` / ``.sort``.  Importing a submodule the first time sets the
# package attribute of its name to the module, so a later ``import opgraph.tensor.shape``
# (anywhere) would replace the function: import both modules now, then bind the functions.
_shape_module = import_module("opgraph.tensor.shape")
_sort_module = import_module("opgraph.tensor.sort")
shape, sort = _engine.shape, _engine.sort

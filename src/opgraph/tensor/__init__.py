"""``import opgraph.tensor as pt``: the NumPy-like graph-building API."""

from opgraph.kernel_core.tensor import *  # noqa: F401,F403
from opgraph.kernel_core.tensor import TensorConstant, TensorType, TensorVariable, as_tensor, as_tensor_variable, constant  # noqa: F401
from opgraph.kernel_core.tensor import DimShuffle, Elemwise, dimshuffle, expand_dims  # noqa: F401
from opgraph.tensor import linalg  # noqa: F401

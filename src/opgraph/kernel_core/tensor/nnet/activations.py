"""Activation functions as elementwise graphs."""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.tensor import math as tm
from opgraph.kernel_core.tensor.basic import as_tensor_variable


def relu(x, alpha=0):
    """``max(x, 0)``; with ``alpha`` the leaky form ``x if x > 0 else alpha * x`` (PyTensor's ``relu``)."""
    x = as_tensor_variable(x)
    if isinstance(alpha, (int, float)) and alpha == 0:
        return tm.maximum(x, 0)
    return tm.switch(tm.gt(x, 0), x, alpha * x)


def gelu(x, approximate="none"):
    """``x * Phi(x)`` with Phi the standard normal cdf; ``approximate="tanh"`` is the
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` form (as PyTorch's)."""
    x = as_tensor_variable(x)
    if approximate == "none":
        return 0.5 * x * (1 + tm.erf(x * (1 / np.sqrt(2.0))))
    if approximate == "tanh":
        return 0.5 * x * (1 + tm.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x * x * x)))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")

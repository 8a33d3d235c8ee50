"""``convolve1d(x, k, mode)``: one core op, the *full* convolution of two vectors
(``np.convolve(x, k, "full")``), batched over leading dims by Blockwise; the
``valid`` and ``same`` modes are slices of it (NumPy's lengths and centring), so
one kernel, one pullback and one shape rule serve every mode.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.signal.base import DirectConvolve


class Convolve1d(DirectConvolve):
    """1-d convolution of two vectors: ``mode="full"`` (length ``n + m - 1``), or
    ``mode="valid"`` with ``n >= m`` (length ``n - m + 1``; the pullback's form)."""

    gufunc_signature = "(n),(m)->(o)"
    ndim = 1
    func_name = "convolve1d"
    core_kind = "vectors"
    valid_rule = "at least as long as k"

    def _full(self, x, k, dtype):
        return np.convolve(x, k, "full").astype(dtype, copy=False)


def convolve1d(x, k, mode="full"):
    """``np.convolve(x, k, mode)`` over the last axis, batched over the leading axes
    (which broadcast); ``mode`` is ``"full"``, ``"valid"`` or ``"same"`` (NumPy's lengths:
    valid ``max(n, m) - min(n, m) + 1``, same ``max(n, m)``)."""
    from opgraph.kernel_core.tensor import math as tm
    from opgraph.kernel_core.tensor.blockwise import Blockwise

    if mode not in ("full", "valid", "same"):
        raise ValueError(f"convolve1d: mode must be 'full', 'valid' or 'same', got {mode!r}")
    x, k = as_tensor_variable(x), as_tensor_variable(k)
    for name, v in (("x", x), ("k", k)):
        if v.type.ndim < 1:
            raise ValueError(f"convolve1d: {name} ({v}) must have at least one dimension")
    op = Convolve1d()
    full = op(x, k) if x.type.ndim == 1 and k.type.ndim == 1 else Blockwise(op)(x, k)
    if mode == "full":
        return full
    n, m = x.shape[-1], k.shape[-1]
    short, long = tm.minimum(n, m), tm.maximum(n, m)
    if mode == "valid":
        return full[..., short - 1: long]
    start = (short - 1) // 2
    return full[..., start: start + long]

"""``convolve2d(x, k, mode)``: one core op, the *full* 2-d convolution of two matrices
(``scipy.signal.convolve2d(x, k, "full")``), batched over leading dims by Blockwise;
``valid`` and ``same`` are slices of it (SciPy's lengths and centring), as in
``convolve1d``.  The pullback is two valid convolutions with the other operand
flipped, so one kernel serves the forward and the gradient.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.signal.base import DirectConvolve


def full_convolve2d(x, k, dtype):
    """NumPy full convolution: one shifted, scaled copy of ``x`` per kernel element."""
    (n1, n2), (m1, m2) = x.shape, k.shape
    out = np.zeros((n1 + m1 - 1, n2 + m2 - 1), dtype=dtype)
    for a in range(m1):
        for b in range(m2):
            out[a:a + n1, b:b + n2] += k[a, b] * x
    return out


class Convolve2d(DirectConvolve):
    """2-d convolution of two matrices: ``mode="full"`` (shape ``n + m - 1`` per axis), or
    ``mode="valid"`` with ``x`` at least as large as ``k`` on both axes (``n - m + 1``)."""

    gufunc_signature = "(n1,n2),(m1,m2)->(o1,o2)"
    ndim = 2
    func_name = "convolve2d"
    core_kind = "matrices"
    valid_rule = "at least as large as k on both axes"

    def _full(self, x, k, dtype):
        return full_convolve2d(x, k, dtype)


def convolve2d(x, k, mode="full"):
    """``scipy.signal.convolve2d(x, k, mode)`` over the last two axes, batched over the
    leading axes (which broadcast); ``mode`` is ``"full"``, ``"valid"`` or ``"same"``
    (valid: ``max(n, m) - min(n, m) + 1`` per axis, for one operand at least as large as
    the other on both; same: the shape of ``x``, centred as SciPy's)."""
    from opgraph.kernel_core.tensor import math as tm
    from opgraph.kernel_core.tensor.blockwise import Blockwise

    if mode not in ("full", "valid", "same"):
        raise ValueError(f"convolve2d: mode must be 'full', 'valid' or 'same', got {mode!r}")
    x, k = as_tensor_variable(x), as_tensor_variable(k)
    for name, v in (("x", x), ("k", k)):
        if v.type.ndim < 2:
            raise ValueError(f"convolve2d: {name} ({v}) must have at least two dimensions")
    op = Convolve2d()
    full = op(x, k) if x.type.ndim == 2 and k.type.ndim == 2 else Blockwise(op)(x, k)
    if mode == "full":
        return full
    idx = []
    for ax in (-2, -1):
        n, m = x.shape[ax], k.shape[ax]
        if mode == "valid":
            short, long = tm.minimum(n, m), tm.maximum(n, m)
            idx.append(slice(short - 1, long))
        else:
            start = (m - 1) // 2
            idx.append(slice(start, start + n))
    return full[(Ellipsis, *idx)]

"""``convolve2d(x, k, mode)``: one core op, the *full* 2-d convolution of two matrices
(``scipy.signal.convolve2d(x, k, "full")``), batched over leading dims by Blockwise;
``valid`` and ``same`` are slices of it (SciPy's lengths and centring), as in
``convolve1d``.  The pullback is two valid convolutions with the other operand
flipped, so one kernel serves the forward and the gradient.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Apply
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.type import TensorType


def full_convolve2d(x, k, dtype):
    """NumPy full convolution: one shifted, scaled copy of ``x`` per kernel element."""
    (n1, n2), (m1, m2) = x.shape, k.shape
    out = np.zeros((n1 + m1 - 1, n2 + m2 - 1), dtype=dtype)
    for a in range(m1):
        for b in range(m2):
            out[a:a + n1, b:b + n2] += k[a, b] * x
    return out


class Convolve2d(Op):
    """2-d convolution of two matrices: ``mode="full"`` (shape ``n + m - 1`` per axis), or
    ``mode="valid"`` with ``x`` at least as large as ``k`` on both axes (``n - m + 1``)."""

    __props__ = ("mode",)
    gufunc_signature = "(n1,n2),(m1,m2)->(o1,o2)"

    def __init__(self, mode="full"):
        if mode not in ("full", "valid"):
            raise ValueError(f"Convolve2d: mode must be 'full' or 'valid', got {mode!r}")
        self.mode = mode

    def __str__(self):
        return f"Convolve2d{{mode={self.mode}}}"

    def make_node(self, x, k):
        x, k = as_tensor_variable(x), as_tensor_variable(k)
        if x.type.ndim != 2 or k.type.ndim != 2:
            raise ValueError(f"Convolve2d: the core op takes matrices, got {x} (ndim={x.type.ndim}) "
                             f"and {k} (ndim={k.type.ndim}); use convolve2d for batches")
        for name, v in (("x", x), ("k", k)):
            if v.type.dtype.startswith("complex"):
                raise TypeError(f"convolve2d: {name} ({v}) is complex; only real inputs are supported")
        dtype = np.promote_types(x.type.dtype, k.type.dtype).name
        shape = []
        for n, m in zip(x.type.shape, k.type.shape):
            if n is None or m is None:
                shape.append(None)
            else:
                shape.append(n + m - 1 if self.mode == "full" else n - m + 1)
        return Apply(self, [x, k], [TensorType(dtype, tuple(shape)).make_variable()])

    def perform(self, node, inputs, output_storage):
        x, k = inputs
        if x.size == 0 or k.size == 0:
            raise ValueError("convolve2d: x and k must not be empty")
        if self.mode == "valid" and (x.shape[0] < k.shape[0] or x.shape[1] < k.shape[1]):
            raise ValueError("Convolve2d{mode=valid}: x must be at least as large as k on both axes")
        full = full_convolve2d(x, k, node.outputs[0].type.dtype)
        if self.mode == "valid":
            (n1, n2), (m1, m2) = x.shape, k.shape
            full = full[m1 - 1: n1, m2 - 1: n2].copy()
        output_storage[0][0] = full

    def infer_shape(self, fgraph, node, input_shapes):
        (n1, n2), (m1, m2) = input_shapes
        if self.mode == "full":
            return [(n1 + m1 - 1, n2 + m2 - 1)]
        return [(n1 - m1 + 1, n2 - m2 + 1)]

    def L_op(self, inputs, outputs, output_grads):
        # out = x * k (full): d/dx is the correlation of g with k, i.e. the valid
        # convolution of g with k flipped on both axes; symmetrically for k.
        if self.mode != "full":
            raise NotImplementedError("the gradient of Convolve2d{mode=valid} (a second derivative of "
                                      "convolve2d) is not implemented")
        x, k = inputs
        g = as_tensor_variable(output_grads[0])
        valid = Convolve2d("valid")
        return [valid(g, k[::-1, ::-1]), valid(g, x[::-1, ::-1])]


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

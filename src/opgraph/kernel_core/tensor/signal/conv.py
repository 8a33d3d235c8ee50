"""``convolve1d(x, k, mode)``: one core op, the *full* convolution of two vectors
(``np.convolve(x, k, "full")``), batched over leading dims by Blockwise; the
``valid`` and ``same`` modes are slices of it (NumPy's lengths and centring), so
one kernel, one pullback and one shape rule serve every mode.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Apply
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.type import TensorType


class Convolve1d(Op):
    """1-d convolution of two vectors: ``mode="full"`` (length ``n + m - 1``), or
    ``mode="valid"`` with ``n >= m`` (length ``n - m + 1``; the pullback's form)."""

    __props__ = ("mode",)
    gufunc_signature = "(n),(m)->(o)"

    def __init__(self, mode="full"):
        if mode not in ("full", "valid"):
            raise ValueError(f"Convolve1d: mode must be 'full' or 'valid', got {mode!r}")
        self.mode = mode

    def __str__(self):
        return f"Convolve1d{{mode={self.mode}}}"

    def make_node(self, x, k):
        x, k = as_tensor_variable(x), as_tensor_variable(k)
        if x.type.ndim != 1 or k.type.ndim != 1:
            raise ValueError(f"Convolve1d: the core op takes vectors, got {x} (ndim={x.type.ndim}) "
                             f"and {k} (ndim={k.type.ndim}); use convolve1d for batches")
        for name, v in (("x", x), ("k", k)):
            if v.type.dtype.startswith("complex"):
                raise TypeError(f"convolve1d: {name} ({v}) is complex; only real inputs are supported")
        dtype = np.promote_types(x.type.dtype, k.type.dtype).name
        n, m = x.type.shape[0], k.type.shape[0]
        length = None
        if n is not None and m is not None:
            length = n + m - 1 if self.mode == "full" else n - m + 1
        return Apply(self, [x, k], [TensorType(dtype, (length,)).make_variable()])

    def perform(self, node, inputs, output_storage):
        x, k = inputs
        if x.size == 0 or k.size == 0:
            raise ValueError("convolve1d: x and k must not be empty")
        if self.mode == "valid" and x.size < k.size:
            raise ValueError("Convolve1d{mode=valid}: x must be at least as long as k")
        full = np.convolve(x, k, "full").astype(node.outputs[0].type.dtype, copy=False)
        output_storage[0][0] = full if self.mode == "full" else full[k.size - 1: x.size].copy()

    def infer_shape(self, fgraph, node, input_shapes):
        (n,), (m,) = input_shapes
        return [(n + m - 1,) if self.mode == "full" else (n - m + 1,)]

    def L_op(self, inputs, outputs, output_grads):
        # out = x * k (full): d/dx is the correlation of g with k, i.e. the valid
        # convolution of g with k reversed (length n), and symmetrically for k.
        if self.mode != "full":
            raise NotImplementedError("the gradient of Convolve1d{mode=valid} (a second derivative of "
                                      "convolve1d) is not implemented")
        x, k = inputs
        g = as_tensor_variable(output_grads[0])
        valid = Convolve1d("valid")
        return [valid(g, k[::-1]), valid(g, x[::-1])]


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

"""The skeleton shared by Convolve1d and Convolve2d: the full or valid ``ndim``-d
convolution of two real arrays (``make_node``, ``perform``, ``infer_shape`` and the
pullback are the same rule per axis); a subclass names its arrays and gives the NumPy
full convolution ``_full``."""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Apply
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.type import TensorType


class DirectConvolve(Op):
    """``mode="full"`` (``n + m - 1`` per axis) or ``mode="valid"`` with ``x`` at least as
    large as ``k`` on every axis (``n - m + 1``; the pullback's form)."""

    __props__ = ("mode",)
    ndim = None          # 1 or 2
    func_name = None     # "convolve1d" / "convolve2d", for messages
    core_kind = None     # "vectors" / "matrices"
    valid_rule = None    # what valid mode wants of x, for the error

    def __init__(self, mode="full"):
        if mode not in ("full", "valid"):
            raise ValueError(f"{type(self).__name__}: mode must be 'full' or 'valid', got {mode!r}")
        self.mode = mode

    def __str__(self):
        return f"{type(self).__name__}{{mode={self.mode}}}"

    def _length(self, n, m):
        return n + m - 1 if self.mode == "full" else n - m + 1

    def make_node(self, x, k):
        x, k = as_tensor_variable(x), as_tensor_variable(k)
        if x.type.ndim != self.ndim or k.type.ndim != self.ndim:
            raise ValueError(f"{type(self).__name__}: the core op takes {self.core_kind}, got {x} "
                             f"(ndim={x.type.ndim}) and {k} (ndim={k.type.ndim}); use {self.func_name} for batches")
        for name, v in (("x", x), ("k", k)):
            if v.type.dtype.startswith("complex"):
                raise TypeError(f"{self.func_name}: {name} ({v}) is complex; only real inputs are supported")
        dtype = np.promote_types(x.type.dtype, k.type.dtype).name
        shape = tuple(None if n is None or m is None else self._length(n, m)
                      for n, m in zip(x.type.shape, k.type.shape))
        return Apply(self, [x, k], [TensorType(dtype, shape).make_variable()])

    def _full(self, x, k, dtype):
        raise NotImplementedError

    def perform(self, node, inputs, output_storage):
        x, k = inputs
        if x.size == 0 or k.size == 0:
            raise ValueError(f"{self.func_name}: x and k must not be empty")
        if self.mode == "valid" and any(a < b for a, b in zip(x.shape, k.shape)):
            raise ValueError(f"{self}: x must be {self.valid_rule}")
        full = self._full(x, k, node.outputs[0].type.dtype)
        if self.mode == "valid":
            full = full[tuple(slice(b - 1, a) for a, b in zip(x.shape, k.shape))].copy()
        output_storage[0][0] = full

    def infer_shape(self, fgraph, node, input_shapes):
        xs, ks = input_shapes
        return [tuple(self._length(n, m) for n, m in zip(xs, ks))]

    def L_op(self, inputs, outputs, output_grads):
        # out = x * k (full): d/dx is the correlation of g with k, i.e. the valid
        # convolution of g with k flipped on every axis; symmetrically for k.
        if self.mode != "full":
            raise NotImplementedError(f"the gradient of {self} (a second derivative of "
                                      f"{self.func_name}) is not implemented")
        x, k = inputs
        g = as_tensor_variable(output_grads[0])
        valid = type(self)("valid")
        flip = (slice(None, None, -1),) * self.ndim
        return [valid(g, k[flip]), valid(g, x[flip])]

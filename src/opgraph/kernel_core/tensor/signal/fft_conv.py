"""``FFTConvolve``: the full convolution of two vectors (``ndim=1``) or matrices
(``ndim=2``) through real FFTs: ``irfftn(rfftn(x, s) * rfftn(k, s), s)`` with ``s`` the
full output shape.  The ``fft_convolution`` rewrite (``rewriting/signal.py``) puts it in
place of ``Convolve1d`` / ``Convolve2d{mode=full}`` when the kernel is large; the
pullback is the direct ops' (valid convolutions with the flipped other operand), which
the same rewrite may turn into FFTs again when their kernels are large.

NumPy's FFT runs in ``perform``; Numba has no FFT of its own, so the Numba backend runs
``perform`` in objmode (one call into NumPy per node; such a graph is not disk-cached).
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Apply
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.type import TensorType


class FFTConvolve(Op):
    """Full ``ndim``-d convolution of two real arrays by FFT (the values of Convolve1d /
    Convolve2d{mode=full} to rounding, ~1e-15 relative to the output's scale)."""

    __props__ = ("ndim",)

    def __init__(self, ndim):
        if ndim not in (1, 2):
            raise ValueError(f"FFTConvolve: ndim must be 1 or 2, got {ndim!r}")
        self.ndim = ndim

    @property
    def gufunc_signature(self):
        return "(n),(m)->(o)" if self.ndim == 1 else "(n1,n2),(m1,m2)->(o1,o2)"

    def __str__(self):
        return f"FFTConvolve{{ndim={self.ndim}}}"

    def make_node(self, x, k):
        x, k = as_tensor_variable(x), as_tensor_variable(k)
        if x.type.ndim != self.ndim or k.type.ndim != self.ndim:
            raise ValueError(f"{self}: takes two {self.ndim}-d arrays, got {x} (ndim={x.type.ndim}) and "
                             f"{k} (ndim={k.type.ndim})")
        dtype = np.promote_types(x.type.dtype, k.type.dtype).name
        if not dtype.startswith("float"):
            dtype = "float64"
        shape = tuple(None if n is None or m is None else n + m - 1 for n, m in zip(x.type.shape, k.type.shape))
        return Apply(self, [x, k], [TensorType(dtype, shape).make_variable()])

    def perform(self, node, inputs, output_storage):
        x, k = inputs
        if x.size == 0 or k.size == 0:
            raise ValueError("convolve: x and k must not be empty")
        s = tuple(a + b - 1 for a, b in zip(x.shape, k.shape))
        # a fast FFT length per axis (5-smooth), cropped back to s afterwards
        fs = tuple(_next_fast_len(n) for n in s)
        axes = tuple(range(self.ndim))
        prod = np.fft.rfftn(x, fs, axes=axes) * np.fft.rfftn(k, fs, axes=axes)
        out = np.fft.irfftn(prod, fs, axes=axes)[tuple(slice(0, n) for n in s)]
        output_storage[0][0] = np.ascontiguousarray(out, dtype=node.outputs[0].type.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        xs, ks = input_shapes
        return [tuple(a + b - 1 for a, b in zip(xs, ks))]

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.signal.conv import Convolve1d
        from opgraph.kernel_core.tensor.signal.conv2d import Convolve2d

        direct = Convolve1d() if self.ndim == 1 else Convolve2d()
        return direct.L_op(inputs, outputs, output_grads)


def _next_fast_len(n):
    """The smallest 2^a 3^b 5^c >= n (NumPy's pocketfft is fastest on such lengths)."""
    best = 1 << max(n - 1, 0).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


__all__ = ["FFTConvolve"]

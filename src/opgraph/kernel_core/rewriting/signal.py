"""FFT convolution (tags ``specialize``, ``fft_convolution``): ``Convolve1d`` and
``Convolve2d{mode=full}`` (core or batched through Blockwise) whose kernel is large
become ``FFTConvolve`` (``tensor/signal/fft_conv.py``).

The threshold is on the kernel's static number of elements (the smaller operand's,
as convolution is symmetric; operands without a static shape are left direct).
Measured with ``benchmarks/fft_crossover.py`` on this machine (2 shared, loaded cores),
convolve1d, direct Numba loop / FFT op time (medians of three runs, after the direct loop
became tap-major axpys): at n = 10^6 samples 0.08 (m = 8), 0.16 (64), 0.66 (256),
0.6-1.2 (384), 1.21 (512), 2.1 (1024); at n = 10^4: 0.04, 0.25, 1.06, 1.3, 2.5, 4.6.  So
the FFT takes over from 512 kernel elements (``FFT_MIN_KERNEL_SIZE``); convolve2d's
direct loop also costs one pass over x per kernel element, so the same element count
applies (e.g. a 23 x 23 kernel).
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.rewriting.db import node_rewriter, register_rewrite
from opgraph.kernel_core.tensor.blockwise import Blockwise
from opgraph.kernel_core.tensor.signal.conv import Convolve1d
from opgraph.kernel_core.tensor.signal.conv2d import Convolve2d
from opgraph.kernel_core.tensor.signal.fft_conv import FFTConvolve

FFT_MIN_KERNEL_SIZE = 512


def _kernel_size(var, ndim):
    shape = var.type.shape[var.type.ndim - ndim:]
    return None if any(s is None for s in shape) else int(np.prod(shape))


@node_rewriter([Convolve1d, Convolve2d, Blockwise], name="fft_convolution")
def fft_convolution(fgraph, node):
    """convolve(x, k, full) with a kernel of FFT_MIN_KERNEL_SIZE elements or more -> FFTConvolve(x, k)."""
    op = node.op.core_op if isinstance(node.op, Blockwise) else node.op
    if not isinstance(op, (Convolve1d, Convolve2d)) or op.mode != "full":
        return None
    ndim = 1 if isinstance(op, Convolve1d) else 2
    x, k = node.inputs
    sizes = [_kernel_size(x, ndim), _kernel_size(k, ndim)]
    known = [s for s in sizes if s is not None]
    if not known or min(known) < FFT_MIN_KERNEL_SIZE:
        return None
    fft = FFTConvolve(ndim)
    new = Blockwise(fft)(x, k) if isinstance(node.op, Blockwise) else fft(x, k)
    if new.type.dtype != node.outputs[0].type.dtype:
        return None
    return [new]


register_rewrite(fft_convolution, "specialize", "fast_run", "fft_convolution")

__all__ = ["fft_convolution", "FFT_MIN_KERNEL_SIZE"]

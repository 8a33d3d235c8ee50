"""Convolve1d and Convolve2d as direct loops (the cores of every convolve1d / convolve2d
mode): generated wrappers that check the lengths, allocate the output and call the
shared kernels of ``signal_kernels.py`` (full and valid each have their own loop; valid
never computes the full convolution)."""

from __future__ import annotations

from opgraph.kernel_core.backends.numba.dispatch import np_dtype, numba_funcify
from opgraph.kernel_core.tensor.signal.conv import Convolve1d
from opgraph.kernel_core.tensor.signal.conv2d import Convolve2d

_KERNELS = "opgraph.kernel_core.backends.numba.signal_kernels"


@numba_funcify.register(Convolve1d)
def _funcify_convolve1d(op, node, ctx):
    dt = np_dtype(node.outputs[0].type.dtype)
    if op.mode == "full":
        fn = ctx.import_name(_KERNELS, "conv1d_full")
        body = f"""    out = np.empty(n + m - 1, dtype={dt})
    if n >= m:
        {fn}(x, k, out)
    else:
        {fn}(k, x, out)
"""
    else:
        fn = ctx.import_name(_KERNELS, "conv1d_interior")
        body = f"""    if n < m:
        raise ValueError('Convolve1d{{mode=valid}}: x must be at least as long as k')
    out = np.empty(n - m + 1, dtype={dt})
    {fn}(x, k, out, m - 1, m - 1, n)
"""
    src = f"""
def {{name}}(x, k):
    n, m = x.shape[0], k.shape[0]
    if n == 0 or m == 0:
        raise ValueError('convolve1d: x and k must not be empty')
{body}    return out
"""
    return ctx.define(src, prefix="convolve1d")


@numba_funcify.register(Convolve2d)
def _funcify_convolve2d(op, node, ctx):
    dt = np_dtype(node.outputs[0].type.dtype)
    if op.mode == "full":
        fn = ctx.import_name(_KERNELS, "conv2d_full")
        body = f"""    out = np.empty((n1 + m1 - 1, n2 + m2 - 1), dtype={dt})
    if n2 >= m2:
        {fn}(x, k, out)
    else:
        {fn}(k, x, out)
"""
    else:
        fn = ctx.import_name(_KERNELS, "conv2d_valid")
        body = f"""    if n1 < m1 or n2 < m2:
        raise ValueError('Convolve2d{{mode=valid}}: x must be at least as large as k on both axes')
    out = np.empty((n1 - m1 + 1, n2 - m2 + 1), dtype={dt})
    {fn}(x, k, out)
"""
    src = f"""
def {{name}}(x, k):
    n1, n2 = x.shape
    m1, m2 = k.shape
    if x.size == 0 or k.size == 0:
        raise ValueError('convolve2d: x and k must not be empty')
{body}    return out
"""
    return ctx.define(src, prefix="convolve2d")

"""Convolve1d and Convolve2d as direct loops (the cores of every convolve1d / convolve2d mode)."""

from __future__ import annotations

from opgraph.kernel_core.backends.numba.dispatch import np_dtype, numba_funcify
from opgraph.kernel_core.tensor.signal.conv import Convolve1d
from opgraph.kernel_core.tensor.signal.conv2d import Convolve2d


@numba_funcify.register(Convolve1d)
def _funcify_convolve1d(op, node, ctx):
    dt = np_dtype(node.outputs[0].type.dtype)
    ret = "out" if op.mode == "full" else "out[m - 1:n].copy()"
    check = "" if op.mode == "full" else (
        "\n    if n < m:\n        raise ValueError('Convolve1d{mode=valid}: x must be at least as long as k')")
    src = f"""
def {{name}}(x, k):
    n, m = x.shape[0], k.shape[0]
    if n == 0 or m == 0:
        raise ValueError('convolve1d: x and k must not be empty'){check}
    out = np.zeros(n + m - 1, dtype={dt})
    for i in range(n):
        xi = x[i]
        for j in range(m):
            out[i + j] += xi * k[j]
    return {ret}
"""
    return ctx.define(src, prefix="convolve1d")


@numba_funcify.register(Convolve2d)
def _funcify_convolve2d(op, node, ctx):
    # Each output row as a sum of shifted input rows (the innermost loop has unit stride).
    dt = np_dtype(node.outputs[0].type.dtype)
    ret = "out" if op.mode == "full" else "out[m1 - 1:n1, m2 - 1:n2].copy()"
    check = "" if op.mode == "full" else (
        "\n    if n1 < m1 or n2 < m2:"
        "\n        raise ValueError('Convolve2d{mode=valid}: x must be at least as large as k on both axes')")
    src = f"""
def {{name}}(x, k):
    n1, n2 = x.shape
    m1, m2 = k.shape
    if x.size == 0 or k.size == 0:
        raise ValueError('convolve2d: x and k must not be empty'){check}
    out = np.zeros((n1 + m1 - 1, n2 + m2 - 1), dtype={dt})
    for a in range(m1):
        for b in range(m2):
            kab = k[a, b]
            for i in range(n1):
                for j in range(n2):
                    out[i + a, j + b] += kab * x[i, j]
    return {ret}
"""
    return ctx.define(src, prefix="convolve2d")

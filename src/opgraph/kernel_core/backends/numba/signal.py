"""Convolve1d as a direct double loop (the core of every convolve1d mode)."""

from __future__ import annotations

from opgraph.kernel_core.backends.numba.dispatch import np_dtype, numba_funcify
from opgraph.kernel_core.tensor.signal.conv import Convolve1d


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

"""Softmax and LogSoftmax as generated njit loops.

The array is viewed as ``(outer, n, inner)`` around the axis (``axis=None``: one
slice of every element), and each slice takes three passes: its max, the sum of
``exp(x - max)``, then the outputs; the same arithmetic as ``perform``, so an
all ``-inf`` slice gives nan in both modes.
"""

from __future__ import annotations

from opgraph.kernel_core.backends.numba.dispatch import np_dtype, numba_funcify
from opgraph.kernel_core.backends.numba.extra_ops import as_3d
from opgraph.kernel_core.tensor.special import LogSoftmax, Softmax


def _slice_loops(op, node, last_line):
    x = node.inputs[0]
    dt = np_dtype(node.outputs[0].type.dtype)
    if op.axis is None:
        lines = ["def {name}(x):", "    x3 = np.ascontiguousarray(x).reshape((1, x.size, 1))"]
    else:
        lines = ["def {name}(x):"] + as_3d("x", "x3", op.axis, x.type.ndim)
    lines += [f"    out3 = np.empty(x3.shape, dtype={dt})",
              "    n = x3.shape[1]",
              "    for o in range(x3.shape[0]):",
              "        for i in range(x3.shape[2]):",
              "            m = -np.inf",
              "            for j in range(n):",
              "                v = float(x3[o, j, i])",
              "                m = v if v > m or v != v else m",
              "            s = 0.0",
              "            for j in range(n):",
              "                s += math.exp(float(x3[o, j, i]) - m)",
              "            for j in range(n):",
              f"                {last_line}",
              "    return out3.reshape(x.shape)"]
    return "\n".join(lines) + "\n"


@numba_funcify.register(Softmax)
def _funcify_softmax(op, node, ctx):
    return ctx.define(_slice_loops(op, node, "out3[o, j, i] = math.exp(float(x3[o, j, i]) - m) / s"),
                      prefix="softmax")


@numba_funcify.register(LogSoftmax)
def _funcify_log_softmax(op, node, ctx):
    return ctx.define(_slice_loops(op, node, "out3[o, j, i] = (float(x3[o, j, i]) - m) - math.log(s)"),
                      prefix="log_softmax")

# SciPy-backed special functions (gammainc, betainc, their inverses, ndtri, Bessel i0/i1): their own module.
from opgraph.kernel_core.backends.numba import scipy_special  # noqa: E402,F401
# The von Mises CDF (scalar/vonmises_cdf.py): quadrature loops of its own.
from opgraph.kernel_core.backends.numba import vonmises_kernels  # noqa: E402,F401

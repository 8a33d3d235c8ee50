"""Dot (vectors / matrices) and its Blockwise form without batch dims.

``np.dot`` inside numba calls BLAS for float arrays; integer and mixed dtypes
are cast to the output dtype first (numba's BLAS path needs equal float dtypes).
Float products go through ``blas_threads.blas_dot``: the backend's one BLAS product,
which also decides how many OpenBLAS threads a product may use (mid-size products run
on one: OpenBLAS's threads stall on oversubscribed cores).
"""

from __future__ import annotations

from opgraph.kernel_core.backends.numba.dispatch import int64_arg, np_dtype, numba_funcify
from opgraph.kernel_core.tensor.dot import Dot


def dot_source(x_type, y_type, out_type, ctx):
    dt = np_dtype(out_type.dtype)
    blas = out_type.dtype in ("float32", "float64", "complex64", "complex128")
    lines = ["def {name}(x, y):",
             "    if x.shape[-1] != y.shape[0]:",
             "        raise ValueError('dot: shapes are not aligned')"]
    if blas:
        cx = "x" if x_type.dtype == out_type.dtype else f"x.astype({dt})"
        cy = "y" if y_type.dtype == out_type.dtype else f"y.astype({dt})"
        # BLAS takes C or Fortran order (a transpose is a flag, not a copy);
        # only strided views are copied.
        # np.dot through a shared cache=True kernel (blas_threads.py): numba types each BLAS
        # signature once per installation instead of once per graph and process.
        sdot = ctx.import_name("opgraph.kernel_core.backends.numba.blas_threads", "blas_dot")
        if x_type.ndim == 2 and y_type.ndim == 2 and y_type.shape[1] == 1:
            # matrix @ column: gemv (gemm with one column is markedly slower).
            # (a reshape, not [:, None]: the result stays C-contiguous for the loops using it)
            view = ctx.import_name("opgraph.kernel_core.backends.numba.shared_kernels", "view")
            lines.append(f"    yy = {cy}")
            lines.append(f"    col = {view}(yy, (yy.shape[0],), (yy.strides[0],))")
            lines.append(f"    r = {sdot}({cx}, col)")
            lines.append(f"    return {view}(r, (r.shape[0], {int64_arg(1)}), (r.strides[0], {int64_arg(0)}))")
        elif x_type.ndim == 2 and y_type.ndim == 2 and x_type.shape[0] == 1:
            view = ctx.import_name("opgraph.kernel_core.backends.numba.shared_kernels", "view")
            lines.append(f"    xx = {cx}")
            lines.append(f"    row = {view}(xx, (xx.shape[1],), (xx.strides[1],))")
            lines.append(f"    r = {sdot}(({cy}).T, row)")
            lines.append(f"    return {view}(r, ({int64_arg(1)}, r.shape[0]), ({int64_arg(0)}, r.strides[0]))")
        else:
            lines.append(f"    return np.asarray({sdot}({cx}, {cy}))")
    else:
        # Integer dot: explicit loops (numba's np.dot is float-only).
        xs = "x" if x_type.ndim == 2 else "np.ascontiguousarray(x).reshape((1, x.shape[0]))"
        ys = "y" if y_type.ndim == 2 else "np.ascontiguousarray(y).reshape((y.shape[0], 1))"
        lines += [f"    a = np.ascontiguousarray({xs})", f"    b = np.ascontiguousarray({ys})",
                  f"    out = np.zeros((a.shape[0], b.shape[1]), dtype={dt})",
                  "    for i in range(a.shape[0]):",
                  "        for k in range(a.shape[1]):",
                  "            for j in range(b.shape[1]):",
                  "                out[i, j] += a[i, k] * b[k, j]"]
        shape = {(2, 2): "out", (1, 2): "out[0]", (2, 1): "out[:, 0]", (1, 1): "np.asarray(out[0, 0])"}
        lines.append(f"    return {shape[(x_type.ndim, y_type.ndim)]}")
    return "\n".join(lines) + "\n"


@numba_funcify.register(Dot)
def _funcify_dot(op, node, ctx):
    x, y = node.inputs
    return ctx.define(dot_source(x.type, y.type, node.outputs[0].type, ctx), prefix="dot")

"""Shape ops: Shape, Shape_i, Reshape, SpecifyShape."""

from __future__ import annotations

import importlib

from opgraph.kernel_core.backends.numba.dispatch import numba_funcify
from opgraph.kernel_core.backends.numba.scalar_form import scalar_form

# ``opgraph.kernel_core.tensor.shape`` the module (the package re-exports a ``shape`` function).
sh = importlib.import_module("opgraph.kernel_core.tensor.shape")


@numba_funcify.register(sh.Shape)
def _funcify_shape(op, node, ctx):
    n = node.inputs[0].type.ndim
    items = "".join(f"x.shape[{d}], " for d in range(n))
    return ctx.define(f"def {{name}}(x):\n    return np.array([{items}], dtype=np.int64)"
                      if n else "def {name}(x):\n    return np.empty(0, dtype=np.int64)", prefix="shape")


@numba_funcify.register(sh.Shape_i)
def _funcify_shape_i(op, node, ctx):
    # np.empty + store, not np.asarray(np.int64(...)): numba compiles each distinct
    # overload instance (asarray's two) as a separate function, a large part of compile time.
    return ctx.define(f"def {{name}}(x):\n    out = np.empty((), dtype=np.int64)\n"
                      f"    out[()] = x.shape[{op.i}]\n    return out\n", prefix="shape_i")


@numba_funcify.register(sh.Reshape)
def _funcify_reshape(op, node, ctx):
    n = op.ndim
    items = "".join(f"s[{d}], " for d in range(n))
    # reshape needs a contiguous array in numba; views are copied first.  NumPy's
    # checks first: numba's reshape takes (0, -1) of an empty array as (0, 0).
    src = f"""
def {{name}}(x, s):
    unknown = 0
    known = 1
    for d in range({n}):
        if s[d] < 0:
            unknown += 1
        else:
            known *= s[d]
    if unknown > 1:
        raise ValueError("reshape: can only specify one unknown dimension (-1)")
    if unknown == 1 and known == 0:
        raise ValueError("cannot reshape: a -1 length is undetermined when another length is 0")
    return np.ascontiguousarray(x).reshape(({items}))
"""
    return ctx.define(src, prefix="reshape")


@numba_funcify.register(sh.SpecifyShape)
def _funcify_specify_shape(op, node, ctx):
    args = [f"e{k}" for k in range(len(op.dims))]
    lines = [f"def {{name}}(x, {', '.join(args)}):" if args else "def {name}(x):"]
    for d, e in zip(op.dims, args):
        lines.append(f"    if x.shape[{d}] != {e}[()]:")
        lines.append(f"        raise ValueError('SpecifyShape: axis {d} does not have the specified length')")
    lines.append("    return x")
    return ctx.define("\n".join(lines) + "\n", prefix="specify_shape")


@numba_funcify.register(sh.ShapeAgreement)
def _funcify_shape_agreement(op, node, ctx):
    args = [f"e{k}" for k in range(len(op.dims))]
    lines = [f"def {{name}}(x, {', '.join(args)}):"]
    for d, e, source in zip(op.dims, args, op.sources):
        lines.append(f"    if x.shape[{d}] != {e}[()]:")
        lines.append(f"        raise ValueError({op.mismatch_message(d, source)!r})")
    lines.append("    return x")
    return ctx.define("\n".join(lines) + "\n", prefix="shape_agreement")


@scalar_form.register(sh.Shape_i)
def _shape_i_on_numbers(op, node, ctx, value, prefix, lines):
    return [f"{value(0, False)}.shape[{op.i}]"]


@scalar_form.register(sh.Shape)
def _shape_of_vector_on_numbers(op, node, ctx, value, prefix, lines):
    # The shape of a vector is one number (a vector of length 1).
    return [f"{value(0, False)}.shape[0]"]

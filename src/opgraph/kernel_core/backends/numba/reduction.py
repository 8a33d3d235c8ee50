"""Reductions (Sum, Prod, Max, Min, All, Any, Argmax, Argmin) as generated loop nests.

One loop nest over the input accumulates into the output at the kept
indices, so any ``axis`` tuple works on any layout without copies.
"""

from __future__ import annotations

from opgraph.kernel_core.backends.numba.dispatch import np_dtype, numba_funcify
from opgraph.kernel_core.backends.numba.inlining import inline_call
from opgraph.kernel_core.backends.numba.scalar_form import scalar_form
from opgraph.kernel_core.tensor import reduction as red

_INIT = {red.Sum: "0", red.Prod: "1", red.All: "True", red.Any: "False"}
_STEP = {red.Sum: "acc + v", red.Prod: "acc * v", red.All: "acc and v", red.Any: "acc or v",
         red.Max: "np.maximum(acc, v)", red.Min: "np.minimum(acc, v)"}


def _reduction_class(op):
    """The reduction ``op`` performs (the class keying _INIT / _STEP), or None."""
    return next((c for c in type(op).__mro__ if c in _STEP), None)


def _axes(op, ndim):
    return tuple(range(ndim)) if op.axis is None else tuple(op.axis)


@numba_funcify.register(red.CAReduce)
def _funcify_careduce(op, node, ctx):
    cls = _reduction_class(op)
    if cls is None:
        from opgraph.kernel_core.backends.numba.fallback import perform_in_objmode

        return perform_in_objmode(op, node, ctx)
    x = node.inputs[0]
    ndim = x.type.ndim
    axes = _axes(op, ndim)
    kept = [d for d in range(ndim) if d not in axes]
    odt = np_dtype(node.outputs[0].type.dtype)
    out_shape = "(" + "".join(f"x.shape[{d}], " for d in kept) + ")"
    lines = ["def {name}(x):"]
    extremum = cls in (red.Max, red.Min)
    if not kept:
        return ctx.define(_full_reduction_source(cls, ndim, odt, node.outputs[0].type.dtype,
                                                 x.type.dtype, name=type(op).__name__),
                          prefix=f"reduce_{type(op).__name__.lower()}")
    if extremum:
        lines.append("    if x.size == 0:")
        lines.append(f"        raise ValueError('{type(op).__name__} of an empty array has no identity')")
        lines.append(f"    out = {ctx.empty(out_shape, odt)}")
        lines.append(f"    seen = {ctx.zeros('out.shape', 'np.bool_')}")
    else:
        lines.append(f"    out = {ctx.full(out_shape, f'{odt}({_INIT[cls]})', odt)}")
    for k, d in enumerate(range(ndim)):
        lines.append("    " * (k + 1) + f"for j{d} in range(x.shape[{d}]):")
    pad = "    " * (ndim + 1)
    oidx = "(" + "".join(f"j{d}, " for d in kept) + ")"
    xidx = "(" + "".join(f"j{d}, " for d in range(ndim)) + ")"
    lines.append(f"{pad}v = {odt}(x[{xidx}])")
    if extremum:
        lines.append(f"{pad}if not seen[{oidx}]:")
        lines.append(f"{pad}    out[{oidx}] = v")
        lines.append(f"{pad}    seen[{oidx}] = True")
        lines.append(f"{pad}else:")
        lines.append(f"{pad}    acc = out[{oidx}]")
        lines.append(f"{pad}    out[{oidx}] = {_STEP[cls]}")
    else:
        lines.append(f"{pad}acc = out[{oidx}]")
        lines.append(f"{pad}out[{oidx}] = {_STEP[cls]}")
    lines.append("    return out")
    return ctx.define("\n".join(lines) + "\n", prefix=f"reduce_{type(op).__name__.lower()}")


def _full_reduction_source(cls, ndim, odt, out_dtype, in_dtype, as_number=False, name=None):
    """Reducing every axis: accumulate in locals (registers), not in the output array.
    ``as_number``: return the number itself, not a 0-d array.  A Max / Min (``name``, for
    the message about an empty input) starts from the first element: np.maximum /
    np.minimum keep NaN wherever it is, so the first element counted twice is harmless."""
    step = _STEP[cls].replace("acc", "a0")
    # A float64 sum of float64 needs no casts: each ``np.float64(...)`` call is one
    # more call site for numba to type and lower (a sizeable share of compile time).
    plain = cls is red.Sum and out_dtype == "float64" and in_dtype == "float64"
    cast = (lambda e: e) if plain else (lambda e: f"{odt}({e})")
    zero = "0.0" if plain else f"{odt}(0)"
    if cls in (red.Max, red.Min):
        first = "(" + "0, " * ndim + ")"
        lines = ["def {name}(x):", "    if x.size == 0:",
                 f"        raise ValueError('{name} of an empty array has no identity')",
                 f"    a0 = {cast(f'x[{first}]')}"]
    else:
        lines = ["def {name}(x):", f"    a0 = {zero if plain else cast(_INIT[cls])}"]
    if cls is red.Sum and ndim == 1 and out_dtype.startswith("float"):
        # Four interleaved partial sums: four times the throughput of one serial chain
        # (floating-point adds are not reassociated for us), and more accurate.
        lines += [f"    a1 = {zero}", f"    a2 = {zero}", f"    a3 = {zero}",
                  "    n = x.shape[0]",
                  "    m = n - n % 4",
                  "    for j in range(0, m, 4):",
                  f"        a0 += {cast('x[j]')}",
                  f"        a1 += {cast('x[j + 1]')}",
                  f"        a2 += {cast('x[j + 2]')}",
                  f"        a3 += {cast('x[j + 3]')}",
                  "    for j in range(m, n):",
                  f"        a0 += {cast('x[j]')}",
                  "    a0 = (a0 + a1) + (a2 + a3)"]
    else:
        for d in range(ndim):
            lines.append("    " * (d + 1) + f"for j{d} in range(x.shape[{d}]):")
        xidx = "(" + "".join(f"j{d}, " for d in range(ndim)) + ")"
        lines.append("    " * (ndim + 1) + f"v = {cast(f'x[{xidx}]')}")
        lines.append("    " * (ndim + 1) + f"a0 = {step}")
    if as_number:
        lines.append("    return a0")
    else:
        lines += [f"    out = np.empty((), dtype={odt})", "    out[()] = a0", "    return out"]
    return "\n".join(lines) + "\n"


@scalar_form.register(red.CAReduce)
def _full_reduction_on_numbers(op, node, ctx, value, prefix, lines):
    cls = _reduction_class(op)
    x = node.inputs[0]
    if cls is None or node.outputs[0].type.ndim:
        return None
    src = _full_reduction_source(cls, x.type.ndim, np_dtype(node.outputs[0].type.dtype), node.outputs[0].type.dtype,
                                 x.type.dtype, as_number=True, name=type(op).__name__)
    lines.extend(inline_call(src.replace("{name}", "f"), [value(0, False)], f"{prefix}r", prefix))
    return [f"{prefix}r"]


@numba_funcify.register(red._ArgExtremum)
def _funcify_argextremum(op, node, ctx):
    x = node.inputs[0]
    ndim = x.type.ndim
    fn = "argmax" if isinstance(op, red.Argmax) else "argmin"
    if op.axis is None or ndim <= 1:
        src = f"def {{name}}(x):\n    return np.asarray(np.int64(np.{fn}(np.ascontiguousarray(x).ravel())))\n"
        return ctx.define(src, prefix=fn)
    axes = tuple(op.axis) if not isinstance(op.axis, int) else (op.axis,)
    if len(axes) != 1:
        from opgraph.kernel_core.backends.numba.fallback import perform_in_objmode

        return perform_in_objmode(op, node, ctx)
    ax = axes[0]
    cmp = ">" if fn == "argmax" else "<"
    kept = [d for d in range(ndim) if d != ax]
    oidx = "(" + "".join(f"j{d}, " for d in kept) + ")"
    lines = ["def {name}(x):",
             f"    out = np.zeros(({''.join(f'x.shape[{d}], ' for d in kept)}), dtype=np.int64)",
             f"    best = np.empty(out.shape, dtype=x.dtype)"]
    loop_dims = kept + [ax]
    for k, d in enumerate(loop_dims):
        lines.append("    " * (k + 1) + f"for j{d} in range(x.shape[{d}]):")
    pad = "    " * (len(loop_dims) + 1)
    xidx = "(" + "".join(f"j{d}, " for d in range(ndim)) + ")"
    # NumPy's rule: the first NaN wins, otherwise the first extreme value.
    lines += [f"{pad}v = x[{xidx}]",
              f"{pad}if j{ax} == 0:",
              f"{pad}    best[{oidx}] = v",
              f"{pad}    out[{oidx}] = 0",
              f"{pad}else:",
              f"{pad}    b = best[{oidx}]",
              f"{pad}    if b == b and (v != v or v {cmp} b):",
              f"{pad}        best[{oidx}] = v",
              f"{pad}        out[{oidx}] = j{ax}",
              "    return out"]
    return ctx.define("\n".join(lines) + "\n", prefix=fn)

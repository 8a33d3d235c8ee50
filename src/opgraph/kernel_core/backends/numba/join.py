"""Join, Split and MakeVector as generated njit code.

The axis of Join / Split is a 0-d input; a constant axis (the usual case)
gives straight-line code, a symbolic one a branch per possible axis.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.backends.numba.dispatch import np_dtype, numba_funcify
from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.tensor.join import Join, MakeVector, Split


def _static_axis(var, ndim):
    if isinstance(var, Constant):
        return int(np.asarray(var.data)) % ndim
    return None


def _axis_branches(axis_var, ndim, body_for_axis, pad="    "):
    """Lines running ``body_for_axis(a)`` for the run-time (or constant) axis."""
    static = _static_axis(axis_var, ndim)
    if static is not None:
        return [pad + ln for ln in body_for_axis(static)]
    lines = [f"{pad}ax = np.int64(axis[()])",
             f"{pad}if ax < 0:",
             f"{pad}    ax += {ndim}",
             f"{pad}if ax < 0 or ax >= {ndim}:",
             f"{pad}    raise ValueError('axis is out of bounds')"]
    for a in range(ndim):
        lines.append(f"{pad}{'if' if a == 0 else 'elif'} ax == {a}:")
        lines += [pad + "    " + ln for ln in body_for_axis(a)]
    return lines


# Joins of more inputs than this are written chunk by chunk (_wide_join).
WIDE_JOIN = 32
JOIN_CHUNK = 32


def _join_copy(ctx, nd, a):
    """``copy(out, o, t)``: ``out[..., o:o + len, ...] = t`` along axis ``a`` as
    explicit loops (numba's slice assignment compiles its shape-mismatch message, ~4 s
    CPU per function: assign.py); returns the next offset.  One definition per (ndim, axis)."""
    lines = ["def {name}(out, o, t):"]
    pad = "    "
    for d in range(nd):
        lines.append(f"{pad}for j{d} in range(t.shape[{d}]):")
        pad += "    "
    idx = ", ".join(f"o + j{d}" if d == a else f"j{d}" for d in range(nd))
    lines.append(f"{pad}out[{idx}] = t[{', '.join(f'j{d}' for d in range(nd))}]")
    lines.append(f"    return o + t.shape[{a}]")
    return ctx.define("\n".join(lines) + "\n", prefix="join_copy")


def _wide_join(node, ctx, a):
    """A Join of many inputs on the constant axis ``a``: its function sums the
    lengths and copies the inputs JOIN_CHUNK at a time through two chunk
    kernels (one source per chunk size, so numba types each once), and is
    inlined into the graph function (prefix ``join_wide_``): the graph never
    calls a function of 10^4 arguments (numba's typing and CPython wrapper of
    such a function grow superlinearly in the number of arguments)."""
    tensors = node.inputs[1:]
    nd = tensors[0].type.ndim
    dt = np_dtype(node.outputs[0].type.dtype)
    names = [f"t{i}" for i in range(len(tensors))]
    copy = _join_copy(ctx, nd, a)
    chunks = [names[k:k + JOIN_CHUNK] for k in range(0, len(names), JOIN_CHUNK)]
    kernels = {}
    for size in sorted({len(c) for c in chunks}):
        args = [f"t{i}" for i in range(size)]
        length = ctx.define(f"def {{name}}({', '.join(args)}):\n"
                            f"    return {' + '.join(f'{t}.shape[{a}]' for t in args)}\n", prefix="join_length")
        body = [f"def {{name}}(out, o, {', '.join(args)}):"]
        for t in args:
            for d in range(nd):
                if d != a:
                    body += [f"    if {t}.shape[{d}] != out.shape[{d}]:",
                             f"        raise ValueError('join: input shapes differ at axis {d}')"]
            body.append(f"    o = {copy}(out, o, {t})")
        body.append("    return o")
        kernels[size] = (length, ctx.define("\n".join(body) + "\n", prefix="join_chunk"))
    lines = [f"def {{name}}(axis, {', '.join(names)}):", "    n = 0"]
    lines += [f"    n += {kernels[len(c)][0]}({', '.join(c)})" for c in chunks]
    shape = "".join("n, " if d == a else f"t0.shape[{d}], " for d in range(nd))
    lines += [f"    out = {ctx.empty(f'({shape})', dt)}", "    o = 0"]
    lines += [f"    o = {kernels[len(c)][1]}(out, o, {', '.join(c)})" for c in chunks]
    lines.append("    return out")
    return ctx.define("\n".join(lines) + "\n", prefix="join_wide")


@numba_funcify.register(Join)
def _funcify_join(op, node, ctx):
    tensors = node.inputs[1:]
    nd = tensors[0].type.ndim
    dt = np_dtype(node.outputs[0].type.dtype)
    names = [f"t{i}" for i in range(len(tensors))]
    static = _static_axis(node.inputs[0], nd)
    if len(tensors) > WIDE_JOIN and static is not None:
        return _wide_join(node, ctx, static)

    def body(a):
        # Summed a few terms per statement: one expression of 10^4 terms nests
        # 10^4 deep and Python's compiler overflows its recursion limit.
        lengths = [f"{t}.shape[{a}]" for t in names]
        lines = ["n = 0"] + [f"n += {' + '.join(lengths[k:k + 32])}" for k in range(0, len(lengths), 32)]
        for t in names[1:]:
            for d in range(nd):
                if d != a:
                    lines += [f"if {t}.shape[{d}] != t0.shape[{d}]:",
                              f"    raise ValueError('join: input shapes differ at axis {d}')"]
        shape = "".join("n, " if d == a else f"t0.shape[{d}], " for d in range(nd))
        lines += [f"out = {ctx.empty(f'({shape})', dt)}", "o = 0"]
        # Copy loops, not ``out[..., o:o + len] = t`` (numba's array setitem compiles its
        # shape-mismatch message: ~4 s CPU per function, see assign.py).
        copy = _join_copy(ctx, nd, a)
        lines += [f"o = {copy}(out, o, {t})" for t in names]
        lines.append("return out")
        return lines

    src = [f"def {{name}}(axis, {', '.join(names)}):"] + _axis_branches(node.inputs[0], nd, body)
    if _static_axis(node.inputs[0], nd) is None:
        src.append(f"    return np.empty(({'0, ' * nd}), dtype={dt})")  # unreachable: typing needs it
    return ctx.define("\n".join(src) + "\n", prefix="join")


@numba_funcify.register(Split)
def _funcify_split(op, node, ctx):
    nd = node.inputs[0].type.ndim
    k = op.len_splits

    sizes = np.asarray(node.inputs[2].data) if isinstance(node.inputs[2], Constant) else None
    sizes = sizes.tolist() if sizes is not None and sizes.shape == (k,) and (sizes >= 0).all() else None

    def constant_body(a):
        # Sizes known when the code is generated (a scan gradient's [1, n - 1], folded):
        # one length test and fixed slices, none of the run-time size checks.
        lead = ":, " * a
        lines = [f"if x.shape[{a}] != {sum(sizes)}:",
                 "    raise ValueError('split: the sizes do not add up to the length of the axis')"]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        lines += [f"r{i} = x[{lead}{offsets[i]}:{offsets[i + 1]}].copy()" for i in range(k)]
        lines.append("return (" + "".join(f"r{i}, " for i in range(k)) + ")")
        return lines

    def body(a):
        if sizes is not None:
            return constant_body(a)
        # The total by a loop, not ``splits.sum()``: numba compiles its array-sum
        # implementation afresh in every process (~0.1 s per signature).
        lines = ["total = 0",
                 f"if splits.shape[0] == {k}:",
                 f"    for q in range({k}):",
                 "        total += splits[q]",
                 f"if splits.shape[0] != {k} or total != x.shape[{a}]:",
                 "    raise ValueError('split: the sizes do not add up to the length of the axis')",
                 "o = 0"]
        lead = ":, " * a
        for i in range(k):
            lines += [f"s{i} = splits[{i}]", f"if s{i} < 0:",
                      "    raise ValueError('split: negative size')",
                      f"r{i} = x[{lead}o:o + s{i}].copy()", f"o += s{i}"]
        lines.append("return (" + "".join(f"r{i}, " for i in range(k)) + ")")
        return lines

    src = ["def {name}(x, axis, splits):"] + _axis_branches(node.inputs[1], nd, body)
    if _static_axis(node.inputs[1], nd) is None:
        src.append("    r = x[:0].copy()")
        src.append("    return (" + "r, " * k + ")")
    return ctx.define("\n".join(src) + "\n", prefix="split")


def _wide_make_vector(node, ctx, dt):
    """MakeVector of many scalars: JOIN_CHUNK items per chunk kernel call, inlined
    like _wide_join (no graph-level call of 10^4 arguments)."""
    n = len(node.inputs)
    args = [f"x{i}" for i in range(n)]
    items = ["[()]" if hasattr(v.type, "shape") else "" for v in node.inputs]
    chunks = [list(range(k, min(k + JOIN_CHUNK, n))) for k in range(0, n, JOIN_CHUNK)]
    kernels = {}
    lines = [f"def {{name}}({', '.join(args)}):", f"    out = {ctx.empty(f'({n},)', dt)}"]
    for c in chunks:
        key = tuple(items[i] for i in c)
        if key not in kernels:
            body = [f"def {{name}}(out, o, {', '.join(f'x{j}' for j in range(len(c)))}):"]
            body += [f"    out[o + {j}] = x{j}{item}" for j, item in enumerate(key)]
            body.append("    return 0")
            kernels[key] = ctx.define("\n".join(body) + "\n", prefix="make_vector_chunk")
        lines.append(f"    {kernels[key]}(out, {c[0]}, {', '.join(args[i] for i in c)})")
    lines.append("    return out")
    return ctx.define("\n".join(lines) + "\n", prefix="join_wide_make_vector")


@numba_funcify.register(MakeVector)
def _funcify_make_vector(op, node, ctx):
    dt = np_dtype(op.dtype)
    n = len(node.inputs)
    if n > WIDE_JOIN:
        return _wide_make_vector(node, ctx, dt)
    args = [f"x{i}" for i in range(n)]
    lines = [f"def {{name}}({', '.join(args)}):", f"    out = {ctx.empty(f'({n},)', dt)}"]
    for i, v in enumerate(node.inputs):
        item = f"x{i}[()]" if hasattr(v.type, "shape") else f"x{i}"
        lines.append(f"    out[{i}] = {item}")
    lines.append("    return out")
    return ctx.define("\n".join(lines) + "\n", prefix="make_vector")

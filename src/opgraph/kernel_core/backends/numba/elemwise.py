"""Elemwise (incl. fused Composites) as one generated loop nest; DimShuffle as views.

The loop reads every input element once and writes every output once; a
Composite's inner graph is inlined into the loop body, so a fused chain reads
and writes memory a single time.  Outputs listed in ``inplace_pattern`` reuse
the input buffer (when its runtime shape is the output's) instead of
allocating.

Broadcasting: dims statically known to be 1 index 0.  Other dims take a fast
path when every input has the output's length at run time, and a general
path (per-input 0/1 stride flags) when one is broadcast at run time.
"""

from __future__ import annotations

import sys

from opgraph.kernel_core.backends.numba.dispatch import np_dtype, numba_funcify
from opgraph.kernel_core.backends.numba.scalar import statements_for
from opgraph.kernel_core.tensor.elemwise import DimShuffle, Elemwise, ScalarFromTensor, TensorFromScalar


def _index(ndim, static_one, mode, i):
    if ndim == 0:
        return "()"
    parts = []
    for d in range(ndim):
        if static_one[d]:
            parts.append("0")
        elif mode == "fast":
            parts.append(f"j{d}")
        else:
            parts.append(f"j{d} * b{i}_{d}")
    return ", ".join(parts)


def elemwise_source(scalar_op, in_types, out_types, inplace_pattern, ctx):
    """Source (with ``{name}``) of the loop nest computing ``Elemwise(scalar_op)``."""
    nin, nout = len(in_types), len(out_types)
    ndim = out_types[0].ndim
    xs = [f"x{i}" for i in range(nin)]
    static_one = [[t.shape[d] == 1 for d in range(ndim)] for t in in_types]
    out_static_one = [out_types[0].shape[d] == 1 for d in range(ndim)]
    lines = [f"def {{name}}({', '.join(xs)}):"]
    # Output shape and compatibility checks.
    for d in range(ndim):
        cands = [i for i in range(nin) if not static_one[i][d]]
        if not cands:
            lines.append(f"    n{d} = 1")
            continue
        lines.append(f"    n{d} = x{cands[0]}.shape[{d}]")
        for i in cands[1:]:
            lines.append(f"    if n{d} == 1:")
            lines.append(f"        n{d} = x{i}.shape[{d}]")
            lines.append(f"    elif x{i}.shape[{d}] != 1 and x{i}.shape[{d}] != n{d}:")
            lines.append(f"        raise ValueError('Elemwise: input shapes do not broadcast along axis {d}')")
    shape = "(" + "".join(f"n{d}, " for d in range(ndim)) + ")"
    same_terms = [f"x{i}.shape[{d}] == n{d}" for i in range(nin) for d in range(ndim) if not static_one[i][d]]
    lines.append(f"    same = {' and '.join(same_terms) if same_terms else 'True'}")
    # Output buffers: reuse a destroyed input when allowed and shapes agree.
    for o, t in enumerate(out_types):
        dt = np_dtype(t.dtype)
        if o in inplace_pattern:
            i = inplace_pattern[o]
            lines.append(f"    if x{i}.shape == {shape}:")
            lines.append(f"        out{o} = x{i}")
            lines.append("    else:")
            lines.append(f"        out{o} = np.empty({shape}, dtype={dt})")
        else:
            lines.append(f"    out{o} = np.empty({shape}, dtype={dt})")
    if sys.platform.startswith("linux") and ndim > 0:
        # Large fresh outputs: huge pages, as NumPy does (see array_kernels).
        advise = ctx.import_name("opgraph.kernel_core.backends.numba.array_kernels", "advise_huge_pages")
        for o in range(nout):
            if o not in inplace_pattern:
                lines.append(f"    if out{o}.nbytes >= {1 << 22}:")
                lines.append(f"        {advise}(out{o})")
    # The body: load inputs, compute, store.
    in_dtypes = [t.dtype for t in in_types]
    out_dtypes = [t.dtype for t in out_types]
    body = []
    args = [f"a{i}" for i in range(nin)]
    exprs = statements_for(scalar_op, args, in_dtypes, out_dtypes, ctx, body)

    def emit(mode, indent):
        pad = "    " * indent
        out = []
        for d in range(ndim):
            out.append(pad + "    " * d + f"for j{d} in range(n{d}):")
        inner = pad + "    " * ndim
        for i in range(nin):
            out.append(f"{inner}a{i} = x{i}[{_index(ndim, static_one[i], mode, i)}]")
        out.extend(inner + b for b in body)
        oidx = "()" if ndim == 0 else ", ".join(f"j{d}" for d in range(ndim))
        for o, e in enumerate(exprs):
            out.append(f"{inner}out{o}[{oidx}] = {e}")
        return out

    if ndim == 0 or not same_terms:
        lines.extend(emit("fast", 1))
    else:
        lines.append("    if same:")
        lines.extend(emit("fast", 2))
        lines.append("    else:")
        for i in range(nin):
            for d in range(ndim):
                if not static_one[i][d]:
                    lines.append(f"        b{i}_{d} = 1 if x{i}.shape[{d}] != 1 else 0")
        lines.extend(emit("general", 2))
    del out_static_one
    rets = [f"out{o}" for o in range(nout)]
    lines.append("    return " + (rets[0] if nout == 1 else "(" + ", ".join(rets) + ")"))
    return "\n".join(lines) + "\n"


@numba_funcify.register(Elemwise)
def _funcify_elemwise(op, node, ctx):
    src = elemwise_source(op.scalar_op, [v.type for v in node.inputs], [o.type for o in node.outputs],
                          dict(op.inplace_pattern), ctx)
    prefix = "elemwise_" + "".join(c for c in op.scalar_op.name if c.isalnum())[:20]
    return ctx.define(src, prefix=prefix)


@numba_funcify.register(DimShuffle)
def _funcify_dimshuffle(op, node, ctx):
    perm = tuple(op.shuffle) + tuple(op.drop)
    expr = "x"
    if perm == tuple(reversed(range(op.input_ndim))) and op.input_ndim > 1:
        expr = "x.T"
    elif perm != tuple(range(op.input_ndim)):
        # np.transpose(x, axes) costs numba ~15 s to compile; a strided view is the same thing.
        shape = "".join(f"x.shape[{p}], " for p in perm)
        strides = "".join(f"x.strides[{p}], " for p in perm)
        expr = f"np.lib.stride_tricks.as_strided(x, shape=({shape}), strides=({strides}))"
    idx, kept = [], iter(op.shuffle)
    for d in op.new_order:
        idx.append("None" if d == "x" else ":")
        if d != "x":
            next(kept)
    idx.extend("0" for _ in op.drop)
    out_ndim = len(op.new_order)
    if out_ndim == 0:
        # Dropping every axis: a 0-d array (a copy; numba has no 0-d views).
        expr = f"np.asarray({expr}[{', '.join(idx)}])" if idx else expr
    elif idx and any(i != ":" for i in idx):
        expr = f"{expr}[{', '.join(idx)}]"
    return ctx.define(f"def {{name}}(x):\n    return {expr}\n", prefix="dimshuffle")


@numba_funcify.register(TensorFromScalar)
def _funcify_tensor_from_scalar(op, node, ctx):
    dt = np_dtype(node.outputs[0].type.dtype)
    return ctx.define(f"def {{name}}(x):\n    return np.asarray({dt}(x))\n", prefix="tensor_from_scalar")


@numba_funcify.register(ScalarFromTensor)
def _funcify_scalar_from_tensor(op, node, ctx):
    dt = np_dtype(node.outputs[0].type.dtype)
    return ctx.define(f"def {{name}}(x):\n    return {dt}(x[()])\n", prefix="scalar_from_tensor")

"""Elemwise (incl. fused Composites) as one generated loop nest; DimShuffle as views.

The loop reads every input element once and writes every output once; a
Composite's inner graph is inlined into the loop body, so a fused chain reads
and writes memory a single time.  Outputs listed in ``inplace_pattern`` reuse
the input buffer (when its runtime shape is the output's) instead of
allocating.

Broadcasting: dims statically known to be 1 index 0, and inputs that are one
number are read once before the loop.  Like PyTensor >= 2.19, a dim not
statically 1 never broadcasts: every such dim has the output's length (checked
before the loop, ValueError otherwise), so a single loop nest, indexed without
strides, serves every call, and gradients never keep a broadcast shape.
"""

from __future__ import annotations

import sys

import numpy as np

from opgraph.kernel_core.backends.numba.dispatch import int64_arg, np_dtype, numba_funcify
from opgraph.kernel_core.backends.numba.scalar import statements_for, typed
from opgraph.kernel_core.backends.numba.scalar_form import holds_one_number, number_inputs_variant, scalar_form
from opgraph.kernel_core.backends.numba.views import permuted_view
from opgraph.kernel_core.tensor.elemwise import DimShuffle, Elemwise, ScalarFromTensor, TensorFromScalar


def _index(ndim, static_one):
    if ndim == 0:
        return "()"
    return ", ".join("0" if static_one[d] else f"j{d}" for d in range(ndim))


def elemwise_source(scalar_op, in_types, out_types, inplace_pattern, ctx, number_inputs=(), huge_pages=True):
    """Source (with ``{name}``) of the loop nest computing ``Elemwise(scalar_op)``; the
    inputs in ``number_inputs`` (each of one element) are passed as numbers.
    ``huge_pages=False``: the caller puts rows of a buffer of its own in place of the
    fresh outputs (Scan's step, inlined), so no huge-page advice for them."""
    nin, nout = len(in_types), len(out_types)
    ndim = out_types[0].ndim
    xs = [f"x{i}" for i in range(nin)]
    static_one = [[t.shape[d] == 1 for d in range(ndim)] for t in in_types]
    out_static_one = [out_types[0].shape[d] == 1 for d in range(ndim)]
    lines = [f"def {{name}}({', '.join(xs)}):"]
    # Output shape, then one compatibility test for the whole loop nest: a single
    # raise whose message is formatted in Python (kernel_errors.ValueError, the rule and
    # message of PYTHON mode's check_no_runtime_broadcast).  One raise per operand and
    # axis (three, to word each case) was half of a logp+grad function's raise sites,
    # and each raise site is lowered and optimised by numba and LLVM.
    mismatches = []
    for d in range(ndim):
        cands = [i for i in range(nin) if not static_one[i][d]]
        if not cands:
            lines.append(f"    n{d} = 1")
            continue
        lines.append(f"    n{d} = x{cands[0]}.shape[{d}]")
        # Lengths the types fix alike need no test (the graph function checks its
        # inputs' static shapes on entry, and every op's output has its type's shape).
        known = in_types[cands[0]].shape[d]
        mismatches += [f"x{i}.shape[{d}] != n{d}" for i in cands[1:] if known is None or in_types[i].shape[d] != known]
    if mismatches:
        error = ctx.import_name("opgraph.kernel_core.backends.numba.kernel_errors", "ValueError")
        shapes = "".join("(), " if i in number_inputs else f"x{i}.shape, " for i in range(nin))
        pattern = "|".join("".join("1" if one else "0" for one in static_one[i]) for i in range(nin))
        lines.append(f"    if {' or '.join(mismatches)}:")
        lines.append(f"        raise {error}('elemwise', ({shapes}), '{pattern}')")
    shape = "(" + "".join(f"n{d}, " for d in range(ndim)) + ")"
    same_terms = [f"x{i}.shape[{d}] == n{d}" for i in range(nin) for d in range(ndim) if not static_one[i][d]]
    # Output buffers.  Fresh ones are allocated up front; an inplace output reuses its
    # destroyed input when the shapes agree.  Where they always agree, the loop stores
    # into the input array itself: LLVM then sees a load and a store of the same
    # element and can vectorize, where a runtime alias check between "out" and the
    # input (the same buffer, selected at run time) would always fail and fall back
    # to scalar code.
    def reuse_or_allocate(o, pad):
        i = inplace_pattern[o]
        dt = np_dtype(out_types[o].dtype)
        return [f"{pad}if x{i}.shape == {shape}:", f"{pad}    out{o} = x{i}", f"{pad}else:",
                f"{pad}    out{o} = {ctx.empty(shape, dt)}"]

    for o, t in enumerate(out_types):
        if o not in inplace_pattern:
            # (Spelt np.empty where a caller replaces the allocation by a buffer row of
            # its own: the statement scan.py's _EMPTY matches, never compiled.)
            alloc = ctx.empty(shape, np_dtype(t.dtype)) if huge_pages else f"np.empty({shape}, dtype={np_dtype(t.dtype)})"
            lines.append(f"    out{o} = {alloc}")
    fresh = [o for o in range(nout) if o not in inplace_pattern]
    if huge_pages and sys.platform.startswith("linux") and ndim > 0 and fresh and not all(out_static_one):
        # Large fresh outputs: huge pages, as NumPy does (see array_kernels).  (Not for
        # outputs statically of one element.)  Outputs of one itemsize share a single
        # size test: fewer branches for numba to compile.
        advise = ctx.import_name("opgraph.kernel_core.backends.numba.array_kernels", "advise_huge_pages")
        by_size = {}
        for o in fresh:
            by_size.setdefault(np.dtype(out_types[o].dtype).itemsize, []).append(o)
        for group in by_size.values():
            lines.append(f"    if out{group[0]}.nbytes >= {1 << 22}:")
            lines.extend(f"        {advise}(out{o})" for o in group)
    # Inputs broadcast along every axis are one number: read it once, before the loop
    # (fewer loads, and fewer pointers for the vectorizer to check for overlap).
    hoisted = [i for i in range(nin) if ndim > 0 and all(static_one[i])]
    for i in hoisted:
        lines.append(f"    a{i} = x{i}" if i in number_inputs else f"    a{i} = x{i}[{_index(ndim, static_one[i])}]")
    # The body: load inputs, compute, store.
    in_dtypes = [t.dtype for t in in_types]
    out_dtypes = [t.dtype for t in out_types]
    body = []
    args = [f"a{i}" for i in range(nin)]
    exprs = statements_for(scalar_op, args, in_dtypes, out_dtypes, ctx, body)

    def emit(indent, targets):
        pad = "    " * indent
        out = []
        for d in range(ndim):
            out.append(pad + "    " * d + f"for j{d} in range(n{d}):")
        inner = pad + "    " * ndim
        for i in range(nin):
            if i not in hoisted:
                out.append(f"{inner}a{i} = x{i}[{_index(ndim, static_one[i])}]")
        out.extend(inner + b for b in body)
        oidx = "()" if ndim == 0 else ", ".join(f"j{d}" for d in range(ndim))
        for o, e in enumerate(exprs):
            out.append(f"{inner}{targets[o]}[{oidx}] = {e}")
        return out

    # Inplace outputs whose input has the output's shape once expanded (no axis of
    # the input is statically 1 where the output's is not) store straight into that
    # input; the others reuse it when the shapes agree at run time.
    direct = {o: i for o, i in inplace_pattern.items()
              if all(out_static_one[d] or not static_one[i][d] for d in range(ndim))}
    for o in inplace_pattern:
        if o in direct and ndim > 0 and same_terms:
            lines.append(f"    out{o} = x{direct[o]}")
        elif ndim == 0:
            # 0-d shapes always agree: no run-time test, no never-taken allocation
            # (less code for numba to type and lower).
            lines.append(f"    out{o} = x{inplace_pattern[o]}")
        else:
            lines.extend(reuse_or_allocate(o, "    "))
    lines.extend(emit(1, [f"x{direct[o]}" if o in direct and ndim > 0 and same_terms else f"out{o}"
                                  for o in range(nout)]))
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
        expr = permuted_view("x", perm)  # not np.transpose (views.py says why)
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
        if expr == "x" and op.input_ndim > 0:
            # Only adding / dropping length-1 axes: a reshape keeps a contiguous array
            # contiguous (indexing makes numba type it as any-layout, and loops over
            # any-layout arrays do not vectorize); strided inputs get an as_strided view.
            kept_axes = [d for d in op.new_order if d != "x"]
            shape = "".join(f"{int64_arg(1)}, " if d == "x" else f"x.shape[{d}], " for d in op.new_order)
            strides = "".join(f"{int64_arg(0)}, " if d == "x" else f"x.strides[{d}], " for d in op.new_order)
            if kept_axes == sorted(kept_axes):
                # (a shared kernel: numba types each view signature once per installation)
                view = ctx.import_name("opgraph.kernel_core.backends.numba.shared_kernels", "view")
                return ctx.define(f"def {{name}}(x):\n    return {view}(x, ({shape}), ({strides}))\n",
                                  prefix="dimshuffle")
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


# -- inside the graph function, one-element values as numbers (scalar_form.py) --

@scalar_form.register(Elemwise)
def _elemwise_on_numbers(op, node, ctx, value, prefix, lines):
    if not all(holds_one_number(v) for v in node.inputs):
        return None
    args = [value(i, True) for i in range(len(node.inputs))]
    in_dtypes = [v.type.dtype for v in node.inputs]
    with ctx.run_once():
        exprs = statements_for(op.scalar_op, args, in_dtypes, [o.type.dtype for o in node.outputs], ctx, lines,
                               prefix + "t")
    return [typed(op.scalar_op, e, in_dtypes, o.type.dtype) for o, e in zip(node.outputs, exprs)]


@number_inputs_variant.register(Elemwise)
def _elemwise_number_inputs(op, node, ctx, available):
    # A one-element input of a loop is read once before the loop: as a number it needs
    # no array at all.  (Not an input the node overwrites: that one is an array.)
    destroyed = set(op.inplace_pattern.values())
    as_number = {i for i, v in enumerate(node.inputs)
                 if available[i] and i not in destroyed and v.type.ndim > 0 and holds_one_number(v)}
    if not as_number:
        return None
    src = elemwise_source(op.scalar_op, [v.type for v in node.inputs], [o.type for o in node.outputs],
                          dict(op.inplace_pattern), ctx, number_inputs=as_number)
    return src.replace("{name}", "f"), as_number


@scalar_form.register(DimShuffle)
@scalar_form.register(TensorFromScalar)
@scalar_form.register(ScalarFromTensor)
def _same_number(op, node, ctx, value, prefix, lines):
    # Adding or dropping length-1 axes, or changing between a number and a 0-d
    # tensor, leaves the number as it is.
    return [value(0, True)]

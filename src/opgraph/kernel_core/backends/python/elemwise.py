"""Generated-Python rules for Elemwise (fused Composites included) and DimShuffle.

Elemwise.perform computes ``scalar_op.impl(*inputs)`` under
``errstate(all="ignore")``, then makes each result an array of the output
dtype, writes inplace results into their destroyed input, and materialises a
result whose shape is not the broadcast one.  The rule does the same, dropping
what the static types decide: when the scalar op is a plain ufunc its result
dtype is known (``ufunc.resolve_dtypes``) and its shape is the broadcast one,
so neither the cast nor the broadcast check is emitted.  A Composite is
unrolled into one ufunc call per inner node (as ``Composite.impl`` evaluates
it, with its per-node casts where they are not statically no-ops).
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.backends.python.dispatch import (ERRSTATE_ANY, ERRSTATE_IGNORE, Kernel, dtype_alias,
                                                          perform_kernel, python_funcify)
from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.scalar.basic import Add, FloatBinaryOp, FloatUnaryOp, Mul, ScalarOp, True_div
from opgraph.kernel_core.scalar.composite import Composite
from opgraph.kernel_core.tensor.elemwise import DimShuffle, Elemwise, check_no_runtime_broadcast


def _plain_ufunc(scalar_op, dtypes):
    """(ufunc, chained) when ``scalar_op.impl`` on these input dtypes is that ufunc's call
    (``chained``: folded left over the inputs, as Add/Mul's impl), else None."""
    impl = type(scalar_op).impl
    nfunc = scalar_op.nfunc
    if impl is ScalarOp.impl:
        if isinstance(nfunc, np.ufunc):
            return nfunc, False
        if type(scalar_op) is True_div:   # its nfunc calls np.true_divide(a, b)
            return np.true_divide, False
    elif impl in (FloatUnaryOp.impl, FloatBinaryOp.impl):
        # _as_float_args leaves float and complex arguments as they are.
        if isinstance(nfunc, np.ufunc) and all(np.dtype(d).kind in "fc" for d in dtypes):
            return nfunc, False
    elif impl is Add.impl and len(dtypes) >= 2:
        return np.add, True      # result + a: ndarray / NumPy-scalar addition is np.add
    elif impl is Mul.impl and len(dtypes) >= 2:
        return np.multiply, True
    return None


def _ufunc_out_dtypes(ufunc, in_dtypes):
    """The output dtypes NumPy picks for these input dtypes, or None if unknown."""
    try:
        dts = ufunc.resolve_dtypes(tuple(np.dtype(d) for d in in_dtypes) + (None,) * ufunc.nout)
    except Exception:   # no loop for these dtypes: leave the check to run time
        return None
    return tuple(np.dtype(d) for d in dts[ufunc.nin:])


def _call_scalar(op, args, dtypes, arrays, covers, lines, needs, names, out_dtypes):
    """Statements calling scalar ``op`` on ``args``; returns per output (name, is array, covers).

    ``arrays[i]``: args[i] is statically an ndarray of ndim > 0 (a ufunc of it returns an
    ndarray, not a NumPy scalar); ``covers``:
    the Elemwise inputs whose shapes a value is statically broadcast over (None: unknown).
    ``out_dtypes``: the dtypes the values must end with (cast where not known to match).
    """
    plain = _plain_ufunc(op, dtypes)
    outs = [names.local("r") for _ in out_dtypes]
    if plain is not None:
        ufunc, chained = plain
        fn = names.alias(ufunc.__name__)
        needs[fn] = ufunc
        cov = set()
        for c in covers:
            cov = None if (cov is None or c is None) else cov | c
        if chained:
            # impl folds left: ((a + b) + c); each step's dtype resolved in turn.
            (out,) = outs
            acc, acc_dtype = args[0], np.dtype(dtypes[0])
            for a, d in zip(args[1:], dtypes[1:]):
                lines.append(f"{out} = {fn}({acc}, {a})")
                got = _ufunc_out_dtypes(ufunc, (acc_dtype, d))
                acc, acc_dtype = out, (got[0] if got else None)
                if acc_dtype is None:
                    break
            else:
                got = (acc_dtype,)
            if acc_dtype is None:   # unknown dtype somewhere: cast at the end, as for impl
                got = None
            is_array = any(arrays)
            return _finish(outs, out_dtypes, got, is_array, cov, lines, needs, names)
        got = _ufunc_out_dtypes(ufunc, dtypes)
        is_array = any(arrays)
    else:
        fn = names.alias("impl")
        needs[fn] = op.impl
        got, is_array, cov = None, False, None
    lines.append(f"{', '.join(outs)}{',' if len(outs) == 1 and op.nout > 1 else ''} = {fn}({', '.join(args)})")
    return _finish(outs, out_dtypes, got, is_array, cov, lines, needs, names)


def _finish(outs, out_dtypes, got, is_array, cov, lines, needs, names):
    """Cast each result to its dtype unless statically an ndarray of that dtype already."""
    result = []
    for name, want, have in zip(outs, out_dtypes, got or [None] * len(outs)):
        if is_array and have == np.dtype(want):
            result.append((name, True, cov))
            continue
        asarray = "_np_asarray"
        needs[asarray] = np.asarray
        dt = dtype_alias(names, needs, want)
        lines.append(f"{name} = {asarray}({name}).astype({dt}, copy=False)")
        # An ndarray now, but maybe 0-d: a ufunc of 0-d arrays returns a NumPy scalar.
        result.append((name, is_array, cov))
    return result


def _unroll_composite(comp, args, arrays, lines, needs, names):
    """Statements evaluating the Composite's inner graph as ``Composite.impl`` does."""
    value = {}   # inner variable -> (expression, is ndarray, covers)
    for k, (v, a) in enumerate(zip(comp.inputs, args)):
        value[v] = (a, arrays[k], {k})
    for node in comp.nodes:
        ins, dts, arr, cov = [], [], [], []
        for v in node.inputs:
            if v in value:
                expr, is_arr, c = value[v]
            else:   # an inner constant: its data, as impl reads it
                expr = names.alias("c")
                needs[expr] = v.data
                is_arr, c = isinstance(v.data, np.ndarray) and v.data.ndim > 0, set()
            ins.append(expr)
            dts.append(v.type.dtype)
            arr.append(is_arr)
            cov.append(c)
        res = _call_scalar(node.op, ins, dts, arr, cov, lines, needs, names,
                           [o.type.dtype for o in node.outputs])
        for o, r in zip(node.outputs, res):
            value[o] = r
    results = []
    for o in comp.outputs:
        if o in value:
            results.append(value[o])
        else:   # an output that is an inner constant
            alias = names.alias("c")
            needs[alias] = o.data
            results.append((alias, False, set()))
    return results


def _needs_broadcast_check(node):
    """Whether ``check_no_runtime_broadcast`` can fail: some axis has two inputs of
    length not statically 1, one of them unknown."""
    if len(node.inputs) < 2:
        return []
    axes = []
    for d in range(node.outputs[0].type.ndim):
        lengths = [i.type.shape[d] for i in node.inputs if i.type.shape[d] != 1]
        if len(lengths) >= 2 and None in lengths:
            axes.append((d, [k for k, i in enumerate(node.inputs) if i.type.shape[d] != 1]))
    return axes


@python_funcify.register(Elemwise)
def elemwise_kernel(op, node, names):
    if type(op).perform is not Elemwise.perform:   # a subclass computing otherwise
        return perform_kernel(op, node, names)
    ins, outs = names.inputs, names.outputs
    lines, needs = [], {}
    ndim = node.outputs[0].type.ndim
    checks = _needs_broadcast_check(node)
    if checks:
        # The cheap test inline; the VM's own check (and message) when it fails.
        conds = []
        for d, ks in checks:
            first = ins[ks[0]]
            conds += [f"{ins[k]}.shape[{d}] != {first}.shape[{d}]" for k in ks[1:]]
        check, node_alias = names.alias("check"), names.alias("node")
        needs[check], needs[node_alias] = check_no_runtime_broadcast, node
        lines.append(f"if {' or '.join(conds)}: {check}({node_alias}, [{', '.join(ins)}])")
    arrays = [ndim > 0] * len(ins)   # a tensor input of ndim > 0 is an ndarray at run time
    out_dtypes = [o.type.dtype for o in node.outputs]
    if isinstance(op.scalar_op, Composite):
        results = _unroll_composite(op.scalar_op, ins, arrays, lines, needs, names)
        # impl's results are inner values; perform then casts them to the outputs' dtypes.
        final = []
        for (expr, is_arr, cov), o, want in zip(results, node.outputs, out_dtypes):
            known = is_arr and _dtype_of_inner(op.scalar_op, o, node) == np.dtype(want)
            final.append((expr, known, cov))
        results = final
    else:
        res = _call_scalar(op.scalar_op, ins, [i.type.dtype for i in node.inputs], arrays,
                           [{k} for k in range(len(ins))], lines, needs, names, out_dtypes)
        results = [(e, True, c) for e, _, c in res]
    all_inputs = set(range(len(ins)))
    shape = None
    for j, ((expr, known, cov), out, want) in enumerate(zip(results, outs, out_dtypes)):
        if not known:
            asarray = "_np_asarray"
            needs[asarray] = np.asarray
            dt = dtype_alias(names, needs, want)
            lines.append(f"{out} = {asarray}({expr})")
            lines.append(f"if {out}.dtype != {dt}: {out} = {out}.astype({dt})")
        else:
            lines.append(f"{out} = {expr}")
        if j in op.inplace_pattern:
            target = ins[op.inplace_pattern[j]]
            lines.append(f"if {target}.shape == {out}.shape:")
            lines.append(f"    {target}[...] = {out}")
            lines.append(f"    {out} = {target}")
        elif cov is None or cov != all_inputs or not known:
            # Not statically the broadcast shape (a value passed through, a constant, an impl).
            if shape is None:
                shape = names.local("shape")
                bshapes, npshape = "_np_broadcast_shapes", "_np_shape"
                needs[bshapes], needs[npshape] = np.broadcast_shapes, np.shape
                lines.append(f"{shape} = {bshapes}({', '.join(f'{npshape}({i})' for i in ins)})")
            bto = "_np_broadcast_to"
            needs[bto] = np.broadcast_to
            lines.append(f"if {out}.shape != {shape}: {out} = {bto}({out}, {shape}).copy()")
    return Kernel(lines, needs, ERRSTATE_IGNORE)


def _dtype_of_inner(comp, outer_out, node):
    """The dtype of the Composite's inner output behind ``outer_out``."""
    return np.dtype(comp.outputs[node.outputs.index(outer_out)].type.dtype)


@python_funcify.register(DimShuffle)
def dimshuffle_kernel(op, node, names):
    if type(op).perform is not DimShuffle.perform:   # a subclass computing otherwise
        return perform_kernel(op, node, names)
    (x,), (out,) = names.inputs, names.outputs
    needs = {}
    perm = op.shuffle + op.drop
    shape = ", ".join("1" if d == "x" else f"{x}.shape[{d}]" for d in op.new_order)
    shape = f"({shape}{',' if len(op.new_order) == 1 else ''})"
    if perm == tuple(range(op.input_ndim)):
        # np.transpose with the identity order is a view of the same layout.
        lines = [f"{out} = {x}.reshape({shape})"]
    else:
        tr = "_np_transpose"
        needs[tr] = np.transpose
        lines = [f"{out} = {tr}({x}, {perm!r}).reshape({shape})"]
    return Kernel(lines, needs, ERRSTATE_ANY)

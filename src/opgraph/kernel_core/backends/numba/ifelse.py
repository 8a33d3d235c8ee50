"""Numba implementation of IfElse: ``if cond: <then code> else: <else code>``.

Each branch's inner graph is generated as statements (``inner_graph_lines``, the
scheme of OpFromGraph's implementation: every inner node its own dispatch, the
inlinable bodies pasted in as source), inside its side of the ``if``: the branch
not taken never runs.  The function has two returns, so codegen calls it rather
than pasting it; it is still compiled into the one graph module.

``inner_graph_lines`` is shared with Scan's implementation (its step function).
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.backends.numba.dispatch import literal, np_dtype, numba_funcify
from opgraph.kernel_core.backends.numba.inlining import inline_call
from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.graph.traversal import io_toposort
from opgraph.kernel_core.ifelse import IfElse
from opgraph.kernel_core.scalar.type import ScalarType

_LITERAL_SIZE = 64


def _constant_source(var, ctx):
    if isinstance(var.type, ScalarType):
        return literal(var.data, var.type.dtype)
    data = np.asarray(var.data)
    if data.size == 0 and data.dtype.kind in "biuf":   # numba cannot type an empty list literal
        shape = "(" + "".join(f"{s}, " for s in data.shape) + ")"
        return f"np.empty({shape}, dtype={np_dtype(data.dtype)})"
    if data.size <= _LITERAL_SIZE and data.dtype.kind in "biuf":
        items = ", ".join(literal(x, data.dtype) for x in data.ravel())
        shape = "(" + "".join(f"{s}, " for s in data.shape) + ")"
        return f"np.array([{items}], dtype={np_dtype(data.dtype)}).reshape({shape})"
    return ctx.python_object(np.ascontiguousarray(data), prefix="inner_constant")


def inner_graph_lines(ctx, inner_inputs, inner_outputs, arg_names, tag, copy_aliases=True):
    """Statements computing ``inner_outputs`` from ``inner_inputs`` (named ``arg_names``).

    Returns ``(lines, result_names)``.  ``tag`` makes the local names unique in the
    enclosing function.  With ``copy_aliases`` an output that is an inner input or a
    view of one is copied (the node declares no view_map).
    """
    from opgraph.kernel_core.backends.numba.codegen import _INLINED_FAMILIES

    names = dict(zip(inner_inputs, arg_names))
    lines = []
    n_const = [0]

    def value_of(v):
        if v not in names:
            if not isinstance(v, Constant):
                raise ValueError(f"inner graph: variable {v} is used before it is computed")
            names[v] = f"{tag}c{n_const[0]}"
            n_const[0] += 1
            lines.append(f"{names[v]} = {_constant_source(v, ctx)}")
        return names[v]

    for k, inner in enumerate(io_toposort(list(inner_inputs), list(inner_outputs))):
        fn = numba_funcify(inner.op, inner, ctx)
        args = [value_of(v) for v in inner.inputs]
        outs = [f"{tag}t{k}_{j}" for j in range(len(inner.outputs))]
        target = outs[0] if len(outs) == 1 else ", ".join(outs)
        inlined = None
        if fn.startswith(_INLINED_FAMILIES):
            inlined = inline_call(ctx.sources.get(fn), args, target, f"{tag}{k}_")
        if inlined is None:
            lines.append(f"{target} = {fn}({', '.join(args)})")
        else:
            lines.extend(inlined)
        names.update(zip(inner.outputs, outs))
    results = []
    for o in inner_outputs:
        name = value_of(o)
        may_alias = o.owner is None or bool(getattr(o.owner.op, "view_map", None))
        if copy_aliases and may_alias and not isinstance(o.type, ScalarType):
            name = f"{name}.copy()"
        results.append(name)
    return lines, results


@numba_funcify.register(IfElse)
def numba_funcify_ifelse(op, node, ctx):
    params = [f"a{k}" for k in range(len(op.inner_inputs))]
    body = []
    for branch, outs in (("if cond[()]:", op.then_outputs), ("else:", op.else_outputs)):
        lines, results = inner_graph_lines(ctx, op.inner_inputs, outs, params, "_t_" if outs is op.then_outputs
                                           else "_e_")
        # Both sides return the node's output dtypes (numba unifies the two returns).
        results = [f"np.asarray({r}).astype({np_dtype(o.type.dtype)})"
                   if o.type.dtype != out.type.dtype else r for r, o, out in zip(results, outs, node.outputs)]
        body.append(f"    {branch}")
        body.extend(f"        {line}" for line in lines)
        body.append("        return (" + "".join(f"{r}, " for r in results) + ")"
                    if len(results) > 1 else f"        return {results[0]}")
    src = f"def {{name}}(cond, {', '.join(params)}):\n" + "\n".join(body) + "\n"
    return ctx.define(src, prefix="ifelse")

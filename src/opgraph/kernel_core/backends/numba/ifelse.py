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


def inner_graph_lines(ctx, inner_inputs, inner_outputs, arg_names, tag, copy_aliases=True, number_inputs=(),
                      as_arrays=True, node_lines=None):
    """Statements computing ``inner_outputs`` from ``inner_inputs`` (named ``arg_names``).

    Returns ``(lines, result_names)``, or with ``as_arrays=False``
    ``(lines, result_names, is_number)``: a result may then be a plain number.
    ``number_inputs``: positions of the inputs passed as numbers (0-d values).
    As in the graph function (``scalar_form.py``), nodes whose outputs hold one
    number are computed on numbers where their op has a scalar form: a 0-d array
    per op and step would be most of a scalar loop's time.  ``tag`` makes the
    local names unique in the enclosing function.  With ``copy_aliases`` an array
    output that is an inner input or a view of one is copied (no view_map).
    ``node_lines(node, arg_names, out_names)``, when given, may return the statements
    of a node itself (Scan's step: a matrix-vector product with a loop-invariant matrix);
    None keeps the node's own implementation.
    """
    from opgraph.kernel_core.backends.numba.codegen import _INLINED_FAMILIES
    from opgraph.kernel_core.backends.numba.scalar_form import (box_call, element_index, holds_one_number,
                                                                scalar_form)

    arrays, numbers = {}, {}
    for k, (v, name) in enumerate(zip(inner_inputs, arg_names)):
        if k in number_inputs:
            numbers[v] = name
        else:
            arrays[v] = name
        if isinstance(v.type, ScalarType):
            arrays[v] = numbers[v] = name
    lines = []
    counter = [0]

    def fresh(kind):
        counter[0] += 1
        return f"{tag}{kind}{counter[0]}"

    def array_of(v):
        if v in arrays:
            return arrays[v]
        if isinstance(v, Constant):
            arrays[v] = fresh("c")
            lines.append(f"{arrays[v]} = {_constant_source(v, ctx)}")
            return arrays[v]
        if v in numbers:
            arrays[v] = fresh("b")   # (a shared kernel up to rank 2: no function of this graph to compile)
            lines.append(f"{arrays[v]} = {box_call(v.type.ndim, v.type.dtype, numbers[v], ctx)}")
            return arrays[v]
        raise ValueError(f"inner graph: variable {v} is used before it is computed")

    def number_of(v):
        if v in numbers:
            return numbers[v]
        if isinstance(v, Constant):
            return literal(np.asarray(v.data).reshape(()), v.type.dtype)
        arr = array_of(v)
        numbers[v] = fresh("n")
        lines.append(f"{numbers[v]} = {arr}[{element_index(v.type.ndim)}]")
        return numbers[v]

    for k, inner in enumerate(io_toposort(list(inner_inputs), list(inner_outputs))):
        prefix = f"{tag}{k}_"
        if all(holds_one_number(o) for o in inner.outputs):
            body = []
            exprs = scalar_form(inner.op, inner, ctx,
                                lambda i, as_number: number_of(inner.inputs[i]) if as_number
                                else array_of(inner.inputs[i]), prefix, body)
            if exprs is not None:
                lines.extend(body)
                for j, (o, e) in enumerate(zip(inner.outputs, exprs)):
                    numbers[o] = f"{tag}s{k}_{j}"
                    lines.append(f"{numbers[o]} = {e}")
                    if isinstance(o.type, ScalarType):
                        arrays[o] = numbers[o]
                continue
        args = [array_of(v) for v in inner.inputs]
        outs = [f"{tag}t{k}_{j}" for j in range(len(inner.outputs))]
        own = None if node_lines is None else node_lines(inner, args, outs)
        if own is not None:
            lines.extend(own)
            arrays.update(zip(inner.outputs, outs))
            continue
        fn = numba_funcify(inner.op, inner, ctx)
        target = outs[0] if len(outs) == 1 else ", ".join(outs)
        inlined = None
        if fn.startswith(_INLINED_FAMILIES):
            inlined = inline_call(ctx.sources.get(fn), args, target, prefix)
        if inlined is None:
            lines.append(f"{target} = {fn}({', '.join(args)})")
        else:
            lines.extend(inlined)
        arrays.update(zip(inner.outputs, outs))
    results, kinds = [], []
    for o in inner_outputs:
        if not as_arrays and o in numbers and not isinstance(o, Constant):
            results.append(numbers[o])
            kinds.append(True)
            continue
        name = array_of(o)
        may_alias = o.owner is None or bool(getattr(o.owner.op, "view_map", None))
        if copy_aliases and may_alias and not isinstance(o.type, ScalarType) and o in arrays \
                and not name.startswith(f"{tag}b"):
            name = f"{name}.copy()"
        results.append(name)
        kinds.append(isinstance(o.type, ScalarType))
    if as_arrays:
        return lines, results
    return lines, results, kinds


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

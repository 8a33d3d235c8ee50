"""Numba implementation of OpFromGraph: the inner graph's code in one function.

Each inner node gets its own implementation (the same dispatch as any node),
and the inlinable ones have their bodies pasted in as source (``inline_call``),
so the function is flat statements; codegen then pastes *that* body into the
graph function too (its name is in ``codegen._INLINED_FAMILIES``): an
OpFromGraph costs numba no call and no extra function to type.

Scalar constants become literals; small tensor constants literal arrays;
larger ones a module global (the module is then not disk-cached).
Outputs that are inner inputs, or views of them, are copied: the node
declares no view_map, so the outer graph may overwrite its outputs in place.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.backends.numba.dispatch import literal, np_dtype, numba_funcify
from opgraph.kernel_core.backends.numba.inlining import inline_call
from opgraph.kernel_core.compile.builders import OpFromGraph
from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.graph.traversal import io_toposort
from opgraph.kernel_core.scalar.type import ScalarType

# Tensor constants up to this many elements are written into the source.
_LITERAL_SIZE = 64


def _constant_source(var, ctx):
    if isinstance(var.type, ScalarType):
        return literal(var.data, var.type.dtype)
    data = np.asarray(var.data)
    if data.size <= _LITERAL_SIZE and data.dtype.kind in "biuf":
        items = ", ".join(literal(x, data.dtype) for x in data.ravel())
        shape = "(" + "".join(f"{s}, " for s in data.shape) + ")"
        return f"np.array([{items}], dtype={np_dtype(data.dtype)}).reshape({shape})"
    return ctx.python_object(np.ascontiguousarray(data), prefix="ofg_constant")


@numba_funcify.register(OpFromGraph)
def numba_funcify_op_from_graph(op, node, ctx):
    from opgraph.kernel_core.backends.numba.codegen import _INLINED_FAMILIES

    inner_inputs, inner_outputs = op.inner_graphs()
    names = {v: f"a{k}" for k, v in enumerate(inner_inputs)}
    lines = []

    def value_of(v):
        if v not in names:
            if not isinstance(v, Constant):
                raise ValueError(f"{op}: inner variable {v} is used before it is computed")
            names[v] = f"c{len(names)}"
            lines.append(f"{names[v]} = {_constant_source(v, ctx)}")
        return names[v]

    for k, inner in enumerate(io_toposort(inner_inputs, inner_outputs)):
        fn = numba_funcify(inner.op, inner, ctx)
        args = [value_of(v) for v in inner.inputs]
        outs = [f"t{k}_{j}" for j in range(len(inner.outputs))]
        target = outs[0] if len(outs) == 1 else ", ".join(outs)
        inlined = None
        if fn.startswith(_INLINED_FAMILIES):
            inlined = inline_call(ctx.sources.get(fn), args, target, f"_{k}_")
        if inlined is None:
            lines.append(f"{target} = {fn}({', '.join(args)})")
        else:
            lines.extend(inlined)
        names.update(zip(inner.outputs, outs))
    results = []
    for o in inner_outputs:
        name = value_of(o)
        may_alias = o.owner is None or bool(getattr(o.owner.op, "view_map", None))
        is_array = not isinstance(o.type, ScalarType)
        results.append(f"{name}.copy()" if may_alias and is_array else name)
    ret = results[0] if len(results) == 1 else "(" + "".join(f"{r}, " for r in results) + ")"
    params = ", ".join(f"a{k}" for k in range(len(inner_inputs)))
    body = "".join(f"    {line}\n" for line in lines)
    return ctx.define(f"def {{name}}({params}):\n{body}    return {ret}\n", prefix="op_from_graph")

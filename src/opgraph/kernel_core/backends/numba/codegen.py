"""Whole-graph code generation: the source of ONE Python function for a FunctionGraph.

    def opgraph_graph(i0, k0):
        # elemwise_composite_1
        _0_x0 = i0
        ... (the body of elemwise_composite_1, its locals prefixed _0_)
        v0_0 = _0_out0
        # dimshuffle_2
        ...
        return (v5_0,)

Each Op's implementation generates an njit function (``numba_funcify``); the
graph function inlines their bodies as source (``inline_call``), so numba
types and compiles ONE function -- per-function compile overhead was most of
the compile time -- and a call is one dispatch into machine code.  The
per-node functions stay in the module, compiled lazily: only profiling and
error reports (which run the graph node by node) use them.  Non-scalar constants are extra trailing
arguments (source stays small and independent of data); scalar constants
are literals.  The module text is deterministic in the graph, so its hash is
the disk-cache key (``cache.py``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import numpy as np

from opgraph.kernel_core.backends.numba.dispatch import CodeContext, literal, load_op_implementations, numba_funcify
from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.scalar.type import ScalarType

GRAPH_FUNCTION = "opgraph_graph"
# Implementations whose generated bodies are known to inline textually as is
# (the others are called: e.g. literal-dependent code that numba types per call).
_INLINED_FAMILIES = ("elemwise_", "dimshuffle_", "reduce_", "shape_", "tensor_from_scalar_",
                     "scalar_from_tensor_", "dot_")


@dataclass
class GeneratedModule:
    source: str
    cacheable: bool
    objects: dict                  # globals that are not importable (fallback performs)
    constants: list                # values of the trailing constant arguments
    order: list                    # the scheduled Apply nodes
    node_functions: list = field(default_factory=list)   # per node: generated function name
    var_names: dict = field(default_factory=dict)        # Variable -> local name
    n_inputs: int = 0


def schedule(fgraph):
    """The execution order (the compile pipeline's scheduler when available)."""
    try:
        from opgraph.kernel_core.compile.vm import schedule as vm_schedule
    except ImportError:
        return fgraph.toposort()
    return vm_schedule(fgraph)


class _Renamer(ast.NodeTransformer):
    def __init__(self, local_names, prefix):
        self.local_names = local_names
        self.prefix = prefix

    def visit_Name(self, node):
        if node.id in self.local_names:
            node.id = self.prefix + node.id
        return node


def inline_call(source, args, target, prefix):
    """Statements computing ``target = f(*args)`` from ``f``'s source, or None when
    ``f`` cannot be inlined textually (an early return, a ``with`` block (objmode),
    nested scopes).  Locals get ``prefix`` so inlined bodies never clash."""
    if source is None:
        return None
    tree = ast.parse(source)
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        return None
    fn = tree.body[0]
    if not fn.body or not isinstance(fn.body[-1], ast.Return) or fn.body[-1].value is None:
        return None
    params = [a.arg for a in fn.args.args]
    if fn.args.vararg or fn.args.kwarg or fn.args.kwonlyargs or fn.args.defaults or len(params) != len(args):
        return None
    local_names = set(params)
    for node in ast.walk(fn):
        if node is fn:
            continue
        if isinstance(node, (ast.Return,)) and node is not fn.body[-1]:
            return None
        if isinstance(node, (ast.With, ast.FunctionDef, ast.Lambda, ast.ClassDef, ast.Global, ast.Nonlocal,
                             ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Yield)):
            return None
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            local_names.add(node.id)
    renamer = _Renamer(local_names, prefix)
    lines = [f"{prefix}{p} = {a}" for p, a in zip(params, args)]
    for stmt in fn.body[:-1]:
        lines.extend(ast.unparse(renamer.visit(stmt)).splitlines())
    ret = renamer.visit(fn.body[-1]).value
    lines.append(f"{target} = {ast.unparse(ret)}")
    return lines


def generate_module(fgraph, cache_flag=True):
    """Generate the module source computing ``fgraph``."""
    load_op_implementations()
    ctx = CodeContext()
    order = schedule(fgraph)
    names = {}
    for k, v in enumerate(fgraph.inputs):
        names[v] = f"i{k}"
    const_args, constants, const_seen = [], [], {}

    def name_of(v):
        n = names.get(v)
        if n is not None:
            return n
        if isinstance(v, Constant):
            if isinstance(v.type, ScalarType):
                return literal(v.data, v.type.dtype)
            key = id(v)
            if key not in const_seen:
                const_seen[key] = f"k{len(constants)}"
                constants.append(v.data)
                const_args.append(const_seen[key])
            names[v] = const_seen[key]
            return names[v]
        raise ValueError(f"codegen: variable {v} is used before it is computed")

    body, node_functions = [], []
    for k, node in enumerate(order):
        fn = numba_funcify(node.op, node, ctx)
        node_functions.append(fn)
        args = ", ".join(name_of(v) for v in node.inputs)
        outs = []
        for j, o in enumerate(node.outputs):
            names[o] = f"v{k}_{j}"
            outs.append(names[o])
        target = outs[0] if len(outs) == 1 else ", ".join(outs)
        inlined = None
        if fn.startswith(_INLINED_FAMILIES):
            inlined = inline_call(ctx.sources.get(fn), [name_of(v) for v in node.inputs], target, f"_{k}_")
        if inlined is None:
            body.append(f"    {target} = {fn}({args})")
        else:
            body.append(f"    # {fn}")
            body.extend("    " + line for line in inlined)
    rets = [name_of(v) for v in fgraph.outputs]
    body.append("    return (" + "".join(f"{r}, " for r in rets) + ")")
    params = [names[v] for v in fgraph.inputs] + const_args

    header = [
        "# Generated by opgraph's Numba backend; do not edit (the disk cache is keyed on this text).",
        "import math",
        "import numpy as np",
        "import numba",
        f"_CACHE = {bool(cache_flag and ctx.cacheable)}",
    ]
    for alias, (module, attribute) in sorted(ctx.imports.items()):
        header.append(f"from {module} import {attribute} as {alias}")
    graph_fn = [
        "@numba.njit(cache=_CACHE, error_model='numpy')",
        f"def {GRAPH_FUNCTION}({', '.join(params)}):",
    ] + body
    source = "\n".join(header) + "\n\n\n" + "\n\n\n".join(ctx.definitions + ["\n".join(graph_fn)]) + "\n"
    return GeneratedModule(source=source, cacheable=ctx.cacheable, objects=dict(ctx.objects),
                           constants=constants, order=order, node_functions=node_functions,
                           var_names=names, n_inputs=len(fgraph.inputs))



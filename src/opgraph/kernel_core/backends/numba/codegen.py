"""Whole-graph code generation: the source of ONE Python function for a FunctionGraph.

    def opgraph_graph(i0, i1):
        i1n = i1[()]
        # elemwise_exp_2 (on numbers)
        s1_0 = math.exp(i1n)
        # elemwise_Composite_3
        ... (its body, reading i0 and s1_0, locals prefixed _2_)
        v2_0 = _2_out0
        ...
        return (v2_0, b0, )

Each Op's implementation generates an njit function (``numba_funcify``); the
graph function inlines their bodies as source (``inline_call``), so numba
types and compiles ONE function -- per-function compile overhead was most of
the compile time -- and a call is one dispatch into machine code.  Values of
one element are computed as numbers where the op allows (``scalar_form.py``).  The
per-node functions stay in the module, compiled lazily: only profiling and
error reports (which run the graph node by node) use them.  Non-scalar constants are extra trailing
arguments (source stays small and independent of data); scalar constants
are literals.  The module text is deterministic in the graph, so its hash is
the disk-cache key (``cache.py``).
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field

import numpy as np

from opgraph.kernel_core.backends.numba.dispatch import CodeContext, literal, load_op_implementations, numba_funcify
from opgraph.kernel_core.backends.numba.inlining import inline_call
from opgraph.kernel_core.backends.numba.scalar_form import (box_call, element_index, holds_one_number,
                                                            number_inputs_variant, scalar_form)
from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.scalar.type import ScalarType
from opgraph.kernel_core.tensor.type import TensorType

GRAPH_FUNCTION = "opgraph_graph"
# The families whose node functions op_from_graph.py and ifelse.py paste into the
# inner functions they generate (the graph function itself tries every family, below).
_INLINED_FAMILIES = ("elemwise_", "dimshuffle_", "reduce_", "shape_", "tensor_from_scalar_",
                     "scalar_from_tensor_", "dot_", "op_from_graph_", "join_",
                     "subtensor_", "incsubtensor_", "split_", "softmax_", "log_softmax_",
                     "make_vector_")
# The graph function pastes every node function's body that ``inline_call`` accepts
# (the others -- early returns, objmode blocks, nested helpers -- are called).  Every
# function called instead is one more numba dispatcher per graph, each with its own
# typing, LLVM module optimisation and machine-code finalisation (issue 18: inlining
# the indexing / join / softmax families cut the cold compile of the dual-mode indexing,
# inc_set, join and shape families by 13-15%; benchmarks/RESULTS.md, "Cold compile of
# scans"; every family (repeat, sort, alloc, reshape, random, linalg, ...) besides: 20.4
# -> 19.5 process CPU-s for dual-mode family extra_ops, cold, one run each on an idle
# machine).  The node functions stay defined for profiling and for
# the error reports that re-run a failing node (linker.py).


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


# Lines of the graph function's body past which it is cut into part functions.
# Numba and LLVM take superlinear time and memory on one huge function (a 10^5-node
# chain ran out of 8 GB); parts of about this size compile in about linear total time.
PART_LINES = 1500
PART_FUNCTION = "opgraph_part"


def split_into_parts(body, cuts, params, part_lines=None):
    """Cut ``body`` (the graph function's lines) at node boundaries into part functions.

    ``cuts``: positions in ``body`` where a node ends (the last one: where the
    final boxing and the return begin).  Each part becomes
    ``def opgraph_partN(<names it reads from before>): ... return (<names read after>,)``
    and the graph function calls the parts in order.  Names are found with ``ast``
    (every graph-level name is assigned once; inlined locals carry a per-node
    prefix), one bounded-size part at a time.  Returns (new body, part sources).
    """
    import ast

    part_lines = PART_LINES if part_lines is None else part_lines
    spans, start = [], 0
    for end in cuts[:-1]:
        if end - start >= part_lines:
            spans.append((start, end))
            start = end
    tail_start = start
    if not spans:
        return body, []
    spans.append((tail_start, len(body)))   # the tail stays in the graph function

    def names(lines):
        tree = ast.parse("def _part():\n" + "\n".join(lines) + "\n    pass")
        stored, loaded = set(), set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                (stored if isinstance(node.ctx, ast.Store) else loaded).add(node.id)
        return stored, loaded

    analysed = [names(body[a:b]) for a, b in spans]
    # What each part must return: its names read by a later part (or the tail).
    needed_after, returns = set(), [None] * len(spans)
    for i in range(len(spans) - 1, -1, -1):
        stored, loaded = analysed[i]
        returns[i] = sorted(stored & needed_after)
        needed_after |= loaded
    defined = set(params)
    new_body, parts = [], []
    for i, (a, b) in enumerate(spans[:-1]):
        stored, loaded = analysed[i]
        args = sorted(loaded & defined)
        name = f"{PART_FUNCTION}{i}"
        rets = returns[i]
        parts.append("\n".join(["@numba.njit(cache=_CACHE, error_model='numpy')",
                                f"def {name}({', '.join(args)}):"] + body[a:b]
                               + ["    return (" + "".join(f"{r}, " for r in rets) + ")"]))
        target = "".join(f"{r}, " for r in rets) + "= " if rets else ""
        new_body.append(f"    {target}{name}({', '.join(args)})")
        defined |= stored
    new_body.extend(body[tail_start:])
    return new_body, parts


def schedule(fgraph):
    """The execution order: the compile pipeline's scheduler (the same order as the VM)."""
    from opgraph.kernel_core.compile.vm import schedule as vm_schedule

    return vm_schedule(fgraph)


def _static_shape_guard(inputs):
    """Lines testing, on entry, every length the graph inputs' types fix.  The kernels
    then take the static shapes for granted (an Elemwise of two ``(2, None)`` inputs
    does not compare their first lengths; a constant index within a fixed length is
    not bounds-checked), also when the caller skipped input validation (trust_input):
    an array of another shape stops here, with one constant-message raise (cheap to
    compile, unlike the run-time-valued raises it saves)."""
    tests = [f"i{k}.shape[{d}] != {n}" for k, v in enumerate(inputs)
             if isinstance(v.type, TensorType) for d, n in enumerate(v.type.shape) if n is not None]
    if not tests:
        return []
    message = ("the graph's inputs do not have the shapes their types fix (an input passed "
               "with trust_input=True is not checked before the compiled code runs)")
    return [f"    if {' or '.join(tests)}:", f"        raise ValueError({message!r})"]


def generate_module(fgraph, cache_flag=True):
    """Generate the module source computing ``fgraph``."""
    load_op_implementations()
    ctx = CodeContext()
    order = schedule(fgraph)
    body = []
    # Each variable has up to two names in the graph function: ``arrays`` in the
    # array convention of the per-node functions (tensors as arrays, ScalarType
    # values as numbers) and ``numbers`` for one-element values held as a number
    # (scalar_form.py).  Either is made from the other on first need.
    arrays, numbers = {}, {}
    for k, v in enumerate(fgraph.inputs):
        arrays[v] = f"i{k}"
        if isinstance(v.type, ScalarType):
            numbers[v] = arrays[v]
    body.extend(_static_shape_guard(fgraph.inputs))
    const_args, constants, const_seen = [], [], {}
    boxed = []

    def array_of(v):
        n = arrays.get(v)
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
            arrays[v] = const_seen[key]
            return arrays[v]
        if v in numbers:
            arrays[v] = f"b{len(boxed)}"   # one name per variable: boxes may be destroyed inplace
            boxed.append(v)
            body.append(f"    {arrays[v]} = {box_call(v.type.ndim, v.type.dtype, numbers[v], ctx)}")
            return arrays[v]
        raise ValueError(f"codegen: variable {v} is used before it is computed")

    def number_of(v):
        n = numbers.get(v)
        if n is not None:
            return n
        if isinstance(v, Constant):
            return literal(np.asarray(v.data).reshape(()), v.type.dtype)
        arr = array_of(v)
        if isinstance(v.type, ScalarType):
            return arr
        numbers[v] = f"{arr}n"
        body.append(f"    {numbers[v]} = {arr}[{element_index(v.type.ndim)}]")
        return numbers[v]

    def has_number(v):
        return v in numbers or (isinstance(v, Constant) and holds_one_number(v))

    node_functions = []
    node_ends = []   # len(body) after each node: where the body may be cut into parts
    for k, node in enumerate(order):
        node_ends.append(len(body))
        # The array-convention function of the node: profiling and error reports run it.
        fn = numba_funcify(node.op, node, ctx)
        node_functions.append(fn)
        prefix = f"_{k}_"
        if all(holds_one_number(o) for o in node.outputs):
            lines = []
            exprs = scalar_form(node.op, node, ctx,
                                lambda i, as_number: number_of(node.inputs[i]) if as_number
                                else array_of(node.inputs[i]), prefix, lines)
            if exprs is not None:
                body.append(f"    # {fn} (on numbers)")
                body.extend("    " + line for line in lines)
                for j, (o, e) in enumerate(zip(node.outputs, exprs)):
                    if e.isidentifier() and not keyword.iskeyword(e):
                        numbers[o] = e   # the same number under another name: no copy
                    else:
                        numbers[o] = f"s{k}_{j}"
                        body.append(f"    {numbers[o]} = {e}")
                    if isinstance(o.type, ScalarType):
                        arrays[o] = numbers[o]
                continue
        outs = []
        for j, o in enumerate(node.outputs):
            arrays[o] = f"v{k}_{j}"
            outs.append(arrays[o])
        target = outs[0] if len(outs) == 1 else ", ".join(outs)
        inlined = None
        variant = number_inputs_variant(node.op, node, ctx, [has_number(v) for v in node.inputs])
        if variant is not None:
            source, as_number = variant
            args = [number_of(v) if i in as_number else array_of(v) for i, v in enumerate(node.inputs)]
            inlined = inline_call(source, args, target, prefix, ctx.sources)
        else:
            args = [array_of(v) for v in node.inputs]
            inlined = inline_call(ctx.sources.get(fn), args, target, prefix, ctx.sources)
        if inlined is None:
            args = [array_of(v) for v in node.inputs]
            body.append(f"    {target} = {fn}({', '.join(args)})")
        else:
            body.append(f"    # {fn}")
            body.extend("    " + line for line in inlined)
    node_ends.append(len(body))
    rets = [array_of(v) for v in fgraph.outputs]
    body.append("    return (" + "".join(f"{r}, " for r in rets) + ")")
    params = [arrays[v] for v in fgraph.inputs] + const_args
    parts = []
    if len(body) > PART_LINES:
        body, parts = split_into_parts(body, node_ends[1:], params)

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
    source = "\n".join(header) + "\n\n\n" + "\n\n\n".join(ctx.definitions + parts + ["\n".join(graph_fn)]) + "\n"
    return GeneratedModule(source=source, cacheable=ctx.cacheable, objects=dict(ctx.objects),
                           constants=constants, order=order, node_functions=node_functions,
                           var_names=arrays, n_inputs=len(fgraph.inputs))



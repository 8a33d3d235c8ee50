"""Fusion: connected elementwise subgraphs become one ``Elemwise(Composite)``.

A chain ``exp(sin(x))`` reads ``x`` and writes a temporary twice when run op
by op; fused, one loop reads ``x`` once and writes the result once.  Several
outputs are allowed: a node in the group whose value is also needed outside
becomes an extra output of the Composite (seed 002's ``Composite{...}.1``).

Grouping is greedy, from the last node backwards: a group grows by the
elementwise producers of its inputs when

* the producer's output has the group's broadcast pattern (same rank, same
  statically-length-1 axes), so fusing never repeats work per element, and
* merging creates no cycle: no path leaves the group through an outside node
  and comes back into it (checked by a bounded search downwards from the
  group's outside clients).

Size-1 tensor constants feeding the group become scalar constants inside the
Composite.  Groups of a single plain node are left alone (``Cos`` stays
``Cos``).  Registered as the graph rewriter ``elemwise_fusion`` under the
``fusion`` tag (phase 4).
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.rewriting.db import graph_rewriter, register_rewrite
from opgraph.kernel_core.scalar.composite import Composite
from opgraph.kernel_core.scalar.type import get_scalar_type
from opgraph.kernel_core.tensor.elemwise import Elemwise

# Bound on the cycle search; beyond it we conservatively refuse to merge.
MAX_SEARCH = 5000
# Bound on the inputs of one Composite (generated loop signatures stay small).
MAX_INPUTS = 32


def _pattern(var):
    return (var.type.ndim, tuple(s == 1 for s in var.type.shape))


def _fusable(node):
    op = node.op
    return (isinstance(op, Elemwise) and not op.inplace_pattern
            and len({_pattern(o) for o in node.outputs}) == 1
            and all(getattr(o.type, "dtype", None) for o in node.outputs))


def _creates_cycle(fgraph, members, position, limit_index):
    """Whether some outside client of ``members`` reaches back into ``members``."""
    stack, seen = [], set()
    for node in members:
        for out in node.outputs:
            for client, _ in fgraph.clients.get(out, ()):
                if client != "output" and client not in members:
                    stack.append(client)
    visited = 0
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        visited += 1
        if visited > MAX_SEARCH:
            return True
        if node in members:
            return True
        if position.get(node, 0) > limit_index:
            continue  # past the group's last node: cannot come back
        for out in node.outputs:
            for client, _ in fgraph.clients.get(out, ()):
                if client != "output":
                    stack.append(client)
    return False


def _find_groups(fgraph):
    order = fgraph.toposort()
    position = {node: i for i, node in enumerate(order)}
    assigned = set()
    groups = []
    for node in reversed(order):
        if node in assigned or not _fusable(node):
            continue
        pattern = _pattern(node.outputs[0])
        members = {node}
        frontier = [node]
        while frontier:
            cur = frontier.pop()
            for inp in cur.inputs:
                prod = inp.owner
                if (prod is None or prod in members or prod in assigned or not _fusable(prod)
                        or _pattern(prod.outputs[0]) != pattern):
                    continue
                trial = members | {prod}
                if _creates_cycle(fgraph, trial, position, position[node]):
                    continue
                members = trial
                frontier.append(prod)
        assigned |= members
        if len(members) > 1:
            groups.append(sorted(members, key=position.get))
    return groups


def _scalar_constant(value, dtype):
    return Constant(get_scalar_type(dtype), np.asarray(value).reshape(()).astype(dtype)[()])


def _inline_scalar_graph(scalar_op, args):
    """Apply ``scalar_op`` to scalar ``args``; nested Composites are flattened."""
    if isinstance(scalar_op, Composite):
        mapping = dict(zip(scalar_op.inputs, args))
        for inner in scalar_op.nodes:
            ins = [mapping.get(v, v) for v in inner.inputs]
            new = inner.op.make_node(*ins)
            mapping.update(zip(inner.outputs, new.outputs))
        return [mapping.get(o, o) for o in scalar_op.outputs]
    return scalar_op.make_node(*args).outputs


def _fuse_group(fgraph, members):
    member_set = set(members)
    outer_inputs, inner_of = [], {}
    inner_inputs = []
    for node in members:
        for inp in node.inputs:
            if inp in inner_of or (inp.owner is not None and inp.owner in member_set):
                continue
            if isinstance(inp, Constant) and np.size(inp.data) == 1:
                inner_of[inp] = _scalar_constant(inp.data, inp.type.dtype)
                continue
            s = get_scalar_type(inp.type.dtype).make_variable()
            inner_of[inp] = s
            inner_inputs.append(s)
            outer_inputs.append(inp)
    if len(outer_inputs) > MAX_INPUTS:
        return False
    for node in members:
        outs = _inline_scalar_graph(node.op.scalar_op, [inner_of[v] for v in node.inputs])
        for o, so in zip(node.outputs, outs):
            inner_of[o] = so
    # Outputs: values needed outside the group (other nodes or graph outputs).
    old_outputs = []
    for node in members:
        for o in node.outputs:
            if any(c == "output" or c not in member_set for c, _ in fgraph.clients.get(o, ())):
                old_outputs.append(o)
    if not old_outputs:
        return False
    if not outer_inputs:
        return False  # constant-only group: constant folding's job
    composite = Composite(inner_inputs, [inner_of[o] for o in old_outputs])
    new_node = Elemwise(composite).make_node(*outer_inputs)
    pairs = []
    for old, new in zip(old_outputs, new_node.outputs):
        if old.type != new.type:
            converted = old.type.convert_variable(new) if hasattr(old.type, "convert_variable") else None
            if converted is None:
                return False
            new = converted
        if old.name is not None and new.name is None:
            new.name = old.name
        pairs.append((old, new))
    fgraph.replace_all(pairs, reason="elemwise_fusion")
    return True


@graph_rewriter(name="elemwise_fusion")
def elemwise_fusion(fgraph):
    """Fuse connected elementwise subgraphs into Elemwise(Composite) nodes."""
    for members in _find_groups(fgraph):
        if all(n in fgraph.apply_nodes for n in members):
            _fuse_group(fgraph, members)


register_rewrite(elemwise_fusion, "fusion", "fast_run", name="elemwise_fusion")

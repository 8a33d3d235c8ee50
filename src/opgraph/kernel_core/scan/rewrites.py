"""Rewrites of Scan nodes.

``scan_save_last``: a state whose trace is only read at ``[-1]`` (``scan(...)[-1]``,
the usual "final state" idiom) is computed with ``save_last``: the loop keeps a
window of the taps it reads instead of an ``n_steps x state`` buffer, and the
``[-1]`` reads become the node's output.  (With zero steps ``[-1]`` of the trace
raises an IndexError; the saved state is then the initial value.)

``scan_unused_outputs``: per-step outputs nobody reads are dropped from the node
(their part of the step is no longer computed).

``scan_rewrite_inner``: the step's own graph goes through the outer graph's phases
(canonicalize, stabilize, specialize, fusion -- not inplace: the step's inputs are
rows of the loop's buffers), once per Scan (``inner_rewritten``).  It runs in
``specialize``, so only the modes that rewrite that far (NUMBA / FAST_RUN) pay for it.

(Loop-invariant computations are moved out of the step when the scan is built:
``builder._loop_invariants``.)
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.rewriting.db import node_rewriter, register_rewrite
from opgraph.kernel_core.scan.op import Scan


def _is_last_row(client):
    """``client`` is ``x[-1]`` (a Subtensor with one constant index -1)."""
    from opgraph.kernel_core.tensor.subtensor import Subtensor

    if client == "output" or not isinstance(client.op, Subtensor) or len(client.inputs) != 2:
        return False
    idx = client.inputs[1]
    if len(client.op.idx_list) != 1 or not isinstance(idx, Constant):
        return False
    value = np.asarray(idx.data)
    return value.ndim == 0 and int(value) == -1


@node_rewriter([Scan], name="scan_save_last")
def scan_save_last(fgraph, node):
    op = node.op
    save = list(op.save_last)
    readers = {}
    for k in range(op.n_states):
        if save[k]:
            continue
        clients = list(fgraph.clients.get(node.outputs[k], ()))
        if clients and all(_is_last_row(c) for c, _ in clients):
            save[k] = True
            readers[k] = [c for c, _ in clients]
    if not readers:
        return None
    new_outs = op.clone_with(save_last=tuple(save))(*node.inputs, return_list=True)
    replacements = {}
    for k, clients in readers.items():
        for c in clients:
            replacements[c.outputs[0]] = new_outs[k]
    for k, (old, new) in enumerate(zip(node.outputs, new_outs)):
        if k not in readers:
            replacements[old] = new
    return replacements


@node_rewriter([Scan], name="scan_unused_outputs")
def scan_unused_outputs(fgraph, node):
    op = node.op
    unused = [m for m in range(op.n_nit) if not fgraph.clients.get(node.outputs[op.n_states + m])]
    if not unused or len(unused) == op.n_nit and op.n_states == 0:
        return None
    keep = [m for m in range(op.n_nit) if m not in unused]
    inner_outputs = (op.inner_new_states + [op.inner_nits[m] for m in keep] + op.inner_new_shared
                     + ([op.inner_cond] if op.as_while else []))
    new_op = op.clone_with(inner_outputs=inner_outputs, n_nit=len(keep))
    new_outs = new_op(*node.inputs, return_list=True)
    replacements = dict(zip(node.outputs[:op.n_states], new_outs[:op.n_states]))
    for m, new in zip(keep, new_outs[op.n_states:op.n_states + len(keep)]):
        replacements[node.outputs[op.n_states + m]] = new
    if op.n_shared:
        replacements.update(zip(node.outputs[-op.n_shared:], new_outs[-op.n_shared:]))
    return replacements


INNER_PHASES = ("canonicalize", "stabilize", "specialize", "fusion")


def rewrite_inner(inner_inputs, inner_outputs):
    """``(inputs, outputs)`` of the rewritten copy of an inner graph (same input order)."""
    from opgraph.kernel_core.graph.fgraph import FunctionGraph
    from opgraph.kernel_core.rewriting.api import rewrite_graph

    fgraph = FunctionGraph(list(inner_inputs), list(inner_outputs), clone=True)
    fgraph = rewrite_graph(fgraph, include=INNER_PHASES, clone=False)
    return list(fgraph.inputs), list(fgraph.outputs)


@node_rewriter([Scan], name="scan_rewrite_inner")
def scan_rewrite_inner(fgraph, node):
    op = node.op
    if op.inner_rewritten:
        return None
    inputs, outputs = rewrite_inner(op.inner_inputs, op.inner_outputs)
    new_op = op.clone_with(inner_inputs=inputs, inner_outputs=outputs, inner_rewritten=True)
    return new_op(*node.inputs, return_list=True)


register_rewrite(scan_rewrite_inner, "specialize", "scan", "scan_rewrite_inner")
register_rewrite(scan_save_last, "specialize", "fast_compile", "scan", "scan_save_last")
register_rewrite(scan_unused_outputs, "canonicalize", "scan", "scan_unused_outputs")

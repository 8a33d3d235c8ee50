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
rows of the loop's buffers), once per Scan (``inner_rewritten``), plus the step-only
rules tagged ``scan_step`` (``step_outer_product``).  It runs in
``specialize``, so only the modes that rewrite that far (NUMBA / FAST_RUN) pay for it.

``scan_merge``: two independent scans with the same ``n_steps`` variable (scans over
the same sequences get the same one: merge unifies their ``x.shape[0]`` graphs)
become one loop whose step does both steps.  A sequence or non-sequence both read
is one input of the merged node, so the step's own rewrite (``scan_rewrite_inner``,
which runs after it) computes what the two steps share once per step.  Not merged:
while loops (their stop conditions differ), scans with random generators, and scans
whose ``truncate_gradient`` or length check (``equal_lengths``) differ.

``scan_push_out_sum``: a state that only sums outer products of per-step vectors
(``acc + outer(a_t, b_t)``, the W-gradient of a recurrence's backward loop), whose final
value alone is read, becomes one matrix product after the loop, ``acc0 + A.T @ B``, with
``a_t`` / ``b_t`` stacked as per-step outputs or read from their sequences.  It runs
before ``scan_rewrite_inner`` (registration order), which would turn the step's ``dot``
into a multiply.

``scan_lean_sequences``: sequences the step does not read are dropped from the node, and a
sequence filled with one constant (``zeros_like(x)``: the ``Second(x, 0)`` / ``Alloc(0, ...)``
that ``grad`` gives an unused output's trace) becomes that constant in the step (a row of a
static shape), so ``g + 0`` folds away: a backward loop then no longer reads the zero
cotangents of the forward outputs nobody used, nor the forward values its step stopped needing.

(Loop-invariant computations are moved out of the step when the scan is built:
``builder._loop_invariants``.)
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.rewriting.db import PHASES, node_rewriter, register_rewrite
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


def _fill_value(var):
    """The one value every entry of ``var`` has when the graph says so (a constant, ``Second(x, c)``
    or ``Alloc(c, ...)`` with a constant ``c`` of one value), else None."""
    from opgraph.kernel_core.scalar import basic as ps
    from opgraph.kernel_core.tensor.construction import Alloc
    from opgraph.kernel_core.tensor.elemwise import Elemwise

    node = var.owner
    if isinstance(var, Constant):
        source = var
    elif node is not None and isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, ps.Second):
        source = node.inputs[1]
    elif node is not None and isinstance(node.op, Alloc):
        source = node.inputs[0]
    else:
        return None
    if not isinstance(source, Constant):
        return None
    data = np.asarray(source.data)
    if data.size == 0 or data.dtype.kind not in "biuf":
        return None
    flat = data.reshape(-1)
    return flat[0] if bool((flat == flat[0]).all()) else None


@node_rewriter([Scan], name="scan_lean_sequences")
def scan_lean_sequences(fgraph, node):
    from opgraph.kernel_core.graph.replace import graph_replace
    from opgraph.kernel_core.graph.traversal import ancestors
    from opgraph.kernel_core.tensor.basic import constant

    op = node.op
    if op.n_seqs == 0:
        return None
    n, seqs, inits, nonseqs = op.outer_groups(node.inputs)
    read = set(ancestors(list(op.inner_outputs)))
    drop, filled = set(), {}
    for j, (outer, inner) in enumerate(zip(seqs, op.inner_seqs)):
        if inner not in read:
            drop.add(j)
            continue
        value = _fill_value(outer)
        if value is not None and None not in inner.type.shape:
            filled[inner] = constant(np.full(inner.type.shape, value, dtype=inner.type.dtype))
            drop.add(j)
    if not drop:
        return None
    inner_outputs = graph_replace(list(op.inner_outputs), filled, strict=False) if filled else list(op.inner_outputs)
    keep = [j for j in range(op.n_seqs) if j not in drop]
    inner_inputs = [op.inner_seqs[j] for j in keep] + op.inner_inputs[op.n_seqs:]
    new_op = op.clone_with(inner_inputs=inner_inputs, inner_outputs=inner_outputs, n_seqs=len(keep),
                           inner_rewritten=op.inner_rewritten and not filled)
    new_outs = new_op(n, *[seqs[j] for j in keep], *inits, *nonseqs, *op.outer_shared(node.inputs),
                      return_list=True)
    if any(a.type != b.type for a, b in zip(node.outputs, new_outs)):
        return None
    return dict(zip(node.outputs, new_outs))


def _mergeable(a, b):
    return (not a.as_while and not b.as_while and not a.n_shared and not b.n_shared
            and a.truncate_gradient == b.truncate_gradient and a.equal_lengths == b.equal_lengths)


def _independent(fgraph, first, second):
    """Neither node reads (through any path) an output of the other."""
    from opgraph.kernel_core.graph.traversal import ancestors

    for upstream, downstream in ((first, second), (second, first)):
        outs = set(upstream.outputs)
        if any(v in outs for v in ancestors(downstream.inputs)):
            return False
    return True


def _union_inputs(a_outer, a_inner, b_outer, b_inner, same):
    """A's (outer, inner) inputs of one group, then B's that A does not read already.

    A B input reading the outer variable of an A input of the same inner type is not
    added: ``same`` maps its inner variable to A's."""
    outer, inner = list(a_outer), list(a_inner)
    for o, i in zip(b_outer, b_inner):
        if o in a_outer and i.type == a_inner[a_outer.index(o)].type:
            same[i] = a_inner[a_outer.index(o)]
        else:
            outer.append(o)
            inner.append(i)
    return outer, inner


def merge_scan_nodes(a_node, b_node):
    """The outputs of one Scan doing the steps of both nodes: ``(outputs of a, outputs of b)``."""
    from opgraph.kernel_core.graph.replace import graph_replace

    from opgraph.kernel_core.graph.traversal import clone_get_equiv

    a, b = a_node.op, b_node.op
    # A private copy of B's step: the merged step must not hold one variable twice
    # (two nodes of one op, or a step merged again with its own copy).
    memo = clone_get_equiv(b.inner_inputs, b.inner_outputs, copy_inputs=True, copy_orphans=False)
    b = b.clone_with(inner_inputs=[memo[v] for v in b.inner_inputs],
                     inner_outputs=[memo[v] for v in b.inner_outputs])
    n, a_seqs, a_inits, a_nonseqs = a.outer_groups(a_node.inputs)
    _, b_seqs, b_inits, b_nonseqs = b.outer_groups(b_node.inputs)
    # B's inner inputs reading an outer variable A already reads become A's inner inputs.
    same = {}
    seqs, inner_seqs = _union_inputs(a_seqs, a.inner_seqs, b_seqs, b.inner_seqs, same)
    nonseqs, inner_nonseqs = _union_inputs(a_nonseqs, a.inner_nonseqs, b_nonseqs, b.inner_nonseqs, same)
    b_outputs = graph_replace(b.inner_outputs, same, strict=False) if same else list(b.inner_outputs)
    a_taps = [v for taps in a.inner_state_taps() for v in taps]
    b_taps = [v for taps in b.inner_state_taps() for v in taps]
    inner_inputs = inner_seqs + a_taps + b_taps + inner_nonseqs
    inner_outputs = (a.inner_new_states + b_outputs[:b.n_states] + a.inner_nits
                     + b_outputs[b.n_states:b.n_states + b.n_nit])
    names = [op.name for op in (a, b) if op.name]
    merged = Scan(inner_inputs, inner_outputs, n_seqs=len(inner_seqs), state_taps=a.state_taps + b.state_taps,
                  n_nit=a.n_nit + b.n_nit, n_nonseqs=len(inner_nonseqs), save_last=a.save_last + b.save_last,
                  equal_lengths=a.equal_lengths, name="&".join(names) if names else None,
                  truncate_gradient=a.truncate_gradient)
    outs = merged(n, *seqs, *a_inits, *b_inits, *nonseqs, return_list=True)
    states, nits = outs[:merged.n_states], outs[merged.n_states:]
    a_outs = states[:a.n_states] + nits[:a.n_nit]
    b_outs = states[a.n_states:] + nits[a.n_nit:]
    return a_outs, b_outs


@node_rewriter([Scan], name="scan_merge")
def scan_merge(fgraph, node):
    n = node.inputs[0]
    for other, position in list(fgraph.clients.get(n, ())):
        if (other == "output" or other is node or position != 0 or not isinstance(other.op, Scan)
                or not _mergeable(node.op, other.op) or not _mergeable(other.op, node.op)):
            continue
        if not _independent(fgraph, node, other):
            continue
        a_outs, b_outs = merge_scan_nodes(node, other)
        return dict(zip(node.outputs + other.outputs, a_outs + b_outs))
    return None


def _use_counts(inner_inputs, inner_outputs):
    """How many times each variable of an inner graph is read (node inputs and outputs)."""
    from opgraph.kernel_core.graph.traversal import io_toposort

    counts = {}
    for n in io_toposort(list(inner_inputs), list(inner_outputs)):
        for v in n.inputs:
            counts[v] = counts.get(v, 0) + 1
    for v in inner_outputs:
        counts[v] = counts.get(v, 0) + 1
    return counts


def _expanded_vector(v, order):
    """``x`` when ``v`` is ``x`` (a vector) with an axis added as ``order`` says."""
    from opgraph.kernel_core.tensor.elemwise import DimShuffle

    node = v.owner
    if node is not None and isinstance(node.op, DimShuffle) and node.op.new_order == order:
        return node.inputs[0]
    return None


def _outer_operands(term):
    """``(a, b)`` when ``term`` is ``dot(a[:, None], b[None, :])`` (``outer(a, b)``), else None."""
    from opgraph.kernel_core.tensor.dot import Dot

    node = term.owner
    if node is None or not isinstance(node.op, Dot):
        return None
    a = _expanded_vector(node.inputs[0], (0, "x"))
    b = _expanded_vector(node.inputs[1], ("x", 0))
    if a is None or b is None or isinstance(a, Constant) or isinstance(b, Constant):
        return None
    return a, b


def _sum_terms(v, counts):
    """The terms of ``v`` as a sum (nested adds read only here are opened), iteratively."""
    from opgraph.kernel_core.scalar import basic as ps
    from opgraph.kernel_core.tensor.elemwise import Elemwise

    def is_add(x):
        return x.owner is not None and isinstance(x.owner.op, Elemwise) and isinstance(x.owner.op.scalar_op, ps.Add)

    terms, todo = [], [v]
    while todo:
        x = todo.pop()
        if is_add(x) and (x is v or counts.get(x, 0) == 1) and x.type.dtype == v.type.dtype:
            todo.extend(reversed(x.owner.inputs))
        else:
            terms.append(x)
    return terms


def _pushable_sums(op):
    """Per state that is a pure sum of outer products: ``{k: (outer operands, other terms)}``.

    A state qualifies when only its final value is kept (``save_last``), it reads only its
    previous value (tap -1), that value is read by nothing but the sum, and the new value is
    read by nothing else in the step."""
    counts = _use_counts(op.inner_inputs, op.inner_outputs)
    found = {}
    for k, (taps, tap_vars, new) in enumerate(zip(op.state_taps, op.inner_state_taps(), op.inner_new_states)):
        if not op.save_last[k] or taps != (-1,) or new.type.ndim != 2:
            continue
        (prev,) = tap_vars
        if counts.get(prev, 0) != 1 or counts.get(new, 0) != 1 or new.owner is None:
            continue
        terms = _sum_terms(new, counts)
        if prev not in terms or new.type.dtype != prev.type.dtype:
            continue
        products, rest = [], []
        for t in terms:
            if t is prev:
                continue
            pair = _outer_operands(t) if t.type.dtype == new.type.dtype else None
            (rest if pair is None else products).append(t if pair is None else pair)
        if products:
            found[k] = (products, rest)
    return found


@node_rewriter([Scan], name="scan_push_out_sum")
def scan_push_out_sum(fgraph, node):
    """A state accumulating outer products, ``acc + outer(a_t, b_t)``, whose final value alone
    is used -> the per-step ``a_t`` and ``b_t`` stacked as per-step outputs (or read from the
    sequence they are), and one product after the loop: ``acc_0 + A.T @ B``.

    The step's 2-d update (an ``n x m`` pass per step, the gradient of ``dot(W, h)`` w.r.t.
    ``W`` in a recurrence) becomes one matrix product over all steps, BLAS's best case.  A
    state left with no other terms is removed from the loop.  (One of the "push out of the
    step" rewrites: a sum over the steps of per-step terms -> one batched op after the loop.)"""
    from opgraph.kernel_core.tensor.dot import dot
    from opgraph.kernel_core.tensor.math import add

    op = node.op
    if op.as_while or op.n_shared:
        return None
    found = _pushable_sums(op)
    if not found:
        return None
    n, seqs, inits, nonseqs = op.outer_groups(node.inputs)
    seq_of = {inner: outer for inner, outer in zip(op.inner_seqs, seqs)}
    new_nits, operands = [], {}   # operands[k]: [(a source, b source)]; a source: ("seq", outer) / ("nit", j)

    def source(v):
        if v in seq_of:
            return ("seq", seq_of[v])
        if v not in new_nits:
            new_nits.append(v)
        return ("nit", new_nits.index(v))

    kept_states, new_states = [], []
    for k, new in enumerate(op.inner_new_states):
        if k not in found:
            kept_states.append(k)
            new_states.append(new)
            continue
        products, rest = found[k]
        operands[k] = [(source(a), source(b)) for a, b in products]
        if rest:
            prev = op.inner_state_taps()[k][0]
            kept_states.append(k)
            new_states.append(add(prev, *rest))
    tap_lists = op.inner_state_taps()
    inner_inputs = (list(op.inner_seqs) + [v for k in kept_states for v in tap_lists[k]]
                    + list(op.inner_nonseqs))
    inner_outputs = new_states + list(op.inner_nits) + new_nits
    new_op = op.clone_with(inner_inputs=inner_inputs, inner_outputs=inner_outputs,
                           state_taps=tuple(op.state_taps[k] for k in kept_states),
                           save_last=tuple(op.save_last[k] for k in kept_states),
                           n_nit=op.n_nit + len(new_nits), inner_rewritten=False)
    outs = new_op(n, *seqs, *[inits[k] for k in kept_states], *nonseqs, return_list=True)
    n_kept = len(kept_states)
    stacked = outs[n_kept + op.n_nit:]

    def rows(src):
        kind, x = src
        return stacked[x] if kind == "nit" else x[:n]

    replacements = {}
    for k, old in enumerate(node.outputs[:op.n_states]):
        if k in kept_states:
            value = outs[kept_states.index(k)]
        else:
            value = inits[k][op.lags[k] - 1]
        if k in operands:
            value = add(value, *[dot(rows(a).T, rows(b)) for a, b in operands[k]])
            if value.type.dtype != old.type.dtype:
                return None
        replacements[old] = value
    for m, old in enumerate(node.outputs[op.n_states:op.n_states + op.n_nit]):
        replacements[old] = outs[n_kept + m]
    return replacements


@node_rewriter(None, name="step_outer_product")
def step_outer_product(fgraph, node):
    """``dot(a[:, None], b[None, :])`` -> ``a[:, None] * b[None, :]`` inside a step.

    The gradient of ``dot(W, h)`` w.r.t. ``W`` is such an outer product; per step it is
    a BLAS call on a (n, 1) x (1, m) product plus a separate pass adding it to the
    accumulated gradient.  As a broadcasting multiply, fusion makes ``acc + a * b`` one
    loop (the outer graph keeps its dot: there it runs once, not once per step)."""
    from opgraph.kernel_core.tensor.dot import Dot
    from opgraph.kernel_core.tensor.math import mul

    if not isinstance(node.op, Dot):
        return None
    a, b = node.inputs
    if a.type.ndim != 2 or b.type.ndim != 2 or a.type.shape[1] != 1 or b.type.shape[0] != 1:
        return None
    out = mul(a, b)
    if out.type.dtype != node.outputs[0].type.dtype:
        return None
    return [out]


# Only the steps' rewrite (``rewrite_inner``) selects it: tag "scan_step", run with specialize.
register_rewrite(step_outer_product, "scan_step", name="step_outer_product", position=PHASES["specialize"])

INNER_PHASES = ("canonicalize", "stabilize", "specialize", "fusion", "scan_step")


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


# Registration order is the order the rules are tried on a node: the last-state window
# first (the push-out needs it), the push-out before the step is rewritten (it matches the
# step's ``dot`` of an outer product, which ``step_outer_product`` turns into a multiply).
register_rewrite(scan_merge, "canonicalize", "scan", "scan_merge")
register_rewrite(scan_save_last, "specialize", "fast_compile", "scan", "scan_save_last")
register_rewrite(scan_push_out_sum, "specialize", "scan", "scan_push_out_sum")
register_rewrite(scan_rewrite_inner, "specialize", "scan", "scan_rewrite_inner")
register_rewrite(scan_unused_outputs, "canonicalize", "scan", "scan_unused_outputs")
register_rewrite(scan_lean_sequences, "canonicalize", "scan", "scan_lean_sequences")

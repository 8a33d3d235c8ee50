"""vectorize rule of Scan: the batch dimensions go inside the step.

Inputs that gained leading batch dimensions: sequences ``(*B, T, ...)`` and initial
buffers ``(*B, L, ...)`` get their time axis moved first; the step's graph is
vectorized on batched placeholders; the traces ``(T, *B, ...)`` get their time axis
moved back after the batch dimensions.  A state whose initial value is not batched
while the step makes it batched (a batched non-sequence) is broadcast to the batch
shape first: a state keeps one type through the loop.  A batched ``n_steps`` or a
batched while-condition cannot be expressed as one loop: they raise.
"""

from __future__ import annotations

from opgraph.kernel_core.scan.op import Scan


def _time_first(x, nb):
    """(*B, T, ...) -> (T, *B, ...)."""
    if nb == 0:
        return x
    nd = x.type.ndim
    return x.dimshuffle(nb, *range(nb), *range(nb + 1, nd))


def _time_after_batch(x, nb):
    """(T, *B, ...) -> (*B, T, ...)."""
    if nb == 0:
        return x
    nd = x.type.ndim
    return x.dimshuffle(*range(1, nb + 1), 0, *range(nb + 1, nd))


def _vectorize_scan(op, node, *new_inputs):
    from opgraph.kernel_core.tensor.construction import broadcast_to
    from opgraph.kernel_core.tensor.type import TensorType
    from opgraph.kernel_core.vectorize import vectorize_graph

    old_inputs = node.inputs
    extra = [n.type.ndim - o.type.ndim for n, o in zip(new_inputs, old_inputs)]
    if extra[0]:
        raise NotImplementedError(f"vectorize_graph: {op}: a batched n_steps is not supported (one loop length)")
    if op.n_shared:
        raise NotImplementedError(f"vectorize_graph: {op}: batching a scan with random draws is not implemented")
    nb = max(extra)
    if nb == 0:
        return op.make_node(*new_inputs).outputs
    batch_source = next(n for n, e in zip(new_inputs, extra) if e == nb)
    batch_shape = [batch_source.shape[d] for d in range(nb)]
    n, seqs, inits, nonseqs = op.outer_groups(list(new_inputs))
    _, e_seqs, e_inits, e_nonseqs = op.outer_groups(extra)
    seqs = [_time_first(s, e) for s, e in zip(seqs, e_seqs)]
    # States: every state is batched (its value at later steps is, once anything is).
    full_inits = []
    for b, e, old in zip(inits, e_inits, old_inputs[1 + op.n_seqs:1 + op.n_seqs + op.n_states]):
        if e < nb:
            b = broadcast_to(b, tuple(batch_shape) + tuple(b.shape[d] for d in range(e, b.type.ndim)))
        full_inits.append(_time_first(b, nb))
    e_inits = [nb] * len(inits)
    # Batched inner placeholders.
    placeholders = []
    for inner, e in zip(op.inner_seqs, e_seqs):
        placeholders.append(TensorType(inner.type.dtype, (None,) * e + inner.type.shape)(inner.name))
    for taps, e in zip(op.inner_state_taps(), e_inits):
        for inner in taps:
            placeholders.append(TensorType(inner.type.dtype, (None,) * e + inner.type.shape)(inner.name))
    for inner, v in zip(op.inner_nonseqs, nonseqs):
        placeholders.append(v.type.make_variable(name=inner.name))
    inner_outputs = vectorize_graph(list(op.inner_outputs), dict(zip(op.inner_inputs, placeholders)))
    if op.as_while and inner_outputs[-1].type.ndim:
        raise NotImplementedError(f"vectorize_graph: {op}: the while condition became batched "
                                  "(one loop cannot stop at different steps)")
    fixed = list(inner_outputs)
    for k in range(op.n_states):
        want = placeholders[op.n_seqs + sum(len(t) for t in op.state_taps[:k])].type
        if fixed[k].type.ndim < want.ndim:   # an output the batch did not reach: broadcast it
            fixed[k] = broadcast_to(fixed[k], tuple(batch_shape) + tuple(fixed[k].shape))
        converted = want.convert_variable(fixed[k])
        if converted is None:
            raise TypeError(f"vectorize_graph: {op}: batched output {k} has type {fixed[k].type.short_str()}, "
                            f"its state {want.short_str()}")
        fixed[k] = converted
    new_op = op.clone_with(inner_inputs=placeholders, inner_outputs=fixed)
    outs = new_op(n, *seqs, *full_inits, *nonseqs, return_list=True)
    result = []
    for k, o in enumerate(outs):
        if k < op.n_states:
            nb_out = nb
        else:
            nb_out = fixed[k].type.ndim - op.inner_outputs[k].type.ndim
        if k < op.n_states and op.save_last[k]:
            result.append(o)
        else:
            result.append(_time_after_batch(o, nb_out))
    return result


def _register():
    from opgraph.kernel_core.vectorize import vectorize_node

    vectorize_node.register(Scan)(_vectorize_scan)


_register()

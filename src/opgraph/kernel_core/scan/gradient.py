"""The pullback of Scan: backpropagation through time, itself a scan running backwards.

Forward step ``t`` reads the sequence rows ``x[t]``, the state values at ``t + tap``
and the non-sequences, and writes the new states (rows ``L + t`` of each state's
buffer) and the per-step outputs.  Going back from ``t = T - 1`` to ``0``, the
adjoint of state ``k``'s value at ``t`` is final once every later step has added
its share; the backward loop carries, per state, a window ``C_k`` of ``L_k`` rows:
``C_k[j]`` is what the steps after ``t`` already sent to position ``t - j``.  At
step ``t``:

    total_k = g_trace_k[t] + C_k[0]
    d = VJP of the step at t, cotangents (total_k, g_nit[t])
    C_k <- shift(C_k) + (d of tap -1, -2, ..., -L_k)    # positions t-1 ... t-L_k
    A_c <- A_c + d_c                                     # non-sequences: summed
    g_x[t] = d_x                                         # sequences: per step

After the loop ``C_k[j]`` is the adjoint of position ``-1 - j``: row ``L - 1 - j``
of the initial buffer.  The forward values the step needs come in as sequences
(the forward traces shifted by each tap), and so do the step's own outputs: where the
pullback reads an output (tanh's is ``1 - out**2``) it reads the forward trace instead
of recomputing the step.  ``truncate_gradient = k`` runs only the
last ``k`` backward steps: earlier positions and the initial values get zero.

The backward loop is built with ``scan`` itself (so it is differentiable again:
hessians), its carries then switched to ``save_last`` (only their final value is
kept: no ``T x state`` buffers).
"""

from __future__ import annotations

__all__ = ["scan_pullback"]


def scan_pullback(op, inputs, outputs, output_grads):
    from opgraph.kernel_core.gradient import _is_discrete, grad
    from opgraph.kernel_core.graph.basic import Constant
    from opgraph.kernel_core.graph.replace import graph_replace
    from opgraph.kernel_core.scan.builder import scan
    from opgraph.kernel_core.tensor.join import concatenate, stack
    from opgraph.kernel_core.tensor.math import cast, eq, minimum, zeros_like
    from opgraph.kernel_core.tensor.subtensor import set_subtensor

    n_steps, seqs, inits, nonseqs = op.outer_groups(inputs)
    if any(op.save_last):
        # The backward pass needs every forward state value: recompute with full traces.
        outputs = op.clone_with(save_last=None)(*inputs, return_list=True)
        grads_full = []
        for k, (o, g) in enumerate(zip(outputs, output_grads)):
            if k < op.n_states and op.save_last[k]:
                z = zeros_like(o)
                g = set_subtensor(z[o.shape[0] - 1:], g[None])
            grads_full.append(g)
        output_grads = grads_full
    traces = outputs[:op.n_states]
    nit_outs = outputs[op.n_states:]
    g_traces = output_grads[:op.n_states]
    g_nits = output_grads[op.n_states:]
    T = outputs[0].shape[0] if op.as_while else n_steps
    T = cast(T, "int64")
    k_steps = T if op.truncate_gradient == -1 else minimum(T, op.truncate_gradient)

    float_seqs = [j for j, s in enumerate(seqs) if not _is_discrete(s)]
    float_states = [k for k, b in enumerate(inits) if not _is_discrete(b)]
    float_nonseqs = [c for c, v in enumerate(nonseqs) if not _is_discrete(v)]
    if not (float_seqs or float_states or float_nonseqs):
        return [None] * len(inputs)

    # Sequences of the backward loop (forward order; go_backwards reverses them).
    bw_seqs = [s[:T] for s in seqs]
    tap_seqs = []
    for k, (b, trace, taps, lag) in enumerate(zip(inits, traces, op.state_taps, op.lags)):
        full = concatenate([b[:lag], trace], axis=0)
        for tap in taps:
            tap_seqs.append(full[lag + tap:lag + tap + T])
    g_trace_seqs = [g_traces[k] for k in float_states]
    g_nit_seqs = [g[:T] for g, o in zip(g_nits, nit_outs)]
    float_nits = [m for m, o in enumerate(nit_outs) if not _is_discrete(o)]
    g_nit_seqs = [g_nit_seqs[m] for m in float_nits]
    # The forward values of the step's computed outputs, read back instead of recomputed:
    # the pullback of tanh (say) uses its output, which the forward trace already holds.
    fwd_outputs = list(op.inner_new_states) + list(op.inner_nits)
    fwd_traces = list(traces) + list(nit_outs)
    reused = [j for j, o in enumerate(fwd_outputs) if o.owner is not None and not isinstance(o, Constant)
              and fwd_traces[j].type.dtype == o.type.dtype and fwd_traces[j].type.ndim == o.type.ndim + 1]
    reused_seqs = [fwd_traces[j][:T] for j in reused]
    all_seqs = bw_seqs + tap_seqs + g_trace_seqs + g_nit_seqs + reused_seqs

    # A state reading only its previous value (lag 1) carries one row, not a 1-row window
    # (no stack / index per backward step).
    carry_inits = [zeros_like(inits[k][0]) if op.lags[k] == 1 else zeros_like(inits[k][:op.lags[k]])
                   for k in float_states]
    acc_inits = [zeros_like(nonseqs[c]) for c in float_nonseqs]
    n_taps = sum(len(t) for t in op.state_taps)

    def step(*args):
        pos = 0
        xs = list(args[pos:pos + len(seqs)])
        pos += len(seqs)
        tap_vals = list(args[pos:pos + n_taps])
        pos += n_taps
        g_tr = list(args[pos:pos + len(float_states)])
        pos += len(float_states)
        g_nt = list(args[pos:pos + len(float_nits)])
        pos += len(float_nits)
        fwd_values = list(args[pos:pos + len(reused)])
        pos += len(reused)
        carries = list(args[pos:pos + len(float_states)])
        pos += len(float_states)
        accs = list(args[pos:pos + len(float_nonseqs)])
        pos += len(float_nonseqs)
        outer_nonseqs = list(args[pos:])
        replace = dict(zip(op.inner_seqs, xs))
        replace.update(zip([v for taps in op.inner_state_taps() for v in taps], tap_vals))
        replace.update(zip(op.inner_nonseqs, outer_nonseqs))
        fwd = graph_replace(list(op.inner_outputs), replace, strict=False)
        known = {}

        def seed(o, g):
            # One variable may be several outputs (a state and a per-step output, or a
            # state returned twice): its cotangents add up.
            g = cast(g, o.type.dtype) if g.type.dtype != o.type.dtype else g
            known[o] = known[o] + g if o in known else g

        for i, k in enumerate(float_states):
            seed(fwd[k], g_tr[i] + (carries[i] if op.lags[k] == 1 else carries[i][0]))
        for i, m in enumerate(float_nits):
            seed(fwd[op.n_states + m], g_nt[i])
        known = {o: g for o, g in known.items() if not _is_discrete(o)}
        tap_lists, p = [], 0
        for taps in op.state_taps:
            tap_lists.append(tap_vals[p:p + len(taps)])
            p += len(taps)
        wrt = [xs[j] for j in float_seqs] + [v for k in float_states for v in tap_lists[k]] + \
            [outer_nonseqs[c] for c in float_nonseqs]
        gs = grad(None, wrt=wrt, known_grads=known, disconnected_inputs="ignore",
                  return_disconnected="zero") if known else [zeros_like(w) for w in wrt]
        gs = list(gs)
        stored = {fwd[j]: v for j, v in zip(reused, fwd_values) if v.type == fwd[j].type}
        if stored:
            gs = graph_replace(gs, stored, strict=False)
        g_x = gs[:len(float_seqs)]
        p = len(float_seqs)
        new_carries = []
        for i, k in enumerate(float_states):
            taps, lag = op.state_taps[k], op.lags[k]
            d = gs[p:p + len(taps)]
            p += len(taps)
            if lag == 1:
                contrib = [dd for tap, dd in zip(taps, d) if tap == -1]
                new = contrib[0] if contrib else zeros_like(carries[i])
                for c in contrib[1:]:
                    new = new + c
                dtype = carries[i].type.dtype
                new_carries.append(cast(new, dtype) if new.type.dtype != dtype else new)
                continue
            row_zero = zeros_like(carries[i][0])
            rows = []
            for j in range(lag):
                contrib = [dd for tap, dd in zip(taps, d) if tap == -(j + 1)]
                shifted = carries[i][j + 1] if j + 1 < lag else row_zero
                for c in contrib:
                    shifted = shifted + c
                rows.append(shifted)
            new = stack(rows, axis=0)
            dtype = carries[i].type.dtype
            new_carries.append(cast(new, dtype) if new.type.dtype != dtype else new)
        new_accs = []
        for i, c in enumerate(float_nonseqs):
            new = accs[i] + gs[p + i]
            dtype = accs[i].type.dtype
            new_accs.append(cast(new, dtype) if new.type.dtype != dtype else new)
        return new_carries + new_accs + g_x

    name = None if op.name is None else f"grad_of_{op.name}"
    outs, _ = scan(step, sequences=all_seqs, outputs_info=carry_inits + acc_inits + [None] * len(float_seqs),
                   non_sequences=list(nonseqs), n_steps=k_steps, go_backwards=True, name=name,
                   return_list=True)
    # Only the carries' final values are used: keep a window, not a trace.
    node = outs[0].owner
    n_carry = len(carry_inits) + len(acc_inits)
    bw = node.op.clone_with(save_last=(True,) * n_carry + (False,) * (node.op.n_states - n_carry))
    outs = bw(*node.inputs, return_list=True)
    finals = outs[:n_carry]
    g_x_traces = outs[node.op.n_states:]

    result = [None] * len(inputs)
    full_run = None if op.truncate_gradient == -1 else cast(eq(k_steps, T), "float64")
    for i, k in enumerate(float_states):
        lag = op.lags[k]
        c = finals[i][None] if lag == 1 else finals[i][::-1]
        if full_run is not None:
            c = c * cast(full_run, c.type.dtype)
        b = inits[k]
        result[1 + op.n_seqs + k] = set_subtensor(zeros_like(b)[:lag], c)
    for i, c in enumerate(float_nonseqs):
        result[1 + op.n_seqs + op.n_states + c] = finals[len(float_states) + i]
    for i, j in enumerate(float_seqs):
        s = seqs[j]
        rows = g_x_traces[i][::-1]
        result[1 + j] = set_subtensor(zeros_like(s)[T - k_steps:T], rows)
    # Disconnected-but-float inputs (no gradient path) get zeros; integer ones None.
    for idx, v in enumerate(inputs):
        if idx and result[idx] is None and not _is_discrete(v):
            result[idx] = zeros_like(v)
    return result

"""Scan in the JAX backend: ``lax.scan`` (``lax.while_loop`` for a loop with a stop condition).

The step is the inner graph as one function (``jax_funcify_fgraph``).  The carry holds,
per state, a window of its ``L = -min(taps)`` last rows (the first ``L`` rows of the
initial buffer to begin with; tap ``t`` reads row ``L + t``) and the random keys the
steps thread (each step's draws advance the key the next reads).  ``lax.scan``
stacks the per-step values: a state's trace is its ``n_steps`` new values, a
``save_last`` state the window's last row (with zero steps: the initial buffer's
last tap row, as the other modes).

Shapes are static in JAX:

* ``lax.scan`` needs ``n_steps`` while compiling -- a constant or the length of a
  sequence (a static shape); a step count computed from input values raises a
  ``JaxCompileError`` naming the Scan.
* A while loop (``until``) runs a number of steps only known at run time, and its
  traces have that many rows; JAX cannot give an output such a shape.  So a while
  loop compiles when only its states' last values are used (the ``save_last``
  rewrite turns ``trace[-1]`` into that) and it has no per-step outputs; then
  ``n_steps`` may be a run-time value.  Otherwise the error says so.

The run-time checks of the other modes (sequence lengths, taps reaching before
the start) read static shapes, so they are raised while compiling, same messages.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from opgraph.kernel_core.backends.jax.checks import jax_check, register_checking_op
from opgraph.kernel_core.backends.jax.dispatch import JaxCompileError, is_static, jax_funcify, static_value
from opgraph.kernel_core.backends.jax.op_from_graph import inner_function
from opgraph.kernel_core.backends.jax.random import as_key
from opgraph.kernel_core.scan.op import Scan


# A while loop with sequences and a run-time step count checks the count against their lengths.
register_checking_op(Scan, when=lambda op: op.as_while and op.n_seqs > 0)


@jax_funcify.register(Scan)
def jax_funcify_scan(op, node, **kwargs):
    step_fn = inner_function(op.inner_inputs, op.inner_outputs, **kwargs)
    n_states, n_nit, n_shared = op.n_states, op.n_nit, op.n_shared
    state_dtypes = [taps[0].type.dtype for taps in op.inner_state_taps()]
    nit_dtypes = [o.type.dtype for o in node.outputs[n_states:n_states + n_nit]]
    lags = op.lags
    if op.as_while and (n_nit or not all(op.save_last)):
        raise JaxCompileError(
            f"JAX cannot compile {op}: a while loop's traces have as many rows as steps were run, known "
            "only at run time, and JAX needs static output shapes. It compiles when only the last values "
            "of the states are used (trace[-1]) and the loop has no per-step outputs.")

    def one_step(windows, gens, seq_rows, nonseqs):
        args = list(seq_rows)
        for window, taps, lag in zip(windows, op.state_taps, lags):
            args.extend(window[lag + t] for t in taps)
        args.extend(nonseqs)
        args.extend(gens)
        outs = step_fn(*args)
        new_states = [jnp.asarray(v).astype(d) for v, d in zip(outs[:n_states], state_dtypes)]
        nits = [jnp.asarray(v).astype(d) for v, d in zip(outs[n_states:n_states + n_nit], nit_dtypes)]
        new_gens = list(outs[n_states + n_nit:n_states + n_nit + n_shared])
        new_windows = [jnp.concatenate([w[1:], s[None]], axis=0) for w, s in zip(windows, new_states)]
        stop = outs[-1] if op.as_while else None
        return new_windows, new_gens, new_states, nits, stop

    single = len(node.outputs) == 1

    def scan(n_arr, *inputs):
        outs = _scan(n_arr, *inputs)
        return outs[0] if single else outs

    def _scan(n_arr, *inputs):
        _, seqs, inits, nonseqs = op.outer_groups((n_arr,) + inputs)
        gens = [as_key(g) for g in op.outer_shared(inputs)]
        windows = [jnp.asarray(b)[:lag].astype(d) for b, lag, d in zip(inits, lags, state_dtypes)]
        if op.as_while:
            return _while(n_arr, seqs, inits, windows, gens, nonseqs)
        n = int(static_value(n_arr, op, "n_steps"))
        op.check_run(n, seqs, inits)
        xs = [jnp.asarray(s)[:n] for s in seqs]

        def body(carry, rows):
            windows, gens = carry
            windows, gens, states, nits, _ = one_step(windows, gens, rows, nonseqs)
            traced = [s for s, last in zip(states, op.save_last) if not last]
            return (windows, gens), (traced, nits)

        (windows, gens), (traces, nits) = lax.scan(body, (windows, gens), xs, length=n)
        outs, traces = [], list(traces)
        for k in range(n_states):
            outs.append(windows[k][-1] if op.save_last[k] else traces.pop(0))
        return tuple(outs) + tuple(nits) + tuple(gens)

    def _while(n_arr, seqs, inits, windows, gens, nonseqs):
        n = n_arr
        if is_static(n_arr):
            n = int(np.asarray(n_arr))
            op.check_run(n, seqs, inits)
        else:
            op.check_run(0, [], inits)          # the taps against the initial buffers: static shapes
            jax_check(n >= 0, ValueError, f"{op}: n_steps must be >= 0")
            for k, seq in enumerate(seqs):
                jax_check(n <= seq.shape[0], ValueError,
                          f"{op}: sequence {k} has fewer steps than the loop (sequences of different lengths)")
        seqs = [jnp.asarray(s) for s in seqs]

        def cond(state):
            i, stopped, _, _ = state
            return (i < n) & ~stopped

        def body(state):
            i, _, windows, gens = state
            rows = [lax.dynamic_index_in_dim(s, i, keepdims=False) for s in seqs]
            windows, gens, _, _, stop = one_step(windows, gens, rows, nonseqs)
            return i + 1, jnp.asarray(stop).astype(bool).reshape(()), windows, gens

        init = (jnp.asarray(0, dtype=jnp.int64), jnp.asarray(False), windows, gens)
        _, _, windows, gens = lax.while_loop(cond, body, init)
        return tuple(w[-1] for w in windows) + tuple(gens)

    return scan

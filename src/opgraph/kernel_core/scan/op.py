"""The Scan op: a loop whose step is an inner graph.

Layout (the builder, ``builder.py``, turns PyTensor's ``scan`` arguments into it):

outer inputs   ``[n_steps, *sequences, *initial buffers, *non_sequences, *generators]``
inner inputs   ``[*sequence slices, *state taps, *non_sequences, *generators]``
inner outputs  ``[*new states, *per-step outputs (not fed back), *new generators, (stop-condition)]``
outer outputs  ``[*state traces, *per-step output traces, *final generators]``

- ``n_steps``: an int64 scalar; the loop runs ``n_steps`` times (fewer for a
  while loop, which stops after the first step whose condition is true).
- sequences: one input per (sequence, tap) pair, already aligned by the builder
  (step ``i`` reads row ``i`` of each); each needs at least ``n_steps`` rows
  (exactly, when ``equal_lengths``: the step count came from them).
- states (PyTensor's sit_sot / mit_sot): ``state_taps[k]`` are the negative taps
  of state ``k`` in the order the step function receives them; its initial
  buffer holds ``L = -min(taps)`` rows, row ``j`` being the value at step
  ``j - L``.  The outer output is the trace of the ``n_steps`` new values
  (rows of the buffer after the initial ones) -- or, when ``save_last[k]``,
  only the final value: the rewrite in ``rewrites.py`` sets it when the trace
  is only read at ``[-1]``, and then a window of ``L`` rows is all the memory
  the loop holds.
- per-step outputs (nit_sot): stacked, ``(n_steps, *shape)``.
- generators (``n_shared``): random generators threaded through the steps (each
  step's draws advance the one the next step reads); the outer output is the
  final generator, which ``scan`` returns in ``updates``.

The gradient (``gradient.py``) is another Scan, running backwards.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Apply, Constant, Variable
from opgraph.kernel_core.graph.op import Op

__all__ = ["Scan"]


def _static_steps(n_steps):
    """The loop's step count when ``n_steps`` is a known non-negative int, else None."""
    from opgraph.kernel_core.tensor.shape import static_int

    n = static_int(n_steps)
    return n if n is not None and n >= 0 else None


class Scan(Op):
    """See the module docstring.  Equality is identity (inner graphs are not compared)."""

    __props__ = ()

    def __init__(self, inner_inputs, inner_outputs, n_seqs, state_taps, n_nit, n_nonseqs, as_while=False,
                 save_last=None, equal_lengths=False, name=None, truncate_gradient=-1, inner_rewritten=False,
                 n_shared=0):
        self.inner_inputs = list(inner_inputs)
        self.inner_outputs = list(inner_outputs)
        self.n_seqs = int(n_seqs)
        self.state_taps = tuple(tuple(int(t) for t in taps) for taps in state_taps)
        self.n_states = len(self.state_taps)
        self.n_nit = int(n_nit)
        self.n_nonseqs = int(n_nonseqs)
        self.n_shared = int(n_shared)
        self.as_while = bool(as_while)
        self.save_last = tuple(bool(s) for s in (save_last or (False,) * self.n_states))
        self.equal_lengths = bool(equal_lengths)
        self.name = name
        self.truncate_gradient = int(truncate_gradient)
        # The step's graph went through the outer graph's rewrite phases (rewrites.py).
        self.inner_rewritten = bool(inner_rewritten)
        self.lags = tuple(-min(taps) for taps in self.state_taps)
        n_taps = sum(len(t) for t in self.state_taps)
        want_in = self.n_seqs + n_taps + self.n_nonseqs + self.n_shared
        want_out = self.n_states + self.n_nit + self.n_shared + int(self.as_while)
        if len(self.inner_inputs) != want_in or len(self.inner_outputs) != want_out:
            raise ValueError(f"{self}: inner graph has {len(self.inner_inputs)} inputs / "
                             f"{len(self.inner_outputs)} outputs, the layout needs {want_in} / {want_out}")
        if any(t >= 0 for taps in self.state_taps for t in taps):
            raise ValueError(f"{self}: the taps of a recurrent output must be negative, got {self.state_taps}")
        self._thunk = None

    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)

    def __str__(self):
        name = "scan_fn" if self.name is None else self.name
        return f"Scan{{{name}, while_loop={self.as_while}, inplace=none}}"

    def inner_graphs(self):
        return (self.inner_inputs, self.inner_outputs)

    def clone_with(self, **changes):
        """The same loop with some fields changed (the inner graph is shared: it is never mutated)."""
        kwargs = dict(inner_inputs=self.inner_inputs, inner_outputs=self.inner_outputs, n_seqs=self.n_seqs,
                      state_taps=self.state_taps, n_nit=self.n_nit, n_nonseqs=self.n_nonseqs,
                      as_while=self.as_while, save_last=self.save_last, equal_lengths=self.equal_lengths,
                      name=self.name, truncate_gradient=self.truncate_gradient,
                      inner_rewritten=self.inner_rewritten, n_shared=self.n_shared)
        kwargs.update(changes)
        return Scan(**kwargs)

    # -- inner-variable groups ------------------------------------------------------
    @property
    def inner_seqs(self):
        return self.inner_inputs[:self.n_seqs]

    def inner_state_taps(self):
        """Per state: its inner tap inputs (in ``state_taps`` order)."""
        out, pos = [], self.n_seqs
        for taps in self.state_taps:
            out.append(self.inner_inputs[pos:pos + len(taps)])
            pos += len(taps)
        return out

    @property
    def inner_nonseqs(self):
        end = len(self.inner_inputs) - self.n_shared
        return self.inner_inputs[end - self.n_nonseqs:end]

    @property
    def inner_shared(self):
        return self.inner_inputs[len(self.inner_inputs) - self.n_shared:]

    @property
    def inner_new_shared(self):
        start = self.n_states + self.n_nit
        return self.inner_outputs[start:start + self.n_shared]

    @property
    def inner_new_states(self):
        return self.inner_outputs[:self.n_states]

    @property
    def inner_nits(self):
        return self.inner_outputs[self.n_states:self.n_states + self.n_nit]

    @property
    def inner_cond(self):
        return self.inner_outputs[-1] if self.as_while else None

    def outer_groups(self, inputs):
        """``(n_steps, seqs, inits, nonseqs)`` of a node's inputs (generators: ``outer_shared``)."""
        n = inputs[0]
        seqs = list(inputs[1:1 + self.n_seqs])
        inits = list(inputs[1 + self.n_seqs:1 + self.n_seqs + self.n_states])
        start = 1 + self.n_seqs + self.n_states
        nonseqs = list(inputs[start:start + self.n_nonseqs])
        return n, seqs, inits, nonseqs

    def outer_shared(self, inputs):
        return list(inputs[len(inputs) - self.n_shared:]) if self.n_shared else []

    # -- the node -----------------------------------------------------------------
    def make_node(self, n_steps, *inputs):
        from opgraph.kernel_core.tensor.basic import as_tensor_variable
        from opgraph.kernel_core.tensor.type import TensorType

        n_steps = as_tensor_variable(n_steps)
        if n_steps.type.ndim != 0 or n_steps.type.dtype != "int64":
            raise TypeError(f"{self}: n_steps must be an int64 scalar, got {n_steps.type.short_str()}")
        want = self.n_seqs + self.n_states + self.n_nonseqs + self.n_shared
        if len(inputs) != want:
            raise TypeError(f"{self} takes {want} inputs after n_steps, got {len(inputs)}")
        inputs = [x if isinstance(x, Variable) else as_tensor_variable(x) for x in inputs]
        _, seqs, inits, nonseqs = self.outer_groups([n_steps] + inputs)
        for k, (s, inner) in enumerate(zip(seqs, self.inner_seqs)):
            if s.type.ndim != inner.type.ndim + 1 or s.type.dtype != inner.type.dtype:
                raise TypeError(f"{self}: sequence {k} has type {s.type.short_str()}; its step slices are "
                                f"{inner.type.short_str()}")
        for k, (b, taps, new) in enumerate(zip(inits, self.inner_state_taps(), self.inner_new_states)):
            t = taps[0].type
            if b.type.ndim != t.ndim + 1 or b.type.dtype != t.dtype:
                raise TypeError(f"{self}: output {k}: the initial buffer has type {b.type.short_str()}, "
                                f"the state is {t.short_str()}")
        for k, (v, inner) in enumerate(zip(nonseqs, self.inner_nonseqs)):
            if not inner.type.is_super(v.type) if isinstance(inner.type, TensorType) else inner.type != v.type:
                raise TypeError(f"{self}: non-sequence {k} has type {v.type.short_str()}, expected "
                                f"{inner.type.short_str()}")
        # Without a while loop a trace has exactly n_steps rows: a constant n_steps makes
        # that length static, so the shapes downstream (a gradient's Join and Split, its
        # zeros and set_subtensor over the whole trace) are static too and rewrite away.
        rows = None if self.as_while else _static_steps(n_steps)
        outs = []
        for k, new in enumerate(self.inner_new_states):
            t = self.inner_state_taps()[k][0].type
            outs.append(t.clone() if self.save_last[k] else TensorType(t.dtype, (rows,) + t.shape))
        for o in self.inner_nits:
            outs.append(TensorType(o.type.dtype, (rows,) + o.type.shape))
        for g, inner in zip(self.outer_shared(inputs), self.inner_shared):
            if g.type != inner.type:
                raise TypeError(f"{self}: generator input {g} has type {g.type}, expected {inner.type}")
            outs.append(inner.type)
        return Apply(self, [n_steps] + inputs, [t.make_variable() for t in outs])

    # -- Python implementation: an inner VM per step ---------------------------------
    def _inner_thunk(self):
        if self._thunk is None:
            from opgraph.kernel_core.compile.vm import VMLinker
            from opgraph.kernel_core.graph.fgraph import FunctionGraph

            fgraph = FunctionGraph(self.inner_inputs, self.inner_outputs, clone=True)
            self._thunk = VMLinker().make_thunk(fgraph)
        return self._thunk

    def check_run(self, n, seqs, inits):
        """The run-time checks both backends make (same messages)."""
        if n < 0:
            raise ValueError(f"{self}: n_steps is {n}; it must be >= 0")
        for k, s in enumerate(seqs):
            if s.shape[0] < n or (self.equal_lengths and s.shape[0] != n):
                raise ValueError(f"{self}: sequence {k} has {s.shape[0]} steps, the loop has {n} "
                                 "(sequences of different lengths)")
        for k, (b, lag) in enumerate(zip(inits, self.lags)):
            if b.shape[0] < lag:
                raise ValueError(f"{self}: output {k}: taps reach {lag} steps back but the initial value "
                                 f"has {b.shape[0]} (taps that reach before the start)")

    def perform(self, node, inputs, output_storage):
        thunk = self._inner_thunk()
        n_arr, seqs, inits, nonseqs = self.outer_groups(inputs)
        n = int(n_arr)
        self.check_run(n, seqs, inits)
        shared = list(self.outer_shared(inputs))
        windows = [[np.array(b[j]) for j in range(lag)] for b, lag in zip(inits, self.lags)]
        traces = [[] for _ in range(self.n_states)]
        nits = [[] for _ in range(self.n_nit)]
        for i in range(n):
            args = [np.asarray(s[i]) for s in seqs]
            for window, taps in zip(windows, self.state_taps):
                args.extend(window[len(window) + t] for t in taps)
            args.extend(nonseqs)
            args.extend(shared)
            results = thunk(args)
            shared = list(results[self.n_states + self.n_nit:self.n_states + self.n_nit + self.n_shared])
            for k in range(self.n_states):
                new = np.array(results[k], dtype=node.outputs[k].type.dtype)   # a copy: inputs stay intact
                windows[k].append(new)
                windows[k].pop(0)
                if not self.save_last[k]:
                    traces[k].append(new)
            for k in range(self.n_nit):
                nits[k].append(np.array(results[self.n_states + k]))
            if self.as_while and bool(np.asarray(results[-1])):
                break
        for k in range(self.n_states):
            out = node.outputs[k]
            if self.save_last[k]:
                value = windows[k][-1].copy()
            elif traces[k]:
                value = np.stack(traces[k])
            else:
                value = np.empty((0,) + np.shape(inits[k])[1:], dtype=out.type.dtype)
            output_storage[k][0] = value
        for k in range(self.n_nit):
            out = node.outputs[self.n_states + k]
            if nits[k]:
                value = np.stack(nits[k]).astype(out.type.dtype, copy=False)
            else:
                shape = tuple(0 if s is None else s for s in out.type.shape[1:])
                value = np.empty((0,) + shape, dtype=out.type.dtype)
            output_storage[self.n_states + k][0] = value
        for k, g in enumerate(shared):
            # With zero steps the input generator itself: hand out a copy (no view_map).
            output_storage[self.n_states + self.n_nit + k][0] = g if n else _copy(g)

    def infer_shape(self, fgraph, node, input_shapes):
        """Without a while loop, traces have ``n_steps`` rows; a state's row is its buffer's.

        Per-step output rows are not known without running a step: their entries stay
        symbolic (Shape_i of the output)."""
        from opgraph.kernel_core.tensor.shape import shape_i

        n = node.inputs[0]
        shapes = []
        for k, out in enumerate(node.outputs[:self.n_states + self.n_nit]):
            rows = input_shapes[1 + self.n_seqs + k][1:] if k < self.n_states else None
            if k < self.n_states and self.save_last[k]:
                shapes.append(tuple(rows))
                continue
            lead = shape_i(out, 0) if self.as_while else n
            if rows is None:
                rows = [out.type.shape[d] if out.type.shape[d] is not None else shape_i(out, d)
                        for d in range(1, out.type.ndim)]
            shapes.append((lead, *rows))
        return shapes + [None] * self.n_shared

    def L_op(self, inputs, outputs, output_grads):
        if self.n_shared:
            from opgraph.kernel_core.gradient import grad_not_implemented

            # The backward pass would redraw: the forward draws would have to be replayed.
            return [grad_not_implemented(self, i, x, "the gradient through a scan with random draws")
                    for i, x in enumerate(inputs)]
        from opgraph.kernel_core.scan.gradient import scan_pullback

        return scan_pullback(self, inputs, outputs, output_grads)


def _copy(value):
    import copy

    return copy.deepcopy(value)

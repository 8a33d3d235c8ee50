"""``scan``: PyTensor's looping construct, building one ``Scan`` node.

    # power of A: A ** k by repeated multiplication
    result, updates = scan(lambda prior, A: prior * A, outputs_info=pt.ones_like(A),
                           non_sequences=A, n_steps=k)

The step function ``fn`` receives, in PyTensor's order: the sequence slices (each
sequence's taps in the order given), the previous values of the recurrent outputs
(each output's taps in order), then the non-sequences.  It returns the new outputs
(one per ``outputs_info`` entry; a single variable or a list), optionally with an
``until(cond)`` (a while loop) and/or a dict of shared-variable updates.

Building the inner graph: the step function is called on placeholders.  Everything
it computes that does not depend on a placeholder is loop-invariant and is moved
out of the loop at build time (it becomes a non-sequence input: computed once).
Variables it closes over (shared variables, outer graph variables) become
non-sequences too, as in PyTensor.  Nodes reading a non-tensor input (a random
generator) stay inside the loop: they are not pure.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Constant, Variable
from opgraph.kernel_core.graph.traversal import clone_get_equiv, io_toposort
from opgraph.kernel_core.scan.op import Scan
from opgraph.kernel_core.scan.utils import until

__all__ = ["scan"]


def _label(name):
    return "scan" if name is None else f"scan {name!r}"


def _as_list(x):
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _tensor(x, what, label):
    from opgraph.kernel_core.tensor.basic import as_tensor_variable

    try:
        return as_tensor_variable(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{label}: {what} is not a tensor ({exc})") from None


def _parse_return(ret, label):
    """``(outputs, condition or None, updates dict)`` from what the step function returned."""
    cond, updates = None, {}
    items = list(ret) if isinstance(ret, tuple) else [ret]
    # Trailing markers: an until() and/or an updates dict, in either order.
    rest = []
    for item in items:
        if isinstance(item, until):
            if cond is not None:
                raise ValueError(f"{label}: the step function returned two until() conditions")
            cond = item.condition
        elif isinstance(item, dict):
            updates.update(item)
        else:
            rest.append(item)
    if len(rest) == 1 and isinstance(rest[0], (list, tuple)):
        rest = list(rest[0])
    if len(items) == 1 and isinstance(ret, list):
        rest = list(ret)
    return rest, cond, updates


def _placeholder(ttype, name):
    return ttype.make_variable(name=name)


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None, truncate_gradient=-1,
         go_backwards=False, mode=None, name=None, profile=False, allow_gc=None, strict=False,
         return_list=False, return_updates=True):
    """Repeat ``fn`` over sequences and/or recurrent outputs; see the module docstring.

    Returns ``(outputs, updates)`` as PyTensor does: ``outputs`` is one variable when
    there is one output (a list otherwise, or always with ``return_list=True``);
    ``updates`` a dict of shared-variable updates to pass to ``function``.  With
    ``return_updates=False`` only ``outputs`` is returned.
    ``mode`` and ``profile`` are accepted for PyTensor's signature: the loop is compiled
    with the enclosing function's mode.
    """
    from opgraph.kernel_core.tensor.basic import as_tensor_variable
    from opgraph.kernel_core.tensor.math import cast
    from opgraph.kernel_core.tensor.type import TensorType

    label = _label(name)
    if not callable(fn):
        raise TypeError(f"{label}: fn must be callable, got {type(fn).__name__}")
    if not isinstance(truncate_gradient, (int, np.integer)) or (truncate_gradient < 1 and truncate_gradient != -1):
        raise ValueError(f"{label}: truncate_gradient must be -1 or a positive int, got {truncate_gradient!r}")

    # -- sequences: one aligned input per (sequence, tap) --------------------------------
    seq_specs = []
    for k, s in enumerate(_as_list(sequences)):
        if isinstance(s, dict):
            if "input" not in s:
                raise ValueError(f"{label}: sequence {k} is a dict without 'input'")
            taps = list(s.get("taps", [0]) or [0])
            s = s["input"]
        else:
            taps = [0]
        s = _tensor(s, f"sequence {k}", label)
        if s.type.ndim == 0:
            raise TypeError(f"{label}: sequence {k} is a scalar ({s.type.short_str()}); sequences are "
                            "iterated over their first dimension")
        if not all(isinstance(t, (int, np.integer)) for t in taps):
            raise TypeError(f"{label}: sequence {k}: taps must be ints, got {taps!r}")
        seq_specs.append((s[::-1] if go_backwards else s, [int(t) for t in taps]))
    seq_inputs, seq_places = [], []
    for k, (s, taps) in enumerate(seq_specs):
        lo, hi = min(taps), max(taps)
        for t in taps:
            end = hi - t
            seq_inputs.append(s[t - lo:s.shape[0] - end] if end else s[t - lo:])
            tag = "" if t == 0 else f"[t{t:+d}]"
            seq_places.append(_placeholder(TensorType(s.type.dtype, s.type.shape[1:]),
                                           f"{s.name or f'seq{k}'}{tag}" if s.name or tag else None))

    # -- the number of steps ---------------------------------------------------------------
    equal_lengths = False
    if n_steps is not None:
        steps = _tensor(n_steps, "n_steps", label)
        if steps.type.ndim != 0 or steps.type.dtype not in ("int8", "int16", "int32", "int64", "uint8",
                                                              "uint16", "uint32"):
            raise TypeError(f"{label}: n_steps must be an integer scalar, got {steps.type.short_str()}")
        if isinstance(steps, Constant) and int(steps.data) < 0:
            raise ValueError(f"{label}: n_steps is {int(steps.data)}; it must be >= 0")
        steps = cast(steps, "int64") if steps.type.dtype != "int64" else steps
    elif seq_inputs:
        # The shortest sequence, as PyTensor (its polynomial example scans coefficients
        # together with arange(1000)); an explicit n_steps longer than a sequence raises.
        from opgraph.kernel_core.tensor.math import minimum

        steps = seq_inputs[0].shape[0]
        for s in seq_inputs[1:]:
            steps = minimum(steps, s.shape[0])
        steps = cast(steps, "int64")
    else:
        raise ValueError(f"{label}: give sequences or n_steps (the number of steps is unknown)")

    # -- recurrent outputs ----------------------------------------------------------------
    infos = _as_list(outputs_info) if isinstance(outputs_info, (list, tuple)) else \
        ([] if outputs_info is None else [outputs_info])
    state_specs = []   # per outputs_info entry: None (not fed back) or (init, taps, from_number)
    for k, info in enumerate(infos):
        if info is None:
            state_specs.append(None)
            continue
        if isinstance(info, dict):
            if info.get("initial") is None:
                state_specs.append(None)
                continue
            init, taps = info["initial"], list(info.get("taps", [-1]))
        else:
            init, taps = info, [-1]
        if not taps or not all(isinstance(t, (int, np.integer)) and t < 0 for t in taps):
            raise ValueError(f"{label}: output {k}: taps of a recurrent output must be negative ints, got {taps!r}")
        from_number = not isinstance(init, Variable)
        init = _tensor(init, f"the initial value of output {k}", label)
        taps = [int(t) for t in taps]
        if taps != [-1]:
            if init.type.ndim == 0:
                raise TypeError(f"{label}: output {k}: taps {taps} need an initial value with one row per "
                                f"step back, got {init.type.short_str()}")
            lag = -min(taps)
            rows = init.type.shape[0]
            if rows is not None and rows < lag:
                raise ValueError(f"{label}: output {k}: taps {taps} reach {lag} steps back, the initial "
                                 f"value has {rows} rows (taps that reach before the start)")
        state_specs.append((init, taps, from_number))

    state_places = []
    for k, spec in enumerate(state_specs):
        if spec is None:
            continue
        init, taps, _ = spec
        row_type = init.type if taps == [-1] else TensorType(init.type.dtype, init.type.shape[1:])
        state_places.append([_placeholder(row_type, f"{init.name}[t{t:+d}]" if init.name else None)
                             for t in taps])
    nonseqs_given = [_tensor(v, f"non_sequence {k}", label) if not isinstance(v, Variable) else v
                     for k, v in enumerate(_as_list(non_sequences))]

    # -- call the step function ---------------------------------------------------------------
    args = list(seq_places) + [p for ps in state_places for p in ps] + list(nonseqs_given)
    ret = fn(*args)
    outputs, cond, updates = _parse_return(ret, label)
    if outputs_info is None:
        state_specs = [None] * len(outputs)
    if len(outputs) != len(state_specs):
        raise ValueError(f"{label}: the step function returned {len(outputs)} output(s), outputs_info has "
                         f"{len(state_specs)} entries")
    outputs = [_tensor(o, f"output {k} of the step function", label) for k, o in enumerate(outputs)]

    # Shared-variable updates become recurrent states read from the shared value and
    # returned at the end (PyTensor applies them after the loop with the last value).
    update_vars, generator_updates = [], {}
    for var, new in updates.items():
        if getattr(var.tag, "shared_container", None) is None:
            raise TypeError(f"{label}: updates must be for shared variables, got {var}")
        if not _is_tensor(var):
            generator_updates[var] = new
            continue
        update_vars.append((var, _tensor(new, f"the update of {var}", label)))

    # -- check the types of the recurrent outputs -------------------------------------------
    inits, new_states, taps_list, nit_outs, nit_positions, state_positions = [], [], [], [], [], []
    place_iter = iter(state_places)
    for k, (spec, out) in enumerate(zip(state_specs, outputs)):
        if spec is None:
            nit_outs.append(out)
            nit_positions.append(k)
            continue
        init, taps, from_number = spec
        places = next(place_iter)
        row = places[0].type
        if out.type.dtype != row.dtype:
            if from_number or (isinstance(out, Constant) and np.can_cast(out.type.dtype, row.dtype)):
                # A number as initial value takes the step's dtype (and a constant step result the state's).
                if from_number:
                    init = cast(init, out.type.dtype)
                    row = row.clone(dtype=out.type.dtype)
                    new_places = [_placeholder(row, p.name) for p in places]
                    outputs = _replace_all(outputs, dict(zip(places, new_places)))
                    out = outputs[k]
                    cond = _replace_all([cond], dict(zip(places, new_places)))[0] if cond is not None else None
                    places[:] = new_places
                else:
                    out = cast(out, row.dtype)
            else:
                raise TypeError(f"{label}: output {k}: the initial value is {row.short_str()} but the step "
                                f"returns {out.type.short_str()} (a recurrent output cannot change type "
                                "between steps; cast the initial value or the result)")
        if out.type.ndim != row.ndim:
            raise TypeError(f"{label}: output {k}: the initial value is {row.short_str()} but the step "
                            f"returns {out.type.short_str()} (different numbers of dimensions)")
        fixed = row.convert_variable(out)
        if fixed is None:
            raise TypeError(f"{label}: output {k}: the initial value is {row.short_str()} but the step "
                            f"returns {out.type.short_str()} (the static shapes differ)")
        buffer = init[None] if taps == [-1] else init
        inits.append(buffer)
        new_states.append(fixed)
        taps_list.append(taps)
        state_positions.append(k)
    state_places = [ps for ps in state_places]

    # Shared updates: placeholders replace the shared variable inside the step.
    upd_places = []
    for var, new in update_vars:
        p = _placeholder(var.type, var.name)
        upd_places.append(p)
    if update_vars:
        repl = {var: p for (var, _), p in zip(update_vars, upd_places)}
        replaced = _replace_all(new_states + nit_outs + [n for _, n in update_vars]
                                + ([cond] if cond is not None else []), repl)
        n_s, n_n = len(new_states), len(nit_outs)
        new_states, nit_outs = replaced[:n_s], replaced[n_s:n_s + n_n]
        upd_news = replaced[n_s + n_n:n_s + n_n + len(update_vars)]
        cond = replaced[-1] if cond is not None else None
        for (var, _), p, new in zip(update_vars, upd_places, upd_news):
            fixed = p.type.convert_variable(new) if new.type.dtype == p.type.dtype else None
            if fixed is None:
                raise TypeError(f"{label}: the update of {var} has type {new.type.short_str()}, the shared "
                                f"variable {var.type.short_str()}")
            inits.append(var[None])
            new_states.append(fixed)
            taps_list.append([-1])
            state_places.append([p])

    # Random generators the step draws from: threaded through the steps (each step
    # advances the one the next reads), their final value returned in ``updates``.
    places = list(seq_places) + [p for ps in state_places for p in ps]
    body = new_states + nit_outs + ([cond] if cond is not None else [])
    gens = [v for v in _graph_roots(body, places) if not _is_tensor(v) and not isinstance(v, Constant)]
    gen_news, gen_places = [], []
    for g in gens:
        new = generator_updates.pop(g, None)
        if new is None:
            new = getattr(g, "default_update", None)
        if new is None:
            # One draw from it: its advanced generator (the draw's first output) is the update.
            readers = [n for n in io_toposort(places, body) if g in n.inputs]
            if len(readers) == 1 and readers[0].outputs[0].type == g.type:
                new = readers[0].outputs[0]
        if new is None:
            raise ValueError(f"{label}: the step function uses {g} ({g.type}), which has no update; give "
                             "one in the step's updates dict")
        gen_news.append(new)
        gen_places.append(_placeholder(g.type, g.name))
    if generator_updates:
        raise ValueError(f"{label}: updates given for {', '.join(map(str, generator_updates))}, which the step "
                         "function does not use")
    if gens:
        repl = dict(zip(gens, gen_places))
        replaced = _replace_all(body + gen_news, repl)
        body, gen_news = replaced[:len(body)], replaced[len(body):]
        n_s, n_n = len(new_states), len(nit_outs)
        new_states, nit_outs = body[:n_s], body[n_s:n_s + n_n]
        cond = body[-1] if cond is not None else None
    inner_outs = new_states + nit_outs + gen_news + ([cond] if cond is not None else [])
    free = _loop_invariants(places + gen_places, inner_outs)
    if strict:
        allowed = set(nonseqs_given)
        bad = [v for v in free if v not in allowed and _roots_outside(v, allowed)]
        if bad:
            raise ValueError(f"{label}: strict=True and the step function uses {', '.join(map(str, bad))}, "
                             "which is not among the non_sequences")
    memo = clone_get_equiv(places + free + gen_places, inner_outs, copy_inputs=True, copy_orphans=True)
    inner_inputs = [memo[v] for v in places + free + gen_places]
    op = Scan(inner_inputs, [memo[v] for v in inner_outs], n_seqs=len(seq_places), state_taps=taps_list,
              n_nit=len(nit_outs), n_nonseqs=len(free), as_while=cond is not None,
              equal_lengths=equal_lengths, name=name, truncate_gradient=truncate_gradient,
              n_shared=len(gens))
    node_outs = op(steps, *seq_inputs, *inits, *free, *gens, return_list=True)

    results = [None] * len(outputs)
    for pos, o in zip(state_positions, node_outs[:len(state_positions)]):
        results[pos] = o
    n_user_states = len(state_positions)
    n_upd = len(update_vars)
    n_states_all = n_user_states + n_upd
    for pos, o in zip(nit_positions, node_outs[n_states_all:n_states_all + len(nit_outs)]):
        results[pos] = o
    new_updates = {}
    for (var, _), o in zip(update_vars, node_outs[n_user_states:n_user_states + n_upd]):
        new_updates[var] = o[-1]
    for g, o in zip(gens, node_outs[n_states_all + len(nit_outs):]):
        new_updates[g] = o
    if name is not None:
        for k, o in enumerate(results):
            o.name = name if len(results) == 1 else f"{name}[{k}]"
    outs = results if (return_list or len(results) != 1) else results[0]
    return (outs, new_updates) if return_updates else outs


def _replace_all(vars_, replace):
    from opgraph.kernel_core.graph.replace import graph_replace

    return list(graph_replace(list(vars_), replace, strict=False))


def _pure(node):
    """A node that may run once instead of at every step (no generator input)."""
    from opgraph.kernel_core.scalar.type import ScalarType
    from opgraph.kernel_core.tensor.type import TensorType

    return all(isinstance(v.type, (TensorType, ScalarType)) for v in node.inputs)


def _loop_invariants(places, outputs):
    """The outermost variables the step uses that do not depend on ``places``: they
    become non-sequence inputs (computed once, outside the loop)."""
    outputs = [o for o in outputs if o is not None]
    varying = set(places)
    order = io_toposort([], outputs)
    for node in order:
        if any(v in varying for v in node.inputs) or not _pure(node):
            varying.update(node.outputs)
    free, seen = [], set()

    def take(v):
        if v not in varying and not isinstance(v, Constant) and v not in seen:
            seen.add(v)
            free.append(v)

    for node in order:
        if any(o in varying for o in node.outputs):
            for v in node.inputs:
                take(v)
    for o in outputs:
        take(o)
    return free


def _roots_outside(v, allowed):
    from opgraph.kernel_core.graph.traversal import graph_inputs

    return any(r not in allowed and not isinstance(r, Constant) for r in graph_inputs([v], blockers=list(allowed)))


def _is_tensor(v):
    from opgraph.kernel_core.scalar.type import ScalarType
    from opgraph.kernel_core.tensor.type import TensorType

    return isinstance(v.type, (TensorType, ScalarType))


def _graph_roots(outputs, blockers):
    from opgraph.kernel_core.graph.traversal import graph_inputs

    return graph_inputs([o for o in outputs if o is not None], blockers=list(blockers))

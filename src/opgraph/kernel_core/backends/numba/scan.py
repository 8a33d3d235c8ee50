"""Numba implementation of Scan: the loop, with the step's inner graph as statements.

    def scan_3(n_arr, s0, b0, c0):
        n = n_arr[()]
        ... run-time checks (the messages of Scan.check_run) ...
        buf0 = np.empty((L0 + n,) + b0.shape[1:], dtype)    # or a window of L0 rows
        buf0[:L0] = b0[:L0]                                 # (as loop nests: assign_lines)
        nit0 = np.empty((0, 0), dtype)
        for i in range(0, n):
            x0 = s0[i]; x1 = buf0[L0 + i - 1]              # the step's inputs
            <the inner graph, inner_graph_lines>            # no Python per step
            buf0[L0 + i] = new0
            if i == 0: nit0 = np.empty((n,) + y0.shape, dtype)
            nit0[i] = y0
        return (buf0[L0:L0 + n], nit0[:n])

The function is defined in the graph's module and called by the one jitted graph
function.  Per-step outputs get their buffer in the first step, once their row shape
is known (the step is generated once: peeling the first step ahead of the loop, as
before, doubled the scan's code and its cold compile).  States with
``save_last`` keep a window of their ``L`` last rows (shifted each step), so the
memory is O(L * state), not O(n_steps * state).  0-d rows are boxed into 0-d
arrays, the array convention of the per-node functions.  A step's ``dot(M, v)`` with
``M`` a non-sequence runs as ``scan_kernels.matvec``: a loop over ``M``'s columns,
transposed once before the loop, into a buffer allocated before the loop (BLAS's call
costs more than the product at small sizes; BLAS for large ``M``).

Rows are copied by loop nests written inline (``assign.assign_lines``), not numba's
array setitem, whose shape-mismatch error path took ~4 s CPU of the HMM's cold compile
per rank (numba 0.68; benchmarks/RESULTS.md "Cold compile of scans"), nor a jitted
copy function (one more dispatcher to compile).  A step's value of another shape than
its row raises (Python's ``np.stack`` of the rows refuses it too).
"""

from __future__ import annotations

import re

from opgraph.kernel_core.backends.numba.assign import assign_lines
from opgraph.kernel_core.backends.numba.dispatch import np_dtype, numba_funcify
from opgraph.kernel_core.backends.numba.elemwise import elemwise_source
from opgraph.kernel_core.backends.numba.ifelse import inner_graph_lines
from opgraph.kernel_core.backends.numba.inlining import inline_call
from opgraph.kernel_core.graph.traversal import io_toposort
from opgraph.kernel_core.scan.op import Scan
from opgraph.kernel_core.tensor.elemwise import Elemwise


def _quote(text):
    return repr(str(text))


def _read(target, array, index):
    """Row ``index`` of ``array``: a view, or for a 0-d row a number -- the step's code
    works on numbers where it can (``inner_graph_lines``); a 0-d array allocated per
    step cost ~50x the loop's own work on scalar recurrences."""
    return [f"{target} = {array}[{index}]"]


def _row(value, is_number, row_ndim):
    return value if is_number or row_ndim else f"{value}[()]"


_SCAN_KERNELS = "opgraph.kernel_core.backends.numba.scan_kernels"


def _is_matvec(node):
    from opgraph.kernel_core.tensor.dot import Dot

    if not isinstance(node.op, Dot):
        return False
    m, v = node.inputs
    dtype = node.outputs[0].type.dtype
    return (m.type.ndim == 2 and v.type.ndim == 1 and dtype in ("float32", "float64")
            and m.type.dtype == v.type.dtype == dtype)


def _matvec_nonseqs(op):
    """Inner non-sequences that are the matrix of a matrix-vector product in the step."""
    from opgraph.kernel_core.graph.traversal import io_toposort

    nonseqs = set(op.inner_nonseqs)
    found = []
    for node in io_toposort(list(op.inner_inputs), list(op.inner_outputs)):
        if _is_matvec(node) and node.inputs[0] in nonseqs and node.inputs[0] not in found:
            found.append(node.inputs[0])
    return found


_EMPTY = re.compile(r"^(?P<name>\w+out(?P<out>\d+)) = np\.empty\((?P<shape>.+), dtype=(?P<dtype>[\w.]+)\)$")


def _window_writable(op, k, order, writer):
    """Whether ``writer`` may write state ``k``'s new value over its one-row window
    (``save_last``, lag 1) in place: every reader of the previous value runs no later than
    ``writer``, none keeps a view of it, and ``writer`` itself reads it, if at all, only at
    the index it writes (an Elemwise in which that input is not broadcast)."""
    from opgraph.kernel_core.tensor.elemwise import Elemwise

    (prev,) = op.inner_state_taps()[k]
    if prev in op.inner_outputs:
        return False
    at = order.index(writer)
    for pos, n in enumerate(order):
        if prev not in n.inputs:
            continue
        if pos > at or (n is not writer and getattr(n.op, "view_map", None)):
            return False
        if n is writer:
            out = writer.outputs[0].type
            if not isinstance(writer.op, Elemwise) or prev.type.ndim != out.ndim or any(
                    a == 1 and b != 1 for a, b in zip(prev.type.shape, out.shape)):
                return False
    return True


def _hoisted(op, is_number):
    """Positions of the step's results to copy before the step's rows are written.

    The writes after the step run state by state: a ``save_last`` state's window is
    shifted (``L > 1``) and its last row written, then each later result is read.  A
    result that is a view (``view_map``) of a window row read after that window was
    rewritten would read the new rows (the step returning ``x_tm3``, ``x_tm3.T``, the
    other state of a swap, or the previous state as a per-step output).  Fresh
    values, and views of the other buffers (whose written rows the step never reads),
    need no copy."""
    from opgraph.kernel_core.graph.destroyhandler import view_base

    window_of = {}
    for k, taps in enumerate(op.inner_state_taps()):
        if op.save_last[k]:
            window_of.update((tap, k) for tap in taps)
    read = list(range(op.n_states + op.n_nit))   # (the results read after the writes, in order)
    if op.as_while:
        read.append(len(op.inner_outputs) - 1)
    hoisted = []
    for r in read:
        o = op.inner_outputs[r]
        k = window_of.get(view_base(o))
        if k is None or is_number[r] or k > r:
            continue
        if k == r and op.lags[k] == 1 and o is op.inner_state_taps()[k][0]:
            continue   # (its own one-row window, copied onto itself)
        hoisted.append(r)
    return hoisted


@numba_funcify.register(Scan)
def numba_funcify_scan(op, node, ctx):
    n_seqs, n_states, n_nit = op.n_seqs, op.n_states, op.n_nit
    seq_names = [f"s{k}" for k in range(n_seqs)]
    init_names = [f"b{k}" for k in range(n_states)]
    nonseq_names = [f"c{k}" for k in range(op.n_nonseqs)]
    gen_names = [f"g{k}" for k in range(op.n_shared)]
    params = ["n_arr"] + seq_names + init_names + nonseq_names + gen_names
    state_types = [taps[0].type for taps in op.inner_state_taps()]
    lines = ["n = n_arr[()]",
             f"if n < 0: raise ValueError({_quote(f'{op}: n_steps must be >= 0')})"]
    for k, s in enumerate(seq_names):
        lines.append(f"if {s}.shape[0] < n: raise ValueError("
                     f"{_quote(f'{op}: sequence {k} has fewer steps than the loop (sequences of different lengths)')})")
    for k, (b, lag) in enumerate(zip(init_names, op.lags)):
        lines.append(f"if {b}.shape[0] < {lag}: raise ValueError("
                     f"{_quote(f'{op}: output {k}: the initial value has fewer rows than the taps reach back ({lag}) (taps that reach before the start)')})")
    for k, (b, lag, t) in enumerate(zip(init_names, op.lags, state_types)):
        rows = f"{lag}" if op.save_last[k] else f"{lag} + n"
        lines.append(f"buf{k} = {ctx.empty(f'({rows},) + {b}.shape[1:]', np_dtype(t.dtype))}")
        lines += assign_lines(f"buf{k}[:{lag}]", f"{b}[:{lag}]", t.ndim + 1, tag=f"_i{k}_")
    lines.append("done = n")
    lines.append("stopped = False")
    # Small matrix-vector products with a loop-invariant matrix: a loop (scan_kernels).
    looped = _matvec_nonseqs(op)
    if looped:
        prep = ctx.import_name(_SCAN_KERNELS, "loop_matrix")
        matvec = ctx.import_name(_SCAN_KERNELS, "matvec")
        for var in looped:
            c = nonseq_names[op.inner_nonseqs.index(var)]
            lines.append(f"{c}t = {prep}({c})")
    products = {}   # step node -> its result buffer (allocated before the loop)
    order = io_toposort(list(op.inner_inputs), list(op.inner_outputs))

    def nit_alloc(m, i, shape):
        """The statement allocating per-step output ``m``'s buffer at the first step, once its
        row ``shape`` (a tuple expression) is known; before the loop it is an empty array of
        the same type (for ``n == 0``)."""
        dtype = np_dtype(node.outputs[n_states + m].type.dtype)
        return f"if {i} == 0: nit{m} = {ctx.empty(f'(n,) + {shape}', dtype)}"

    def row_targets(i):
        """Step outputs a node may write straight into their row of the loop's buffers:
        ``{inner output: (row expression, dtype, output number)}``."""
        targets = {}
        for k, (new, lag, t) in enumerate(zip(op.inner_new_states, op.lags, state_types)):
            if t.ndim == 0 or new.owner is None or new in targets or new.type.dtype != t.dtype:
                continue
            if not op.save_last[k]:
                targets[new] = (f"buf{k}[{lag} + {i}]", t.dtype, k)
            elif lag == 1 and _window_writable(op, k, order, new.owner):
                targets[new] = (f"buf{k}[0]", t.dtype, k)
        for m, out in enumerate(op.inner_nits):
            dtype = node.outputs[n_states + m].type.dtype
            if out.type.ndim and out.owner is not None and out not in targets and out.type.dtype == dtype:
                targets[out] = (f"nit{m}[{i}]", dtype, n_states + m)
        return targets

    def row_shape_fixed(k, inner_out):
        """Output ``k``'s step value ``inner_out`` provably fits its buffer row, so the
        "changes shape" test is not generated: the value's shape is fixed by its type, and
        the row's too (a per-step output's buffer is allocated from the first value's shape;
        a state's rows have the initial value's, fixed by the outer type)."""
        shape = inner_out.type.shape
        if None in shape:
            return False
        if k >= n_states:
            return True
        return tuple(node.inputs[1 + n_seqs + k].type.shape[1:]) == tuple(shape)

    def node_lines(inner, args, outs, targets, written, i):
        if len(outs) == 1 and inner.inputs[0] in looped and _is_matvec(inner):
            target = targets.get(inner.outputs[0])
            if target is not None:   # (a window row is a target only if the product does not read it)
                row, _, k = target
                written.add(k)
                alloc = [nit_alloc(k - n_states, i, f"({args[0]}.shape[0],)")] if k >= n_states else []
                check = [] if row_shape_fixed(k, inner.outputs[0]) else [
                    f"if {outs[0]}.shape[0] != {args[0]}.shape[0]: raise ValueError("
                    f"{_quote(f'{op}: output {k} changes shape between steps')})"]
                return alloc + [f"{outs[0]} = {row}"] + check + [
                        f"{matvec}({args[0]}t, {args[1]}, {outs[0]})"]
            if inner not in products:
                products[inner] = f"mv{len(products)}"
                dtype = np_dtype(inner.outputs[0].type.dtype)
                lines.append(f"{products[inner]} = {ctx.empty(f'{args[0]}.shape[0]', dtype)}")
            return [f"{outs[0]} = {matvec}({args[0]}t, {args[1]}, {products[inner]})"]
        row_of = {j: targets[o] for j, o in enumerate(inner.outputs) if o in targets}
        if not row_of or not isinstance(inner.op, Elemwise) or getattr(inner.op, "destroy_map", None):
            return None
        # The elemwise loop writes its results into their buffer rows: no array per step, no
        # copy (and no huge-page advice: the row is part of a buffer allocated once).  Each
        # output with a row of its own (a two-output node: a per-step output and the value
        # the next node reads, as in the HMM's gradient) is written there.
        src = elemwise_source(inner.op.scalar_op, [v.type for v in inner.inputs], [o.type for o in inner.outputs],
                              dict(inner.op.inplace_pattern), ctx, huge_pages=False)
        body = inline_call(src.replace("{name}", "f"), args, ", ".join(outs), f"{outs[0]}_")
        if body is None:
            return None
        done, new_body = set(), []
        for ln in body:
            m = _EMPTY.match(ln)
            j = int(m.group("out")) if m is not None else None
            if j is None or j not in row_of or m.group("dtype") != np_dtype(row_of[j][1]):
                new_body.append(ln)
                continue
            row, _, k = row_of[j]
            done.add(k)
            if k >= n_states:
                new_body.append(nit_alloc(k - n_states, i, m.group("shape")))
            new_body.append(f"{m.group('name')} = {row}")
            if not row_shape_fixed(k, inner.outputs[j]):
                new_body.append(f"if {m.group('name')}.shape != {m.group('shape')}: raise ValueError("
                                f"{_quote(f'{op}: output {k} changes shape between steps')})")
        if not done:
            return None
        written.update(done)
        return new_body

    def step(i, tag):
        """Statements of one step at index expression ``i``."""
        out, args, as_numbers = [], [], set()
        for k, (s, inner) in enumerate(zip(seq_names, op.inner_seqs)):
            name = f"{tag}x{k}"
            out += _read(name, s, i)
            if inner.type.ndim == 0:
                as_numbers.add(len(args))
            args.append(name)
        for k, (taps, lag, t) in enumerate(zip(op.state_taps, op.lags, state_types)):
            for j, tap in enumerate(taps):
                name = f"{tag}p{k}_{j}"
                index = f"{lag + tap}" if op.save_last[k] else f"{lag} + {i} - {-tap}"
                out += _read(name, f"buf{k}", index)
                if t.ndim == 0:
                    as_numbers.add(len(args))
                args.append(name)
        args += nonseq_names + gen_names
        targets, written = row_targets(i), set()
        hook = (lambda inner, a, o: node_lines(inner, a, o, targets, written, i)) if looped or targets else None
        # (No copy of results that view an input: each is copied into its row below, and
        # ``_hoisted`` copies the few that view a window which is rewritten first.)
        body, results, is_number = inner_graph_lines(ctx, op.inner_inputs, op.inner_outputs, args, tag,
                                                     copy_aliases=False, number_inputs=as_numbers,
                                                     as_arrays=False, node_lines=hook)
        out += body
        for r in _hoisted(op, is_number):
            out.append(f"{tag}h{r} = {results[r]}.copy()")
            results[r] = f"{tag}h{r}"
        # Random generators: the next step draws from the advanced one.
        for k, g in enumerate(gen_names):
            out.append(f"{g} = {results[n_states + n_nit + k]}")
        for k, (lag, t) in enumerate(zip(op.lags, state_types)):
            value = _row(results[k], is_number[k], t.ndim)
            if k in written:   # computed in its row already
                continue
            changes = f"{op}: output {k} changes shape between steps"
            if op.save_last[k]:
                if lag > 1:
                    if t.ndim:
                        out.append(f"for j in range({lag - 1}):")
                        shift = assign_lines(f"buf{k}[j]", f"buf{k}[j + 1]", t.ndim, tag=f"{tag}w{k}_")
                        out += ["    " + ln for ln in shift]
                    else:
                        out.append(f"for j in range({lag - 1}): buf{k}[j] = buf{k}[j + 1]")
                row = f"buf{k}[{lag - 1}]"
            else:
                row = f"buf{k}[{lag} + {i}]"
            if t.ndim:
                out += assign_lines(row, value, t.ndim, tag=f"{tag}o{k}_", message=changes)
            else:
                out.append(f"{row} = {value}")
        for k, inner in enumerate(op.inner_nits):
            value, number = results[n_states + k], is_number[n_states + k]
            if n_states + k in written:
                continue
            shape = "(" + "".join(f"{d}, " for d in inner.type.shape) + ")" if number else f"{value}.shape"
            out.append(nit_alloc(k, i, shape))
            if inner.type.ndim and not number:
                out += assign_lines(f"nit{k}[{i}]", value, inner.type.ndim, tag=f"{tag}y{k}_",
                                    message=f"{op}: output {n_states + k} changes shape between steps")
            else:
                out.append(f"nit{k}[{i}] = {_row(value, number, inner.type.ndim)}")
        if op.as_while:
            out.append(f"if {results[-1]}:" if is_number[-1] else f"if {results[-1]}[()]:")
            out.append(f"    done = {i} + 1")
            out.append("    stopped = True")
        return out

    # Per-step outputs: allocated in the first step, where their row shape is known
    # (``nit_alloc``); empty arrays of the same type until then (and for ``n == 0``).
    for k, inner in enumerate(op.inner_nits):
        shape = "(" + "0, " * (inner.type.ndim + 1) + ")"
        lines.append(f"nit{k} = {ctx.empty(shape, np_dtype(node.outputs[n_states + k].type.dtype))}")
    body = step("i", "_l_")   # (first: it adds the buffers of its products to ``lines``)
    lines.append("for i in range(0, n):")
    lines.append("    if stopped: break")
    lines += ["    " + ln for ln in body]

    rets = []
    for k, (lag, t) in enumerate(zip(op.lags, state_types)):
        if op.save_last[k]:
            if t.ndim:
                rets.append(f"buf{k}[{lag - 1}].copy()")
            else:
                lines.append(f"last{k} = {ctx.empty('()', np_dtype(t.dtype))}")
                lines.append(f"last{k}[()] = buf{k}[{lag - 1}]")
                rets.append(f"last{k}")
        else:
            rets.append(f"buf{k}[{lag}:{lag} + done]")
    for k in range(n_nit):
        rets.append(f"nit{k}[:done]")
    rets += gen_names
    ret = rets[0] if len(rets) == 1 else "(" + "".join(f"{r}, " for r in rets) + ")"
    body = "".join(f"    {ln}\n" for ln in lines)
    return ctx.define(f"def {{name}}({', '.join(params)}):\n{body}    return {ret}\n", prefix="scan")

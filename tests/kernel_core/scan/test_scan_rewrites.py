"""Scan rewrites: merging scans of the same length, the step rewritten with the outer
phases, unused per-step outputs dropped.  (Loop-invariant push-out and the last-state
window are tested in test_scan.py.)"""

import functools

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.graph import rewrite_graph
from opgraph.graph.traversal import ancestors
from opgraph.scan import Scan
from opgraph.scan.utils import until


def scan_nodes(outputs):
    return {v.owner for v in ancestors(outputs) if v.owner is not None and isinstance(v.owner.op, Scan)}


def inner_op_names(op):
    from opgraph.graph.traversal import io_toposort

    return [str(n.op) for n in io_toposort(op.inner_inputs, op.inner_outputs)]


def two_scans_over_x():
    x = pt.vector("x")
    a = pt.scalar("a")
    running, _ = opgraph.scan(lambda v, acc: acc + pt.exp(v), sequences=x, outputs_info=pt.constant(0.0))
    scaled, _ = opgraph.scan(lambda v, a: pt.exp(v) * a + pt.log(1 + v), sequences=x, non_sequences=a)
    return [x, a], [running, scaled]


X = np.array([0.5, 1.0, 2.0, 3.0])


def reference(x, a):
    return np.cumsum(np.exp(x)), np.exp(x) * a + np.log1p(x)


def test_two_scans_over_the_same_sequence_become_one():
    inputs, outputs = two_scans_over_x()
    assert len(scan_nodes(outputs)) == 2
    merged = rewrite_graph(outputs, include=("canonicalize",))
    (node,) = scan_nodes(merged)
    # One loop reading x once; the two steps' outputs are its outputs.
    assert node.op.n_seqs == 1 and node.op.n_states == 1 and node.op.n_nit == 1
    for got, want in zip(opgraph.function(inputs, merged, mode="PYTHON")(X, 2.0), reference(X, 2.0)):
        np.testing.assert_allclose(got, want)
    # The originals are untouched (rewrite_graph is functional).
    assert len(scan_nodes(outputs)) == 2


@functools.lru_cache(maxsize=None)
def _compiled_numba():
    inputs, outputs = two_scans_over_x()
    f = opgraph.function(inputs, outputs, mode="NUMBA")
    f.wait_compiled()
    return f


def test_compiled_graph_runs_one_loop_whose_step_is_rewritten():
    f = _compiled_numba()
    (node,) = [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Scan)]
    assert node.op.inner_rewritten
    # The step went through the outer phases: log(1 + v) -> log1p, both steps fused into one loop body.
    assert inner_op_names(node.op) == ["Composite{...}"]
    assert "log1p" in opgraph.dprint(node.op.inner_outputs, file="str")
    for got, want in zip(f(X, 2.0), reference(X, 2.0)):
        np.testing.assert_allclose(got, want)


def test_the_shared_step_computation_is_done_once():
    inputs, outputs = two_scans_over_x()
    merged = rewrite_graph(outputs, include=("canonicalize",))
    (node,) = scan_nodes(merged)
    from opgraph.graph.traversal import io_toposort

    # x is one input of the merged step, so merge (CSE) finds exp(v) in both steps.
    inner_outs = rewrite_graph(node.op.inner_outputs, include=("canonicalize",))
    exps = [n for n in io_toposort([], inner_outs) if str(n.op) == "Exp"]
    assert len(exps) == 1


def test_dependent_scans_stay_apart():
    x = pt.vector("x")
    first, _ = opgraph.scan(lambda v: v * 2, sequences=x)
    second, _ = opgraph.scan(lambda v, acc: acc + v, sequences=first, outputs_info=pt.constant(0.0))
    (both,) = [rewrite_graph([first, second], include=("canonicalize",))]
    assert len(scan_nodes(both)) == 2
    np.testing.assert_allclose(opgraph.function([x], both[1], mode="PYTHON")(X), np.cumsum(2 * X))


def test_different_lengths_and_while_loops_stay_apart():
    x, y = pt.vector("x"), pt.vector("y")
    over_x, _ = opgraph.scan(lambda v: v + 1, sequences=x)
    over_y, _ = opgraph.scan(lambda v: v - 1, sequences=y)
    assert len(scan_nodes(rewrite_graph([over_x, over_y], include=("canonicalize",)))) == 2
    n = pt.lscalar("n")
    loop, _ = opgraph.scan(lambda p: p * 2, outputs_info=pt.constant(1.0), n_steps=n)
    stop, _ = opgraph.scan(lambda p: (p * 3, until(p > 10)), outputs_info=pt.constant(1.0), n_steps=n)
    out = rewrite_graph([loop, stop], include=("canonicalize",))
    assert len(scan_nodes(out)) == 2
    got = opgraph.function([n], out, mode="PYTHON")(5)
    np.testing.assert_allclose(got[0], [2, 4, 8, 16, 32])
    np.testing.assert_allclose(got[1], [3, 9, 27, 81])   # the step whose condition holds is included


def test_three_scans_of_one_length_merge_into_one():
    n = pt.lscalar("n")
    outs = [opgraph.scan(lambda p, k=k: p * k, outputs_info=pt.constant(1.0), n_steps=n)[0] for k in (2.0, 3.0, 4.0)]
    merged = rewrite_graph(outs, include=("canonicalize",))
    (node,) = scan_nodes(merged)
    assert node.op.n_states == 3
    got = opgraph.function([n], merged, mode="PYTHON")(3)
    for k, g in zip((2.0, 3.0, 4.0), got):
        np.testing.assert_allclose(g, k ** np.arange(1, 4))


def test_merge_keeps_the_last_state_window():
    """After the merge, a state read only at [-1] still keeps a window (save_last)."""
    h0 = pt.vector("h0")
    n = pt.lscalar("n")
    a, _ = opgraph.scan(lambda h: h * 0.5 + 1, outputs_info=h0, n_steps=n)
    b, _ = opgraph.scan(lambda h: h + 1, outputs_info=h0, n_steps=n)
    out = rewrite_graph([a[-1], b], include=("canonicalize", "specialize"))
    (node,) = scan_nodes(out)
    assert node.op.save_last == (True, False)
    got = opgraph.function([h0, n], out, mode="PYTHON")(np.zeros(2), 3)
    np.testing.assert_allclose(got[0], [1.75, 1.75])
    np.testing.assert_allclose(got[1], [[1, 1], [2, 2], [3, 3]])


def test_unused_per_step_outputs_are_dropped():
    x = pt.vector("x")
    (total, squares), _ = opgraph.scan(lambda v, acc: (acc + v, v ** 2), sequences=x,
                                       outputs_info=[pt.constant(0.0), None])
    out = rewrite_graph(total, include=("canonicalize",))
    (node,) = scan_nodes([out])
    assert node.op.n_nit == 0
    np.testing.assert_allclose(out.eval({x: X}), np.cumsum(X))


def test_unread_and_constant_sequences_leave_the_step():
    x, w = pt.vector("x", shape=(4,)), pt.matrix("w", shape=(4, 2))
    rows = pt.zeros_like(w)          # a zero-filled sequence: Second(w, 0)
    out, _ = opgraph.scan(lambda v, r, z, acc: acc + r * 2.0 + z, sequences=[x, w, rows],
                          outputs_info=pt.zeros((2,)))
    (before,) = scan_nodes([out])
    assert before.op.n_seqs == 3
    rewritten = rewrite_graph(out, include=("canonicalize",))
    (node,) = scan_nodes([rewritten])
    # x is never read, the zeros became a constant row of the step: only w is left.
    assert node.op.n_seqs == 1 and node.inputs[1] is w
    W = np.arange(8.0).reshape(4, 2)
    np.testing.assert_allclose(rewritten.eval({w: W}), np.cumsum(W * 2.0, axis=0))
    np.testing.assert_allclose(out.eval({x: X, w: W}), np.cumsum(W * 2.0, axis=0))


def test_the_gradient_of_a_step_with_unused_per_step_outputs_reads_no_zero_sequences():
    """The backward loop of a scan whose extra per-step outputs nobody uses: their zero
    cotangents are not sequences of the compiled backward loop, nor are the forward values it
    does not read."""
    from opgraph.gradient import grad

    x, a = pt.vector("x"), pt.scalar("a")

    def step(v, h, a):
        u = pt.exp(h * a)
        return u + v, u

    (hs, us), _ = opgraph.scan(step, sequences=x, outputs_info=[pt.constant(0.1), None], non_sequences=a,
                               name="fwd")
    cost = hs[-1]
    f = opgraph.function([x, a], [cost, grad(cost, a)], mode="PYTHON")
    from opgraph.kernel_core.compile.mode import Mode

    g_rewritten = opgraph.function([x, a], grad(cost, a), mode=Mode(
        linker="py", optimizer="fast_run"))
    (back,) = [n for n in g_rewritten.maker.fgraph.apply_nodes if isinstance(n.op, Scan) and "grad_of_fwd" in str(n.op)]
    # Without the rewrite: 6 sequences, one of them the zeros of u's cotangent.
    assert back.op.n_seqs == 3 and all(_fill(s) is None for s in back.op.outer_groups(back.inputs)[1])
    X4 = np.array([0.1, -0.2, 0.3, 0.05])
    value, g = f(X4, 0.7)
    eps = 1e-6
    fd = (f(X4, 0.7 + eps)[0] - f(X4, 0.7 - eps)[0]) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=1e-6)
    np.testing.assert_allclose(g_rewritten(X4, 0.7), g, rtol=1e-12)


def _fill(v):
    from opgraph.kernel_core.scan.rewrites import _fill_value

    return _fill_value(v)


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_merged_gradient_matches(mode):
    """grad before compilation, merge during it: the forward and backward scans of two
    recurrences over x give the sum of the separate gradients."""
    x = pt.vector("x")
    w = pt.scalar("w")
    r1, _ = opgraph.scan(lambda v, h, w: pt.tanh(w * h + v), sequences=x, outputs_info=pt.constant(0.0),
                         non_sequences=w)
    r2, _ = opgraph.scan(lambda v, w: pt.sin(w * v), sequences=x, non_sequences=w)
    cost = r1.sum() + r2.sum()
    g = opgraph.grad(cost, w)
    f = opgraph.function([x, w], [cost, g], mode=mode)
    if mode == "NUMBA":
        f.wait_compiled()
    xs, wv = X * 0.1, 0.7
    eps = 1e-6
    numeric = (f(xs, wv + eps)[0] - f(xs, wv - eps)[0]) / (2 * eps)
    np.testing.assert_allclose(f(xs, wv)[1], numeric, rtol=1e-6)


def test_outer_products_in_a_step_become_one_fused_loop():
    """The W-gradient term of an RNN step, acc + outer(d, h): no per-step BLAS call."""
    from opgraph.graph.traversal import io_toposort
    from opgraph.kernel_core.scan.rewrites import rewrite_inner
    from opgraph.kernel_core.tensor.dot import Dot

    acc, d, h = pt.matrix("acc"), pt.vector("d"), pt.vector("h")
    inputs, (new_acc,) = rewrite_inner([acc, d, h], [acc + pt.outer(d, h)])
    ops = [n.op for n in io_toposort(inputs, [new_acc])]
    assert not any(isinstance(op, Dot) for op in ops)
    assert [str(op) for op in ops if "Composite" in str(op)] == ["Composite{(i2 + (i0 * i1))}"]
    values = [np.ones((2, 3)), np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])]
    got = opgraph.function(inputs, new_acc, mode="PYTHON")(*values)
    np.testing.assert_allclose(got, 1 + np.outer(values[1], values[2]))
    # Outside a step the dot stays (it runs once there).
    outer = rewrite_graph(pt.outer(d, h), include=("fast_run",), exclude=("inplace",))
    assert isinstance(outer.owner.op, Dot)


def _two_d_states(outputs_or_nodes):
    nodes = outputs_or_nodes if isinstance(outputs_or_nodes, set) else scan_nodes(outputs_or_nodes)
    return [n for n in nodes for taps in n.op.inner_state_taps() if taps[0].type.ndim == 2]


A_ROWS = np.arange(12.0).reshape(4, 3) / 7
B_ROWS = np.cos(np.arange(8.0)).reshape(4, 2)


def test_a_summed_outer_product_leaves_the_step():
    """acc + outer(a_t, b_t), only the final acc read -> acc0 + A.T @ B after the loop:
    the 2-d state is gone, a_t / b_t are read from their sequences."""
    a, b, c = pt.matrix("a"), pt.matrix("b"), pt.matrix("c")
    acc0 = pt.zeros((3, 2)) + 1.0
    acc, _ = opgraph.scan(lambda at, bt, acc: acc + pt.outer(at, bt), sequences=[a, b], outputs_info=acc0)
    # Another term stays in the loop: the state remains, its product part leaves.
    acc2, _ = opgraph.scan(lambda at, bt, acc, c: acc + pt.outer(at, bt) + c, sequences=[a, b],
                           outputs_info=acc0, non_sequences=c)
    outs = [acc[-1], acc2[-1]]
    assert len(_two_d_states(outs)) == 2
    rewritten = rewrite_graph(outs, include=("fast_run",), exclude=("inplace",))
    nodes = scan_nodes(rewritten)
    assert len(_two_d_states(nodes)) == 1
    assert not any("dot" in name for n in nodes for name in inner_op_names(n.op))
    cv = np.full((3, 2), 0.25)
    want = [1.0 + A_ROWS.T @ B_ROWS, 1.0 + A_ROWS.T @ B_ROWS + 4 * cv]
    for mode in ("PYTHON", "NUMBA"):
        got = opgraph.function([a, b, c], rewritten, mode=mode)(A_ROWS, B_ROWS, cv)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-12)
    # Zero steps: the initial value.
    got = opgraph.function([a, b, c], rewritten, mode="PYTHON")(A_ROWS[:0], B_ROWS[:0], cv)
    np.testing.assert_allclose(got[1], np.ones((3, 2)))


def test_an_outer_product_sum_whose_trace_is_read_stays():
    a, b = pt.matrix("a"), pt.matrix("b")
    acc, _ = opgraph.scan(lambda at, bt, acc: acc + pt.outer(at, bt), sequences=[a, b],
                          outputs_info=pt.zeros((3, 2)))
    rewritten = rewrite_graph(acc, include=("fast_run",), exclude=("inplace",))
    assert len(_two_d_states([rewritten])) == 1
    want = np.cumsum(A_ROWS[:, :, None] * B_ROWS[:, None, :], axis=0)
    np.testing.assert_allclose(rewritten.eval({a: A_ROWS, b: B_ROWS}), want, rtol=1e-12)

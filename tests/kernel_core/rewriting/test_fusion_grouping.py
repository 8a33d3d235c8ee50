"""Fusion grouping: the linear cycle check picks exactly the groups of a brute-force check.

The reference below grows groups the same greedy way but, for each candidate,
searches every path leaving the whole trial group (the original quadratic
check).  On random elementwise / reduction / view (subtensor, dimshuffle)
graphs, with and without their gradients, both must give the same groups;
every final group (after merging) must be convex by brute force, and the
fused graph must stay acyclic and compute the same values.
"""

from unittest.mock import patch

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import opgraph.tensor as pt
from opgraph.gradient import grad
from opgraph.kernel_core.evaluate import evaluate
from opgraph.kernel_core.graph.fgraph import FunctionGraph
from opgraph.kernel_core.rewriting import fusion
from opgraph.kernel_core.rewriting.api import rewrite_fgraph
from opgraph.kernel_core.scalar.composite import Composite


def reference_creates_cycle(fgraph, members, limit_index, position):
    stack, seen = [], set()
    for node in members:
        for out in node.outputs:
            for client, _ in fgraph.clients.get(out, ()):
                if client != "output" and client not in members:
                    stack.append(client)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node in members:
            return True
        if position[node] > limit_index:
            continue
        for out in node.outputs:
            for client, _ in fgraph.clients.get(out, ()):
                if client != "output":
                    stack.append(client)
    return False


def reference_groups(fgraph):
    order = fgraph.toposort()
    position = {node: i for i, node in enumerate(order)}
    assigned, groups = set(), []
    for node in reversed(order):
        if node in assigned or not fusion._fusable(node):
            continue
        pattern = fusion._pattern(node.outputs[0])
        members, frontier = {node}, [node]
        while frontier:
            cur = frontier.pop()
            for inp in cur.inputs:
                prod = inp.owner
                if (prod is None or prod in members or prod in assigned or not fusion._fusable(prod)
                        or fusion._pattern(prod.outputs[0]) != pattern):
                    continue
                trial = members | {prod}
                if reference_creates_cycle(fgraph, trial, position[node], position):
                    continue
                members = trial
                frontier.append(prod)
        assigned |= members
        if len(members) > 1:
            groups.append(members)
    return groups, order, position


KINDS = ["exp", "sin", "neg", "add", "mul", "sum", "T", "row_add", "rev", "rev_cols", "set_rev"]
STEP = st.tuples(st.sampled_from(KINDS), st.integers(0, 10**6), st.integers(0, 10**6))


def is_convex(fgraph, members):
    """Brute force: no path leaves ``members`` and comes back into it."""
    stack = [c for n in members for o in n.outputs for c, _ in fgraph.clients.get(o, ())
             if c != "output" and c not in members]
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for o in node.outputs:
            for c, _ in fgraph.clients.get(o, ()):
                if c == "output":
                    continue
                if c in members:
                    return False
                stack.append(c)
    return True


def build(steps, with_grad=False):
    """A random graph over a square matrix: elementwise ops, column sums, transposes,
    reversed views (Subtensor), set_subtensor; optionally with its gradient."""
    x = pt.matrix("x", shape=(3, 3))
    mats, rows = [x], []
    for kind, a, b in steps:
        u, v = mats[a % len(mats)], mats[b % len(mats)]
        if kind == "exp":
            mats.append(pt.exp(u * 0.1))
        elif kind == "sin":
            mats.append(pt.sin(u))
        elif kind == "neg":
            mats.append(-u)
        elif kind == "add":
            mats.append(u + v)
        elif kind == "mul":
            mats.append(u * v)
        elif kind == "sum":
            rows.append(u.sum(axis=0, keepdims=True))
        elif kind == "T":
            mats.append(u.T)
        elif kind == "rev":
            mats.append(u[::-1])
        elif kind == "rev_cols":
            mats.append(u[:, ::-1] * v)
        elif kind == "set_rev":
            mats.append(pt.set_subtensor(u[::-1][:1], v[:1]) + 1)
        elif rows:
            mats.append(u + pt.cos(rows[b % len(rows)]))
    outputs = mats[-2:] + rows[-1:] if len(mats) > 1 else mats + rows[-1:]
    if with_grad:
        cost = sum((o * (k + 1.0)).sum() for k, o in enumerate(outputs))
        outputs = outputs + [grad(cost, x)]
    return x, outputs


@given(st.lists(STEP, min_size=2, max_size=25))
def test_groups_match_brute_force_and_fused_graph_is_correct(steps):
    x, outputs = build(steps)
    fg = FunctionGraph([x], outputs)
    expected, order, position = reference_groups(fg)
    got = fusion._greedy_groups(fg, order, position)
    assert [set(g) for g in got] == [set(g) for g in expected]

    xv = np.linspace(-1, 1, 9).reshape(3, 3)
    before = evaluate(list(fg.outputs), {fg.inputs[0]: xv})
    rewrite_fgraph(fg, include=("fusion",))
    fg.check_integrity()  # toposort raises on a cycle
    after = evaluate(list(fg.outputs), {fg.inputs[0]: xv})
    for b, a in zip(before, after):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@settings(max_examples=60)
@given(st.lists(STEP, min_size=2, max_size=20), st.booleans(), st.sampled_from([None, (3, 2), (5, 3)]))
def test_views_and_gradients_fuse_into_convex_groups(steps, with_grad, bounds):
    # Views and the IncSubtensors of their gradients are the outside nodes through
    # which a merged group could feed itself (issue 21's cycle).  The whole
    # rewrite pipeline runs first, as in compilation.  ``bounds`` shrinks the
    # kernel bounds (nodes, inputs) so groups get cut into runs and sums split.
    with patch.object(fusion, "MAX_FUSED_NODES", bounds[0] if bounds else fusion.MAX_FUSED_NODES), \
            patch.object(fusion, "MAX_INPUTS", bounds[1] if bounds else fusion.MAX_INPUTS):
        check_views_and_gradients(steps, with_grad)


def check_views_and_gradients(steps, with_grad):
    x, outputs = build(steps, with_grad)
    fg = FunctionGraph([x], outputs)
    xv = np.linspace(-1, 1, 9).reshape(3, 3)
    before = evaluate(list(fg.outputs), {fg.inputs[0]: xv})
    rewrite_fgraph(fg, include=("canonicalize", "stabilize", "specialize"))
    expected, order, position = reference_groups(fg)
    got = fusion._greedy_groups(fg, order, position)
    assert [set(g) for g in got] == [set(g) for g in expected]
    for members in fusion._find_groups(fg):
        assert is_convex(fg, set(members))
        assert len(members) <= fusion.MAX_FUSED_NODES
    rewrite_fgraph(fg, include=("fusion",))
    fg.check_integrity()  # toposort raises on a cycle
    for node in fg.apply_nodes:
        if isinstance(getattr(node.op, "scalar_op", None), Composite):
            assert len(node.inputs) <= fusion.MAX_INPUTS
    after = evaluate(list(fg.outputs), {fg.inputs[0]: xv})
    for b, a in zip(before, after):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_a_wide_sum_becomes_bounded_kernels():
    # Issue 21: pt.add of 500 terms was one Elemwise of 500 inputs, and fused into
    # one loop body of 1000 operations (numba compile time grows faster than its size).
    x = pt.vector("x")
    n = 500
    y = pt.add(*[pt.exp(x * (k / n)) for k in range(n)])
    fg = FunctionGraph([x], [y])
    rewrite_fgraph(fg, include=("fusion",))
    comps = [nd for nd in fg.apply_nodes if isinstance(nd.op.scalar_op, Composite)]
    # Few loops (1017 nodes in runs of 256: four), each of bounded size.
    assert len(fg.apply_nodes) <= (2 * n + n // fusion.MAX_INPUTS + 1) // fusion.MAX_FUSED_NODES + 2
    assert all(len(nd.op.scalar_op.nodes) <= fusion.MAX_FUSED_NODES for nd in comps)
    assert all(len(nd.inputs) <= fusion.MAX_INPUTS for nd in fg.apply_nodes)
    xv = np.linspace(-1, 1, 4)
    (got,) = evaluate(list(fg.outputs), {fg.inputs[0]: xv})
    np.testing.assert_allclose(got, sum(np.exp(xv * (k / n)) for k in range(n)))


def test_merged_singletons_do_not_wrap_around_a_fused_group():
    # Issue 21: x + 1 feeds both the fused product and (through the gradient's
    # IncSubtensor) the group consuming that product; merging the two groups
    # made a group feeding itself, and compilation failed with "the graph
    # contains a cycle".
    import opgraph
    from opgraph.kernel_core.compile.mode import Mode

    x = pt.vector("x")
    y = (x + 1) * x[::-1] + 1 / (x * x + 1)
    outs = [y, grad(y.sum(), x)]
    fg = FunctionGraph([x], outs)
    rewrite_fgraph(fg, include=("canonicalize", "stabilize", "specialize"))
    for members in fusion._find_groups(fg):
        assert is_convex(fg, set(members))
    f = opgraph.function([x], outs, mode=Mode(linker="py", optimizer="fast_run"))
    xv = np.array([0.5, -1.0, 2.0])
    yv, gv = f(xv)
    np.testing.assert_allclose(yv, (xv + 1) * xv[::-1] + 1 / (xv * xv + 1))
    expected_g = xv[::-1] + ((xv + 1))[::-1] - 2 * xv / (xv * xv + 1) ** 2
    np.testing.assert_allclose(gv, expected_g)


def test_mutually_dependent_groups_are_not_both_fused():
    # A = {exp, add, log} feeds B through a Sum; B = {sin, mul, cos} feeds A.
    # Each group is convex, but fusing both would make A and B need each other.
    m, r = pt.matrix("m"), pt.row("r")
    a1 = pt.exp(m)
    b2 = pt.sin(r)
    s = a1.sum(axis=0, keepdims=True)
    b1 = pt.cos(b2 * s)
    a2 = pt.log(a1 + b2)
    fg = FunctionGraph([m, r], [a2, b1])
    mv, rv = np.arange(6.0).reshape(2, 3) / 10, np.array([[0.1, 0.2, 0.3]])
    before = evaluate(list(fg.outputs), dict(zip(fg.inputs, [mv, rv])))
    groups = fusion._find_groups(fg)
    assert len(groups) == 1
    rewrite_fgraph(fg, include=("fusion",))
    fg.check_integrity()
    after = evaluate(list(fg.outputs), dict(zip(fg.inputs, [mv, rv])))
    for b, a in zip(before, after):
        np.testing.assert_allclose(a, b)

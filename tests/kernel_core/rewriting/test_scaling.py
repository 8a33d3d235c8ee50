"""Rewriting cost grows linearly with graph size (issue 3, "Cost").

No wall-clock thresholds: the driver and fusion count their work (node visits,
rule attempts, cycle-check steps) and the counts for a 4x larger graph must
stay under 6x those of the smaller one.
"""

import pytest

import opgraph.tensor as pt
from opgraph.graph import rewrite_graph
from opgraph.graph.rewriting import RewriteHistory
from opgraph.kernel_core.gradient import grad
from opgraph.kernel_core.graph.traversal import io_toposort
from opgraph.kernel_core.rewriting import driver, fusion
from opgraph.kernel_core.scalar.composite import Composite


def fuseable(n):
    # Benchmark W6: a sum of n fuseable factors, with its gradient.
    x = pt.vector("x")
    factors = [pt.exp(-x / (i + 1)) * (x - i) ** 2 for i in range(n)]
    cost = pt.add(*factors).sum()
    return [cost, grad(cost, x)]


def layers(n):
    # Benchmark W6: n layers of sin(y.T) + cos(y).
    y = pt.matrix("x")
    for _ in range(n):
        y = pt.sin(y.T) + pt.cos(y)
    return [y]


def times_one(n):
    # One constant with n clients (was quadratic through list.remove).
    y = pt.vector("x")
    for _ in range(n):
        y = y * 1.0
    return [y]


def side_sums(n):
    # Every elementwise node also feeds a reduction: each fusion candidate has
    # an outside client to check for cycles.  The total comes first so that the
    # sums sit between the chain's nodes in the toposort.
    x = pt.vector("x")
    y, sums = x, []
    for i in range(n):
        y = pt.exp(y) if i % 2 else pt.sin(y)
        sums.append(y.sum())
    return [pt.add(*sums[:-1]), y]


def python_sum(n):
    # A Python sum() of n terms: a chain of n binary adds (issue 21: add_canonical
    # used to rebuild a growing Add at every level, N^2.6 overall).
    x = pt.vector("x")
    return [sum(pt.exp(x + i) for i in range(n))]


def work(build, n, include=("fast_run",)):
    outputs = build(n)
    size = len(io_toposort([], outputs))
    driver.work_counts.clear()
    fusion.work_counts.clear()
    rewrite_graph(outputs, include=include, exclude=("inplace",))
    counts = {f"driver.{k}": v for k, v in driver.work_counts.items()}
    counts.update({f"fusion.{k}": v for k, v in fusion.work_counts.items()})
    return size, counts


@pytest.mark.parametrize("build", [fuseable, layers, times_one, side_sums, python_sum])
def test_work_grows_linearly_with_graph_size(build):
    size_small, small = work(build, 20)
    size_big, big = work(build, 80)
    assert 3.5 < size_big / size_small < 4.5  # the graphs really grow 4x
    assert small["driver.visits"] > 0
    for key, value in big.items():
        ratio = value / max(small.get(key, 0), 1)
        assert ratio < 6, f"{build.__name__}: {key} grew {ratio:.1f}x ({small.get(key)} -> {value}) for 4x nodes"


def test_python_sum_is_flattened_in_one_step():
    # The canonicalizer alone: the work of flattening (terms looked at) and of
    # the driver grows like the number of terms, and one Add of all n terms results.
    size_small, small = work(python_sum, 100, include=("canonicalize",))
    size_big, big = work(python_sum, 400, include=("canonicalize",))
    assert small["driver.flatten_steps"] >= 100
    for key in ("driver.flatten_steps", "driver.visits", "driver.attempts", "driver.applied"):
        ratio = big[key] / small[key]
        assert ratio < 6, f"python_sum: {key} grew {ratio:.1f}x ({small[key]} -> {big[key]}) for 4x terms"
    history = RewriteHistory()
    total = rewrite_graph(python_sum(400)[0], include=("canonicalize",), history=history)
    assert len(total.owner.inputs) == 400
    flattened = [r for r in history.records if r.rule == "add_canonical"]
    # The root takes in the whole chain in one step (it used to fire 399 times);
    # the other firing is the first term's own x + 0 -> x.
    assert len(flattened) == 2


def test_product_chain_is_flattened_in_one_step():
    x = pt.vector("x")
    y = pt.exp(x)
    for i in range(1, 300):
        y = y * pt.exp(x + i)
    history = RewriteHistory()
    total = rewrite_graph(y, include=("canonicalize",), history=history)
    assert len(total.owner.inputs) == 300
    assert [r.rule for r in history.records].count("mul_canonical") == 1


def test_fusion_cycle_checks_are_exercised():
    # The side-sum graph queries the ancestor search for every candidate.
    _, counts = work(side_sums, 40)
    assert counts["fusion.cycle_steps"] >= 40
    out = rewrite_graph(side_sums(40), include=("fast_run",), exclude=("inplace",))
    # the chain still fuses (the sums read the Composite's extra outputs)
    assert isinstance(out[1].owner.op.scalar_op, Composite)


def test_hundred_thousand_node_graph_rewrites_iteratively():
    x = pt.vector("x")
    y = x
    n = 100_000
    for i in range(n):
        y = pt.sin(y) if i % 2 else pt.cos(y)
    out = rewrite_graph(y, include=("fast_run",), exclude=("inplace",))
    # Everything fuses: a chain of Composites of bounded size (fusion.MAX_FUSED_NODES)
    # leading back to x.
    from opgraph.kernel_core.rewriting.fusion import MAX_FUSED_NODES

    kernels, var = 0, out
    while var is not x:
        assert isinstance(var.owner.op.scalar_op, Composite)
        assert len(var.owner.op.scalar_op.nodes) <= MAX_FUSED_NODES
        kernels += 1
        (var,) = var.owner.inputs
    assert kernels <= 2 * n // MAX_FUSED_NODES

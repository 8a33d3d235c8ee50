"""Fusion: elementwise subgraphs become Elemwise(Composite) nodes (evaluated with the Python VM)."""

import numpy as np

import opgraph.tensor as pt
from opgraph.kernel_core.graph.fgraph import FunctionGraph
from opgraph.kernel_core.rewriting.api import rewrite_fgraph
from opgraph.kernel_core.scalar.composite import Composite
from opgraph.kernel_core.tensor.elemwise import Elemwise


def fuse(outputs, inputs):
    fg = FunctionGraph(inputs, outputs)
    rewrite_fgraph(fg, include=("fusion",))
    return fg


def composites(fg):
    return [n for n in fg.apply_nodes if isinstance(n.op, Elemwise) and isinstance(n.op.scalar_op, Composite)]


def run(fg, values):
    from opgraph.kernel_core.evaluate import evaluate

    return evaluate(list(fg.outputs), dict(zip(fg.inputs, values)))


def test_chain_fuses_into_one_composite():
    x = pt.vector("x")
    fg = fuse([pt.exp(pt.sin(x))], [x])
    (node,) = fg.apply_nodes
    assert str(node.op) == "Composite{exp(sin(i0))}"
    xv = np.linspace(-1, 1, 5)
    np.testing.assert_allclose(run(fg, [xv])[0], np.exp(np.sin(xv)))


def test_single_elementwise_node_is_left_alone():
    x = pt.vector("x")
    fg = fuse([pt.cos(x)], [x])
    (node,) = fg.apply_nodes
    assert str(node.op) == "Cos"


def test_shared_intermediate_becomes_extra_output():
    x, y = pt.vector("x"), pt.vector("y")
    s = pt.exp(x + y)
    total = s.sum()
    out = s * 2 - x
    fg = fuse([out, total], [x, y])
    (comp,) = composites(fg)
    assert len(comp.outputs) == 2
    assert str(comp.op) == "Composite{...}"
    xv, yv = np.array([0.1, 0.2]), np.array([1.0, -1.0])
    r_out, r_total = run(fg, [xv, yv])
    np.testing.assert_allclose(r_out, np.exp(xv + yv) * 2 - xv)
    np.testing.assert_allclose(r_total, np.exp(xv + yv).sum())


def test_no_cycle_through_non_elementwise_node():
    # exp(x) feeds both a Sum and the add that consumes the Sum: fusing exp into
    # the add would need the Sum of its own output.
    x = pt.vector("x")
    e = pt.exp(x)
    out = pt.log(e + e.sum())
    fg = fuse([out], [x])
    fg.check_integrity()
    xv = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(run(fg, [xv])[0], np.log(np.exp(xv) + np.exp(xv).sum()))


def test_size_one_constants_become_inner_scalars():
    x = pt.vector("x")
    fg = fuse([pt.exp(x * 2.0) + 1.0], [x])
    (node,) = fg.apply_nodes
    assert node.inputs == [fg.inputs[0]]
    xv = np.array([0.0, 1.0])
    np.testing.assert_allclose(run(fg, [xv])[0], np.exp(xv * 2) + 1)


def test_different_broadcast_patterns_not_merged():
    x, m = pt.vector("x"), pt.matrix("m")
    out = pt.exp(pt.sin(x))[None, :] + m
    fg = fuse([out], [x, m])
    xv, mv = np.array([0.1, 0.2]), np.ones((3, 2))
    np.testing.assert_allclose(run(fg, [xv, mv])[0], np.exp(np.sin(xv))[None, :] + mv)


def test_fusion_is_registered_under_its_tags():
    from opgraph.kernel_core.rewriting.api import known_tags

    assert {"fusion", "elemwise_fusion"} <= set(known_tags())


def test_value_with_several_users_fuses_into_one_loop():
    """logp = -((x - mu)**2)/2 and its gradient -(x - mu): one Composite, two outputs."""
    import opgraph
    from opgraph.gradient import grad
    from opgraph.graph import rewrite_graph
    from opgraph.kernel_core.graph.traversal import io_toposort

    x, mu = pt.vector("x"), pt.scalar("mu")
    logp = -((x - mu) ** 2) / 2
    g = grad(logp.sum(), x)
    fused = rewrite_graph([logp, g], include=("fast_run",), exclude=("inplace",))
    composites = {n for n in io_toposort([x, mu], fused) if "Composite" in str(n.op)}
    assert len(composites) == 1
    (node,) = composites
    assert len(node.outputs) == 2
    f = opgraph.function([x, mu], fused, mode="PYTHON")
    xv = np.linspace(-2, 2, 7)
    lp, gv = f(xv, 0.5)
    np.testing.assert_allclose(lp, -((xv - 0.5) ** 2) / 2)
    np.testing.assert_allclose(gv, -(xv - 0.5))

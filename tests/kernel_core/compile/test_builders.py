"""OpFromGraph: a user-defined Op made of a graph (PyTensor's compile.builders)."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.compile.builders import OpFromGraph
from opgraph.gradient import grad
from opgraph.graph import rewrite_graph
from opgraph.graph.replace import vectorize_graph
from opgraph.graph.traversal import ancestors
from opgraph.printing import dprint


def _ofg_nodes(outputs):
    return [v.owner for v in ancestors(outputs) if v.owner is not None and isinstance(v.owner.op, OpFromGraph)]


@pytest.fixture
def op():
    x, y = pt.dvector("x"), pt.dvector("y")
    return OpFromGraph([x, y], [x + y * 2.0, pt.exp(x)])


def test_perform_computes_the_inner_graph(op):
    a, b = pt.dvector("a"), pt.dvector("b")
    u, v = op(a, b)
    av, bv = np.array([1.0, 2.0]), np.array([3.0, -4.0])
    np.testing.assert_allclose(u.eval({a: av, b: bv}), av + 2 * bv)
    np.testing.assert_allclose(v.eval({a: av, b: bv}), np.exp(av))


def test_dprint_shows_the_inner_graph():
    x = pt.dvector("x")
    op = OpFromGraph([x], [pt.exp(x) * 2.0], name="Scaled")
    a = pt.dvector("a")
    text = dprint(op(a) + 1.0, file="str")
    assert text == (
        "Add [id A]\n"
        " ├─ Scaled{inline=False} [id B]\n"
        " │  └─ a [id C]\n"
        " └─ ExpandDims{axis=0} [id D]\n"
        "    └─ 1.0 [id E]\n"
        "\n"
        "Inner graphs:\n"
        "\n"
        "Scaled{inline=False} [id B]\n"
        " ← Mul [id F]\n"
        "    ├─ Exp [id G]\n"
        "    │  └─ x [id H]\n"
        "    └─ ExpandDims{axis=0} [id I]\n"
        "       └─ 2.0 [id J]\n"
    )


def test_the_caller_graph_is_copied():
    x = pt.dvector("x")
    y = pt.exp(x)
    op = OpFromGraph([x], [y])
    assert op.inner_inputs[0] is not x and op.inner_outputs[0] is not y
    assert op != OpFromGraph([x], [y])     # equality is identity


def test_gradient_is_an_op_from_graph_and_matches_the_inner_graph(op):
    a, b = pt.dvector("a"), pt.dvector("b")
    u, v = op(a, b)
    cost = (u * v).sum()
    ga, gb = grad(cost, [a, b])
    assert isinstance(ga.owner.op, OpFromGraph) and ga.owner.op is gb.owner.op
    av, bv = np.array([0.5, -1.0]), np.array([2.0, 3.0])
    # d/da sum((a + 2b) e^a) = e^a + (a + 2b) e^a ; d/db = 2 e^a
    np.testing.assert_allclose(ga.eval({a: av, b: bv}), np.exp(av) * (1 + av + 2 * bv))
    np.testing.assert_allclose(gb.eval({a: av, b: bv}), 2 * np.exp(av))
    # The gradient's own gradient works too (second order through two OpFromGraphs).
    (gga,) = grad(ga.sum(), [a])
    np.testing.assert_allclose(gga.eval({a: av, b: bv}), np.exp(av) * (2 + av + 2 * bv))


def test_lop_overrides_callable_and_op_from_graph():
    x = pt.dvector("x")
    calls = []

    def lop(inputs, outputs, output_grads):
        calls.append(len(inputs))
        return [output_grads[0] * 10.0]

    op = OpFromGraph([x], [pt.sin(x)], lop_overrides=lop)
    a = pt.dvector("a")
    (g,) = grad(op(a).sum(), [a])
    np.testing.assert_allclose(g.eval({a: np.zeros(3)}), np.full(3, 10.0))
    assert calls == [1]
    # An OpFromGraph as override takes inputs + outputs + output_grads.
    xi, yo, gy = pt.dvector("xi"), pt.dvector("yo"), pt.dvector("gy")
    override = OpFromGraph([xi, yo, gy], [gy * yo])
    op2 = OpFromGraph([x], [pt.exp(x)], lop_overrides=override)
    (g2,) = grad(op2(a).sum(), [a])
    av = np.array([0.0, 1.0])
    np.testing.assert_allclose(g2.eval({a: av}), np.exp(av))


def test_lop_overrides_per_input_list():
    # PyTensor's documented example: override the gradient of y only.
    x, y, z = pt.dscalar("x"), pt.dscalar("y"), pt.dscalar("z")

    def rescale_dy(inputs, outputs, output_grads):
        _, _, z_ = inputs
        (g,) = output_grads
        return z_ * 2 * g

    op = OpFromGraph([x, y, z], [x + y * z], lop_overrides=[None, rescale_dy, None])
    a, b, c = pt.dscalar("a"), pt.dscalar("b"), pt.dscalar("c")
    ga, gb, gc = grad(op(a, b, c), [a, b, c])
    vals = {a: 1.0, b: 2.0, c: 3.0}
    assert [float(g.eval(vals)) for g in (ga, gb, gc)] == [1.0, 6.0, 2.0]
    with pytest.raises(TypeError, match="one entry per input"):
        OpFromGraph([x, y, z], [x + y * z], lop_overrides=[None, rescale_dy])


def test_infer_shape_needs_no_inner_computation(op):
    a, b = pt.dvector("a"), pt.dvector("b")
    u, v = op(a, b)
    shapes = op.infer_shape(None, u.owner, [(pt.shape_i(a, 0),), (pt.shape_i(b, 0),)])
    assert len(shapes) == 2 and all(len(s) == 1 for s in shapes)
    entries = [s[0] for s in shapes]
    assert not _ofg_nodes(entries)
    assert [int(e.eval({a: np.ones(4), b: np.ones(4)})) for e in entries] == [4, 4]
    # The shape rewrites use it: the length of an output never runs the Op.
    assert not _ofg_nodes([rewrite_graph(u.shape[0], include=("fast_run",))])


def test_vectorize_batches_the_inner_graph(op):
    a, b = pt.dvector("a"), pt.dvector("b")
    u, _ = op(a, b)
    m = pt.dmatrix("m")
    batched = vectorize_graph(u, {a: m})
    assert isinstance(batched.owner.op, OpFromGraph) and batched.type.ndim == 2
    mv, bv = np.arange(6.0).reshape(3, 2), np.array([1.0, -1.0])
    np.testing.assert_allclose(batched.eval({m: mv, b: bv}), mv + 2 * bv)


def test_inline_true_is_replaced_by_its_inner_graph():
    x = pt.dvector("x")
    op = OpFromGraph([x], [pt.log(1 + x)], inline=True)
    a = pt.dvector("a")
    out = rewrite_graph(op(pt.exp(a)), include=("stabilize",))
    assert not _ofg_nodes([out])
    assert str(out.owner.op) == "Softplus"   # the rewrite saw across the boundary
    kept = OpFromGraph([x], [pt.log(1 + x)], inline=False)
    assert _ofg_nodes([rewrite_graph(kept(pt.exp(a)), include=("stabilize",))])


def test_numba_generates_the_inner_graph_into_the_outer_function():
    x, y = pt.dvector("x"), pt.dvector("y")
    op = OpFromGraph([x, y], [x + y * 2.0, pt.exp(x), x, x[::-1]])
    a, b = pt.dvector("a"), pt.dvector("b")
    u, v, w, r = op(a, b)
    f = opgraph.function([a, b], [u * 3.0, v, w, r], mode="NUMBA")
    f.wait_compiled()   # this tests the Numba backend's code, not the Python tier
    av, bv = np.array([1.0, 2.0, 3.0]), np.array([3.0, 4.0, 5.0])
    before = av.copy()
    res = f(av, bv)
    np.testing.assert_allclose(res[0], 3 * (av + 2 * bv))
    np.testing.assert_allclose(res[1], np.exp(av))
    np.testing.assert_allclose(res[2], av)
    np.testing.assert_allclose(res[3], av[::-1])
    assert not np.shares_memory(res[2], av) and not np.shares_memory(res[3], av)
    np.testing.assert_array_equal(av, before)
    source = f.maker.linker.last_source
    graph_fn = source[source.index("def opgraph_graph"):]
    assert "= op_from_graph_" not in graph_fn   # no call: the body is pasted in
    assert "# op_from_graph_" in graph_fn
    # The compiled function (an OpFromGraph, and u * 3 computed in place) pickles.
    import pickle

    again = pickle.loads(pickle.dumps(f))
    np.testing.assert_allclose(again(av, bv)[0], 3 * (av + 2 * bv))
    assert any(getattr(n.op, "inplace_pattern", None) for n in f.maker.fgraph.apply_nodes)


def test_bad_construction_and_calls_are_named():
    x, y = pt.dvector("x"), pt.dvector("y")
    with pytest.raises(ValueError, match="depend on y, which is not among the inputs"):
        OpFromGraph([x], [x + y])
    with pytest.raises(TypeError, match="inputs\\[0\\] must be a Variable"):
        OpFromGraph([1.0], [x])
    op = OpFromGraph([x], [x * 2.0])
    with pytest.raises(TypeError, match="takes 1 inputs, got 2"):
        op(x, y)
    with pytest.raises(TypeError, match="input 0 .* expected Vector\\(float64"):
        op(pt.dmatrix("m"))
    with pytest.raises(TypeError, match="unexpected option"):
        OpFromGraph([x], [x], bogus=1)


def test_numbers_and_arrays_become_constants():
    x = pt.dvector("x")
    op = OpFromGraph([x], [x * 2.0])
    np.testing.assert_allclose(op([1.0, 2.0]).eval(), [2.0, 4.0])


def test_public_paths():
    assert opgraph.OpFromGraph is OpFromGraph
    from opgraph.compile import OpFromGraph as again

    assert again is OpFromGraph


def test_rop_jacobian_and_hessian_through_an_op_from_graph():
    from opgraph.gradient import Rop, hessian, jacobian

    x = pt.dvector("x")
    op = OpFromGraph([x], [pt.exp(x) * x])
    a, v = pt.dvector("a"), pt.dvector("v")
    av, vv = np.array([0.5, 1.0]), np.array([1.0, 2.0])
    d1 = np.exp(av) * (1 + av)          # d/da (a e^a)
    d2 = np.exp(av) * (2 + av)
    np.testing.assert_allclose(Rop(op(a), a, v).eval({a: av, v: vv}), d1 * vv)
    for vectorize in (False, True):     # vectorize=True batches the gradient OpFromGraph
        np.testing.assert_allclose(jacobian(op(a), a, vectorize=vectorize).eval({a: av}), np.diag(d1))
    np.testing.assert_allclose(hessian(op(a).sum(), a).eval({a: av}), np.diag(d2))

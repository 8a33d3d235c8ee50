"""Inplace and the DestroyHandler: outputs reuse buffers only when safe."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.graph.destroyhandler import DestroyHandler
from opgraph.kernel_core.graph.fgraph import FunctionGraph, InconsistencyError
from opgraph.kernel_core.rewriting.api import rewrite_fgraph
from opgraph.kernel_core.tensor.elemwise import Elemwise


def inplace_nodes(fg):
    return [n for n in fg.apply_nodes if getattr(n.op, "destroy_map", None)]


def test_intermediate_buffer_is_reused():
    x = pt.vector("x")
    fg = FunctionGraph([x], [pt.cos(pt.exp(x).sum() * x)])
    rewrite_fgraph(fg, include=("inplace",))
    nodes = inplace_nodes(fg)
    assert nodes and all(isinstance(n.op, Elemwise) for n in nodes)
    assert all(n.inputs[0] not in fg.inputs for n in nodes)


def test_graph_inputs_are_never_destroyed_without_supervisor():
    x = pt.vector("x")
    fg = FunctionGraph([x], [pt.exp(x)])
    rewrite_fgraph(fg, include=("inplace",))
    assert inplace_nodes(fg) == []


def test_value_read_later_is_not_destroyed():
    x = pt.vector("x")
    e = pt.exp(x)
    fg = FunctionGraph([x], [pt.sin(e), e])  # e is an output: must survive
    rewrite_fgraph(fg, include=("inplace",))
    for n in inplace_nodes(fg):
        assert n.inputs[0] is not fg.outputs[1]


def test_destroy_handler_validate_refuses_protected_input():
    x = pt.vector("x")
    fg = FunctionGraph([x], [Elemwise(pt.exp(x).owner.op.scalar_op, {0: 0})(x)], clone=False)
    fg.attach_feature(DestroyHandler())
    with pytest.raises(InconsistencyError):
        fg.validate()


def test_print_destroy_map_shows_pattern():
    x = pt.vector("x")
    f = opgraph.function([x], pt.cos(pt.exp(x).sum()), mode="PYTHON")  # no inplace in PYTHON mode
    assert "d={" not in f.dprint(print_destroy_map=True, file="str")
    fg = FunctionGraph([x], [pt.cos(pt.exp(x).sum())])
    rewrite_fgraph(fg, include=("inplace",))
    assert "d={0: [0]}" in fg.dprint(print_destroy_map=True, file="str")


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_caller_arrays_are_never_modified(mode):
    x, y = pt.vector("x"), pt.vector("y")
    out = [pt.exp(x) * y + 1, (x - y) ** 2, pt.sin(y)]
    f = opgraph.function([x, y], out, mode=mode)
    xv, yv = np.array([0.5, 1.0, 1.5]), np.array([2.0, 3.0, 4.0])
    xc, yc = xv.copy(), yv.copy()
    res = f(xv, yv)
    np.testing.assert_array_equal(xv, xc)
    np.testing.assert_array_equal(yv, yc)
    np.testing.assert_allclose(res[0], np.exp(xc) * yc + 1)
    np.testing.assert_allclose(res[1], (xc - yc) ** 2)


# -- scatters (incsubtensor_inplace) ----------------------------------------------------

@pytest.mark.parametrize("mode", ["FAST_RUN", opgraph.Mode("NUMBA", tiered=False)], ids=["python", "numba"])
def test_scatters_write_into_an_intermediate_they_alone_read(mode):
    x, i = pt.vector("x"), pt.lvector("i")
    grads = pt.inc_subtensor(pt.zeros_like(x)[1:], x[:-1])          # a gradient's scatter
    picked = pt.set_subtensor(pt.exp(x)[i], 1.0)                     # advanced, one index vector
    both = pt.inc_subtensor(pt.exp(x * 2.0)[1:3], 5.0)
    shared = pt.exp(x + 1.0)
    read_twice = pt.set_subtensor(shared[0], 0.0) + shared           # shared is read again: copied
    f = opgraph.function([x, i], [grads, picked, both, read_twice, pt.set_subtensor(x[0], 9.0)], mode=mode)
    names = {str(n.op) for n in f.maker.fgraph.apply_nodes}
    assert {"IncSubtensor{start:}{inplace}", "AdvancedSetSubtensor1{inplace}",
            "IncSubtensor{start:stop}{inplace}"} <= names
    assert "SetSubtensor{i}" in names                              # on shared, and on the input x
    assert "SetSubtensor{i}{inplace}" not in names
    xv, iv = np.arange(4.0), np.array([0, 2])
    x0 = xv.copy()
    got = f(xv, iv)
    e1 = np.exp(x0 + 1.0)
    want = [np.r_[0.0, x0[:-1]], np.where(np.isin(np.arange(4), iv), 1.0, np.exp(x0)),
            np.exp(2 * x0) + np.r_[0, 5, 5, 0], np.r_[0.0, e1[1:]] + e1, np.r_[9.0, x0[1:]]]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    np.testing.assert_array_equal(xv, x0)                              # the caller's array untouched


def test_a_generator_with_an_update_is_advanced_in_place():
    rng = opgraph.shared(np.random.default_rng(0))
    x = pt.random.normal(0, 1, size=3, rng=rng)
    f = opgraph.function([], x, updates={rng: x.owner.outputs[0]}, mode="FAST_RUN")
    [node] = f.maker.fgraph.apply_nodes
    assert node.op.inplace and node.op.destroy_map == {0: [0]}
    want = np.random.default_rng(0).normal(size=6)
    np.testing.assert_allclose(np.concatenate([f(), f()]), want)
    free = pt.random.normal(0, 1, size=3, rng=opgraph.shared(np.random.default_rng(0)))
    [node] = opgraph.function([], free, mode="FAST_RUN").maker.fgraph.apply_nodes
    assert not node.op.inplace                        # no update: the shared generator is kept

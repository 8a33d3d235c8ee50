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

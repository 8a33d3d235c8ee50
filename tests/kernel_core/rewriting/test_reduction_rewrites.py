"""Reductions whose result is known without reducing: sum(fill(x, c)) -> c * size(x)."""

import numpy as np
import pytest

import opgraph.tensor as pt
from opgraph.graph import rewrite_graph
from opgraph.kernel_core.graph.traversal import io_toposort
from opgraph.kernel_core.rewriting.history import RewriteHistory
from opgraph.kernel_core.tensor import math as tm
from opgraph.kernel_core.tensor.reduction import Sum


def rewritten(graph):
    h = RewriteHistory()
    out = rewrite_graph(graph, include=("canonicalize",), history=h)
    return out, "sum_of_fill" in h.rules_applied()


def op_names(var):
    return [str(n.op) for n in io_toposort([], [var])]


def has_op(var, prefix):
    return any(name.startswith(prefix) for name in op_names(var))


@pytest.mark.parametrize("fill_value", [1.0, -2.5])
def test_sum_of_a_constant_fill_is_the_value_times_the_size(fill_value):
    x = pt.matrix("x")
    s = pt.sum(tm.second(x, fill_value))
    out, fired = rewritten(s)
    assert fired
    assert not has_op(out, "Sum") and not has_op(out, "Second")
    xv = np.ones((3, 4))
    np.testing.assert_allclose(out.eval({x: xv}), fill_value * 12)
    assert out.type.dtype == s.type.dtype and out.type.ndim == 0


def test_sum_of_a_fill_by_a_symbolic_scalar_and_an_integer_fill():
    x, c = pt.vector("x"), pt.scalar("c")
    out, fired = rewritten(pt.sum(tm.second(x, c.dimshuffle("x"))))
    assert fired
    assert out.eval({x: np.zeros(5), c: np.array(0.75)}) == pytest.approx(3.75)
    i = pt.vector("i", dtype="int8")
    si = pt.sum(tm.second(i, np.int8(3)))
    out, fired = rewritten(si)
    assert fired and out.type.dtype == si.type.dtype
    assert out.eval({i: np.zeros(100, dtype="int8")}) == 300   # accumulated in the sum's wider dtype


def test_partial_sums_and_non_constant_fills_are_left_alone():
    x, y = pt.matrix("x"), pt.matrix("y")
    partial = pt.sum(tm.second(x, 1.0), axis=0)
    out, fired = rewritten(partial)
    assert not fired and isinstance(out.owner.op, Sum)
    out, fired = rewritten(pt.sum(tm.second(x, y)))
    assert not fired


def test_gradient_of_a_sum_through_a_subtraction_has_no_fill_left():
    # d/dmu sum(x - mu) = -n: the pullback of the sum is a fill that the rule removes.
    x, mu = pt.vector("x"), pt.scalar("mu")
    from opgraph.gradient import grad

    g = grad(pt.sum(x - mu), mu)
    out = rewrite_graph(g, include=("fast_run",), exclude=("inplace",))
    assert not has_op(out, "Sum") and not has_op(out, "Second")
    assert out.eval({x: np.zeros(7)}) == -7.0

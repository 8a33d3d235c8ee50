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


# -- reductions over length-1 axes, reductions of reductions, of make_vector ----------------

def _canonical(graph):
    h = RewriteHistory()
    return rewrite_graph(graph, include=("canonicalize",), history=h), set(h.rules_applied())


def _reductions(var):
    return [name for name in op_names(var) if name.split("{")[0] in ("Sum", "Prod", "Max", "Min", "All", "Any")]


X3 = np.random.default_rng(5).normal(size=(3, 1, 4))


@pytest.mark.parametrize("reduce, axis, dtype", [
    (pt.sum, 1, "float64"), (pt.prod, 1, "float64"), (pt.max, (0, 1), "float64"), (pt.min, 1, "float64"),
    (pt.all, 1, "float64"), (pt.any, (1, 2), "float64"), (pt.sum, 1, "int8"), (pt.sum, None, "float64"),
])
def test_a_reduction_drops_its_length_one_axes(reduce, axis, dtype):
    x = pt.tensor("x", dtype=dtype, shape=(3, 1, 4))
    r = reduce(x, axis=axis)
    out, rules = _canonical(r)
    assert "local_reduce_broadcastable" in rules
    xv = X3.astype(dtype) if dtype != "int8" else (X3 * 10).astype("int8")
    np_axis = axis if axis is not None else None
    want = {pt.sum: np.sum, pt.prod: np.prod, pt.max: np.max, pt.min: np.min,
            pt.all: np.all, pt.any: np.any}[reduce](xv, axis=np_axis)
    got = out.eval({x: xv})
    assert got.dtype == r.type.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want)
    if axis == 1:                          # only the length-1 axis was reduced: nothing left to reduce
        assert _reductions(out) == []


def test_a_reduction_of_a_0d_value_is_the_value():
    a = pt.dscalar("a")
    out, rules = _canonical(pt.sum(a) + pt.max(a * 2.0))
    assert "local_reduce_broadcastable" in rules and _reductions(out) == []
    assert out.eval({a: 1.5}) == 4.5
    assert _canonical(pt.all(a))[0].eval({a: 0.0}).dtype == np.bool_


def test_reductions_of_reductions_merge_into_one():
    x = pt.tensor("x", shape=(3, None, 4))
    r = pt.all(pt.all(x > 0, axis=2), axis=0)
    out, rules = _canonical(r)
    assert "local_reduce_of_reduce" in rules and _reductions(out) == ["All{axes=[0, 2]}"]
    xv = np.random.default_rng(1).normal(size=(3, 5, 4)) + 1.5
    np.testing.assert_array_equal(out.eval({x: xv}), (xv > 0).all(2).all(0))
    s = pt.sum(pt.max(x, axis=1))          # different reductions: both kept
    assert len(_reductions(_canonical(s)[0])) == 2


def test_a_reduction_read_twice_is_not_merged_and_int_sums_keep_their_accumulator():
    x = pt.tensor("x", shape=(3, None, 4))
    inner = pt.sum(x, axis=0)
    both = pt.sum(inner) + inner.sum(axis=0).sum()
    assert "local_reduce_of_reduce" not in _canonical(pt.sum(inner) * inner[0, 0])[1]
    i8 = pt.tensor("i8", dtype="int8", shape=(3, None))
    s = pt.sum(pt.sum(i8, axis=0))         # int8 -> int64 inside: merging would change nothing,
    out, rules = _canonical(s)             # but the rule only merges same-dtype chains
    assert "local_reduce_of_reduce" not in rules
    iv = np.full((3, 100), 100, dtype="int8")
    assert out.eval({i8: iv}) == 30000
    xv = np.random.default_rng(2).normal(size=(3, 2, 4))
    np.testing.assert_allclose(_canonical(both)[0].eval({x: xv}), 2 * xv.sum())


@pytest.mark.parametrize("reduce, fold", [(pt.sum, np.sum), (pt.prod, np.prod), (pt.max, np.max),
                                          (pt.min, np.min)])
def test_a_reduction_of_make_vector_is_an_elementwise_fold(reduce, fold):
    a, b, c = pt.dscalar("a"), pt.dscalar("b"), pt.dscalar("c")
    r = reduce(pt.stack([a, b, c]))
    out, rules = _canonical(r)
    assert "local_reduce_make_vector" in rules
    assert not has_op(out, "MakeVector") and _reductions(out) == []
    vals = {a: 1.5, b: -2.0, c: 4.0}
    np.testing.assert_allclose(out.eval(vals), fold([1.5, -2.0, 4.0]))


def test_all_of_make_vector_of_conditions_is_an_and():
    a, b = pt.dscalar("a"), pt.dscalar("b")
    r = pt.all(pt.stack([a > 0, b < 1]))
    out, rules = _canonical(r)
    assert "local_reduce_make_vector" in rules and not has_op(out, "MakeVector")
    for av, bv in [(1.0, 0.0), (-1.0, 0.0), (1.0, 2.0)]:
        assert bool(out.eval({a: av, b: bv})) == (av > 0 and bv < 1)
    # A sum of booleans counts them in int64: a cast first, so the vector stays.
    s = pt.sum(pt.stack([a > 0, b < 1]))
    assert "local_reduce_make_vector" not in _canonical(s)[1]

"""The Python VM linker: order, storage, freeing, orderings from features."""

import numpy as np
import pytest

import opgraph.tensor as pt
from opgraph.kernel_core.compile.vm import VMLinker, schedule
from opgraph.kernel_core.graph.fgraph import Feature, FunctionGraph


def _fg(outputs, inputs):
    return FunctionGraph(inputs, outputs, clone=True)


def test_thunk_maps_inputs_to_outputs():
    x, y = pt.vector("x"), pt.vector("y")
    fg = _fg([x + y, x * y], [x, y])
    thunk = VMLinker().make_thunk(fg)
    a, b = thunk([np.array([1.0, 2.0]), np.array([3.0, 4.0])])
    np.testing.assert_allclose(a, [4.0, 6.0])
    np.testing.assert_allclose(b, [3.0, 8.0])
    with pytest.raises(TypeError, match="2 input values"):
        thunk([np.ones(1)])


def test_intermediates_are_freed_and_outputs_released():
    x = pt.vector("x")
    y = pt.exp(x)
    z = pt.sin(y)
    fg = _fg([z * 2], [x])
    thunk = VMLinker().make_thunk(fg)
    out = thunk([np.array([1.0])])
    np.testing.assert_allclose(out[0], np.sin(np.exp([1.0])) * 2)
    # No cell keeps a value after the call: nothing aliases returned outputs.
    for node, _, in_cells, out_cells, _, _ in thunk.steps:
        assert all(c[0] is None for c in out_cells)
    assert all(c[0] is None for c in thunk.input_cells)


def test_allow_gc_false_keeps_intermediates():
    x = pt.vector("x")
    fg = _fg([pt.sin(pt.exp(x)) * 2], [x])
    thunk = VMLinker(allow_gc=False).make_thunk(fg)
    thunk([np.array([1.0])])
    kept = [c[0] for _, _, _, out_cells, _, _ in thunk.steps[:-1] for c in out_cells]
    assert all(v is not None for v in kept)


def test_constant_outputs_and_input_outputs():
    x = pt.vector("x")
    c = pt.as_tensor_variable(np.array([7.0]))
    fg = FunctionGraph([x], [x, c], clone=False)
    thunk = VMLinker().make_thunk(fg)
    a = np.array([1.0])
    r = thunk([a])
    assert r[0] is a
    np.testing.assert_allclose(r[1], [7.0])


def test_schedule_honours_feature_orderings():
    x = pt.vector("x")
    a, b = pt.exp(x), pt.sin(x)
    fg = _fg([a + b], [x])
    order = fg.toposort()
    first, second = order[0], order[1]

    class Reverse(Feature):
        def orderings(self, fgraph):
            return {first: [second]}

    fg.attach_feature(Reverse())
    sched = schedule(fg)
    assert sched.index(second) < sched.index(first)
    assert sched[-1] is order[-1]


def test_schedule_detects_cycles():
    x = pt.vector("x")
    y = pt.exp(x)
    fg = _fg([pt.sin(y)], [x])
    n0, n1 = fg.toposort()

    class Cycle(Feature):
        def orderings(self, fgraph):
            return {n0: [n1]}

    fg.attach_feature(Cycle())
    with pytest.raises(ValueError, match="cycle"):
        schedule(fg)


def test_large_chain_runs_without_recursion():
    x = pt.dscalar("x")
    y = x
    for _ in range(3000):
        y = y + 1.0
    fg = _fg([y], [x])
    thunk = VMLinker().make_thunk(fg)
    assert float(thunk([np.array(0.0)])[0]) == 3000.0

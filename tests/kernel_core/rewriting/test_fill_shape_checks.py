"""Removing a fill keeps the shape comparison it made (issue 21).

``grad((a * b).sum(), a)`` is ``Second(a * b, 1) * b``; canonicalization reduces it
to ``b``.  Only dims statically 1 broadcast, so ``a * b`` rejects ``a`` of shape
(1, 4) with ``b`` of shape (3, 1) -- and the reduced gradient must reject them
too instead of returning ``b``.
"""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad
from opgraph.graph import rewrite_graph
from opgraph.kernel_core.graph.traversal import ancestors
from opgraph.kernel_core.tensor.shape import ShapeAgreement

MODES = ["PYTHON", "NUMBA"]


def _agreements(var):
    return [v.owner for v in ancestors([var]) if v.owner is not None and isinstance(v.owner.op, ShapeAgreement)]


@pytest.mark.parametrize("mode", MODES)
def test_gradient_alone_rejects_what_the_forward_rejects(mode):
    a, b, c = pt.matrix("a"), pt.matrix("b"), pt.matrix("c")
    cost = (a * b).sum()
    three = (a * b * c).sum()
    f = opgraph.function([a, b, c], [grad(cost, a), grad(three, b)], mode=mode)
    ones, twos, threes = np.ones((3, 4)), np.full((3, 4), 2.0), np.full((3, 4), 3.0)
    ga, gb = f(ones, twos, threes)
    np.testing.assert_allclose(ga, twos)
    np.testing.assert_allclose(gb, ones * threes)
    with pytest.raises(ValueError, match=r"input (a|0 \(a).* along axis 0 .*run-time broadcasting"):
        f(np.ones((1, 4)), np.arange(3.0).reshape(3, 1), np.ones((1, 4)))
    with pytest.raises(ValueError, match="run-time broadcasting"):
        f(np.ones((3, 4)), np.ones((3, 4)), np.ones((3, 1)))  # only c disagrees


def test_rewrite_keeps_one_check_per_input_not_computed_from():
    a, b = pt.matrix("a"), pt.matrix("b")
    g = rewrite_graph(grad((a * b).sum(), a))
    (check,) = _agreements(g)
    assert check.inputs[0] is b and check.op.dims == (0, 1)
    assert all(e.owner.inputs[0] is a for e in check.inputs[1:])
    assert check.op.sources == ("input a", "input a")


def test_no_check_when_shapes_are_known_or_already_compared():
    x = pt.vector("x")
    # One input: nothing to compare.
    assert _agreements(rewrite_graph(grad(pt.exp(x).sum(), x))) == []
    # Static shapes: the type check at build time suffices.
    a, b = pt.tensor(shape=(3, 4), name="a"), pt.tensor(shape=(3, 4), name="b")
    assert _agreements(rewrite_graph(grad((a * b).sum(), a))) == []
    # Static length-1 dims broadcast: no run-time comparison along them.
    r, m = pt.tensor(shape=(1, None), name="r"), pt.matrix("m")
    (check,) = _agreements(rewrite_graph(grad((r * m).sum(), r)))
    assert check.inputs[0] is m and check.op.dims == (1,)


@pytest.mark.parametrize("mode", MODES)
def test_static_broadcast_gradient_still_reduced(mode):
    r, m = pt.tensor(shape=(1, None), name="r"), pt.matrix("m")
    cost = (r * m).sum()
    f = opgraph.function([r, m], [grad(cost, r), grad(cost, m)], mode=mode)
    gr, gm = f(np.ones((1, 4)), np.arange(12.0).reshape(3, 4))
    np.testing.assert_allclose(gr, np.arange(12.0).reshape(3, 4).sum(0, keepdims=True))
    np.testing.assert_allclose(gm, np.ones((3, 4)))
    with pytest.raises(ValueError, match="run-time broadcasting"):
        f(np.ones((1, 4)), np.ones((3, 1)))


def test_check_sits_on_an_input_so_the_tree_still_fuses():
    a, b = pt.vector("a"), pt.vector("b")
    g = rewrite_graph(grad((pt.exp(b) * a).sum(), a))  # exp(b), which never saw a
    (check,) = _agreements(g)
    assert check.inputs[0] is b and check.inputs[1].owner.inputs[0] is a
    assert g.owner.inputs == [check.outputs[0]]  # exp reads the checked b

"""Gradient regressions of issues 21, 12 and 22: run-time broadcasting, repeated
set indices, ties, and the grad / verify_grad parameters.  Each NUMBA case is
compiled once with several outputs (compilation is the slow part)."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad, verify_grad

MODES = ["PYTHON", "NUMBA"]


# -- issue 21: run-time broadcasting is rejected, never a wrong gradient ----------
@pytest.mark.parametrize("mode", MODES)
def test_runtime_broadcast_of_unknown_dim_raises_in_both_modes(mode):
    x, y = pt.vector("x"), pt.vector("y")
    a, b = pt.matrix("a"), pt.matrix("b")
    cost = (x + y).sum() + (a * b).sum()
    f = opgraph.function([x, y, a, b], [cost, grad(cost, x), grad(cost, a)], mode=mode)
    full = f(np.ones(5), np.arange(5.0), np.ones((3, 4)), np.full((3, 4), 2.0))
    np.testing.assert_allclose(full[1], np.ones(5))
    np.testing.assert_allclose(full[2], np.full((3, 4), 2.0))
    with pytest.raises(ValueError, match=r"input 0 .*run-time length 1 along axis 0"):
        f(np.ones(1), np.arange(5.0), np.ones((3, 4)), np.ones((3, 4)))
    with pytest.raises(ValueError, match="run-time length 1"):
        f(np.ones(5), np.arange(5.0), np.ones((1, 4)), np.ones((3, 1)))


@pytest.mark.parametrize("mode", MODES)
def test_static_broadcast_gradient_sums_over_broadcast_axes(mode):
    # Declared length-1 dims broadcast, and their gradients are summed back.
    x = pt.tensor("x", shape=(1,))
    y = pt.vector("y")
    a, b = pt.tensor("a", shape=(1, None)), pt.tensor("b", shape=(None, 1))
    cost = (x + y).sum() + (a * b).sum()
    f = opgraph.function([x, y, a, b], [grad(cost, x), grad(cost, a), grad(cost, b)], mode=mode)
    av, bv = np.arange(4.0)[None, :], np.arange(1.0, 4.0)[:, None]
    gx, ga, gb = f(np.ones(1), np.arange(5.0), av, bv)
    np.testing.assert_allclose(gx, [5.0])
    np.testing.assert_allclose(ga, np.full((1, 4), 6.0))
    np.testing.assert_allclose(gb, np.full((3, 1), 6.0))


# -- issue 21: set_subtensor with repeated indices: the last write wins -------------
@pytest.mark.parametrize("mode", MODES)
def test_set_subtensor_repeated_indices_gradient_is_last_write_wins(mode):
    x, v2, v3 = pt.vector("x"), pt.vector("v2"), pt.vector("v3")
    m, w, s = pt.matrix("m"), pt.matrix("w"), pt.scalar("s")
    i = pt.lvector("i")
    weights = pt.arange(5.0)
    outs = [
        grad(pt.set_subtensor(x[[0, 0]], v2)[0], v2),                         # the example
        grad((pt.set_subtensor(x[i], v3) * weights).sum(), v3),                # symbolic index
        grad((pt.set_subtensor(m[[0, 1, 0], [1, 1, 1]], v3) ** 2).sum(), v3),  # AdvancedSetSubtensor
        grad((pt.set_subtensor(x[[1, 1, 2]], s) * weights).sum(), s),          # broadcast value
        grad((pt.set_subtensor(m[[0, 0, 1]], w) * pt.arange(3.0)).sum(), w),  # rows
        grad((pt.set_subtensor(x[[2, 0, 4]], v3) * weights).sum(), v3),        # no repeat
        grad((pt.set_subtensor(x[[1, 1]], v2) * weights).sum(), x),            # x: zero where set
    ]
    f = opgraph.function([x, v2, v3, m, w, s, i], outs, mode=mode)
    r = f(np.zeros(5), np.ones(2), np.array([1.0, 2.0, 3.0]), np.zeros((2, 3)), np.ones((3, 3)), 2.0,
          np.array([1, 3, 1]))
    np.testing.assert_array_equal(r[0], [0.0, 1.0])
    np.testing.assert_array_equal(r[1], [0.0, 3.0, 1.0])
    np.testing.assert_array_equal(r[2], [0.0, 4.0, 6.0])
    np.testing.assert_array_equal(r[3], 3.0)
    np.testing.assert_array_equal(r[4], [[0.0, 0.0, 0.0], [0.0, 1.0, 2.0], [0.0, 1.0, 2.0]])
    np.testing.assert_array_equal(r[5], [2.0, 0.0, 4.0])
    np.testing.assert_array_equal(r[6], [0.0, 0.0, 2.0, 3.0, 4.0])


def test_set_subtensor_repeated_indices_matches_finite_differences():
    idx = np.array([2, 0, 2, 2])
    verify_grad(lambda x, v: pt.set_subtensor(x[idx], v) ** 2, [np.arange(1.0, 4.0), np.arange(1.0, 5.0)])
    rows, cols = np.array([0, 1, 0]), np.array([1, 1, 1])
    verify_grad(lambda m, v: pt.exp(pt.set_subtensor(m[rows, cols], v)), [np.ones((2, 3)), np.array([0.1, 0.2, 0.3])])


def test_unique_constant_index_adds_no_mask():
    x, v = pt.vector("x"), pt.vector("v")
    g = grad((pt.set_subtensor(x[[2, 0]], v) * 2.0).sum(), v)
    from opgraph.kernel_core.graph.traversal import ancestors

    names = {str(a.owner.op) for a in ancestors([g]) if a.owner is not None}
    assert "Eq" not in names and "Switch" not in names


# -- issue 12: ties split evenly -------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_ties_share_the_gradient(mode):
    a, b, m = pt.vector("a"), pt.vector("b"), pt.matrix("m")
    outs = [grad(pt.maximum(a, a).sum(), a), grad(pt.minimum(a, a).sum(), a),
            grad(pt.maximum(a, b).sum(), a), grad(pt.minimum(a, b).sum(), b),
            grad(m.max(axis=1).sum(), m), grad(m.min(), m), grad(pt.max(m, axis=0).sum(), m)]
    f = opgraph.function([a, b, m], outs, mode=mode)
    av, bv = np.array([1.0, 2.0, np.nan]), np.array([1.0, 3.0, 0.0])
    mv = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    r = f(av, bv, mv)
    np.testing.assert_array_equal(r[0], [1.0, 1.0, 0.0])  # NaN: no gradient
    np.testing.assert_array_equal(r[1], [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(r[2], [0.5, 0.0, 0.0])
    np.testing.assert_array_equal(r[3], [0.5, 0.0, 0.0])
    np.testing.assert_allclose(r[4], [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_array_equal(r[5], [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(r[6], [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])


def test_ties_of_two_match_central_differences():
    # At a tie of two, the central difference of max is 1/2 per argument: the even split.
    verify_grad(lambda a, b: pt.maximum(a, b), [np.array([1.0, 2.0]), np.array([1.0, 0.5])])
    verify_grad(lambda a, b: pt.minimum(a, b), [np.array([1.0, 2.0]), np.array([1.0, 0.5])])
    verify_grad(lambda a: pt.maximum(a, a) + pt.minimum(a, a), [np.array([1.0, -2.0])])
    verify_grad(lambda m: m.max(axis=1), [np.array([[1.0, 3.0, 3.0], [2.0, 5.0, 2.0]])])
    verify_grad(lambda m: m.min(axis=0), [np.array([[1.0, 3.0], [1.0, 2.0]])])

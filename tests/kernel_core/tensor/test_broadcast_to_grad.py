"""broadcast_to's pullback sums over the axes broadcast at run time (issue 21).

``broadcast_to(x, shape)`` with an ``x`` dim of unknown static length that is 1
at run time follows NumPy: it broadcasts.  Before, the gradient kept the
broadcast shape ((3, 4) for an x of shape (1, 1)); now it is summed back to
x's shape, in both modes.  The property draws the run-time shapes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import opgraph
import opgraph.tensor as pt

MODES = ["PYTHON", "NUMBA"]
_COMPILED = {}


def grad_function(mode, nd, lead):
    """grad of sum(broadcast_to(x, shape) * c) w.r.t. x, x of rank nd with unknown
    lengths, the shape given at run time with ``lead`` extra leading axes."""
    key = (mode, nd, lead)
    if key not in _COMPILED:
        x = pt.tensor("x", dtype="float64", shape=(None,) * nd)
        c = pt.tensor("c", dtype="float64", shape=(None,) * (nd + lead))
        lengths = [pt.lscalar(f"n{d}") for d in range(nd + lead)]
        cost = (pt.broadcast_to(x, lengths) * c).sum()
        _COMPILED[key] = opgraph.function([x, c, *lengths], opgraph.grad(cost, x), mode=mode)
    return _COMPILED[key]


def expected(xshape, c):
    lead = c.ndim - len(xshape)
    g = c.sum(axis=tuple(range(lead))) if lead else c
    axes = tuple(d for d, s in enumerate(xshape) if s == 1 and g.shape[d] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


@pytest.mark.parametrize("mode", MODES)
def test_issue_case_sums_the_runtime_broadcast_axes(mode):
    f = grad_function(mode, 2, 0)
    c = np.arange(12.0).reshape(3, 4)
    for xshape in [(1, 1), (3, 1), (1, 4), (3, 4)]:
        got = f(np.ones(xshape), c, 3, 4)
        assert got.shape == xshape
        np.testing.assert_allclose(got, expected(xshape, c))
    # Empty output axes: the gradient is zeros of x's shape.
    np.testing.assert_array_equal(f(np.ones((1, 1)), np.zeros((3, 0)), 3, 0), np.zeros((1, 1)))
    np.testing.assert_array_equal(f(np.ones((3, 0)), np.zeros((3, 0)), 3, 0), np.zeros((3, 0)))


@pytest.mark.parametrize("mode", MODES)
def test_static_shapes_unchanged(mode):
    # Static length-1 axes were already summed; no reshape appears for known shapes.
    x = pt.tensor("x", dtype="float64", shape=(1, 4))
    g = opgraph.grad(pt.broadcast_to(x, (3, 4)).sum(), x)
    assert g.type.shape == (1, 4)
    np.testing.assert_array_equal(opgraph.function([x], g, mode=mode)(np.ones((1, 4))), np.full((1, 4), 3.0))


@pytest.mark.parametrize("mode", MODES)
@given(data=st.data(), nd=st.integers(1, 2), lead=st.integers(0, 1))
def test_property_broadcast_to_gradient_matches_numpy(data, mode, nd, lead):
    out_shape = tuple(data.draw(st.integers(0, 3)) for _ in range(nd + lead))
    xshape = tuple(1 if data.draw(st.booleans()) else out_shape[lead + d] for d in range(nd))
    c = np.asarray(data.draw(st.lists(st.integers(-5, 5), min_size=int(np.prod(out_shape)),
                                      max_size=int(np.prod(out_shape)))), dtype=float).reshape(out_shape)
    got = grad_function(mode, nd, lead)(np.ones(xshape), c, *out_shape)
    assert got.shape == xshape
    np.testing.assert_allclose(got, expected(xshape, c))

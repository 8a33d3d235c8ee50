"""``inc_subtensor(a[idx], y, ignore_duplicates=True)`` is NumPy's ``a[idx] += y``
for every advanced index, not only a vector one (issue 22): repeated positions are
written once (the last repeat wins), in value and in both gradients, checked
against NumPy and central finite differences."""

import warnings

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad


def _finite_differences(fun, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        g[i] = (fun(up) - fun(down)) / (2 * eps)
    return g


def _check(f, index, weights, a_value, y_value, index_value=None):
    def numpy_cost(a, y):
        r = a.copy()
        r[index] += y
        return (r * weights).sum()

    args = (a_value, y_value) if index_value is None else (a_value, y_value, index_value)
    out, ga, gy = f(*args)
    expected = a_value.copy()
    expected[index] += y_value
    np.testing.assert_allclose(out, expected)
    np.testing.assert_allclose(ga, _finite_differences(lambda a: numpy_cost(a, y_value), a_value), atol=1e-6)
    np.testing.assert_allclose(gy, _finite_differences(lambda y: numpy_cost(a_value, y), y_value), atol=1e-6)


def _random_index(rng, shape):
    """Index arrays (with repeats and negative aliases) and slices mixed."""
    index_shape = tuple(rng.integers(1, 4, size=rng.integers(1, 3)))
    while True:
        index = tuple(rng.integers(-n, n, size=index_shape) if rng.random() < 0.6
                      else slice(1, None) if rng.random() < 0.5 else slice(None) for n in shape)
        if any(isinstance(e, np.ndarray) for e in index):
            return index


@pytest.mark.parametrize("seed", range(12))
def test_random_advanced_indices_match_numpy_and_finite_differences(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(2, 4, size=rng.integers(1, 4)))
    index = _random_index(rng, shape)
    selected = np.zeros(shape)[index].shape
    y_shape = selected[rng.integers(0, len(selected) + 1):]  # y may broadcast
    a = pt.tensor(shape=(None,) * len(shape), name="a")
    y = pt.tensor(shape=(None,) * len(y_shape), name="y")
    weights = rng.normal(size=shape)
    cost = (pt.inc_subtensor(a[index], y, ignore_duplicates=True) * weights).sum()
    out = pt.inc_subtensor(a[index], y, ignore_duplicates=True)
    f = opgraph.function([a, y], [out, grad(cost, a), grad(cost, y)], mode="PYTHON")
    _check(f, index, weights, rng.normal(size=shape), rng.normal(size=y_shape))


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_symbolic_matrix_index_with_repeats(mode):
    # A symbolic matrix index: its selection's shape is only known at run time.
    # Compiling it used to cycle two shape rules 15,000 times (Shape_i(x) <-> Shape(x)[i]).
    a, y = pt.matrix("a"), pt.tensor(shape=(None, None, None), name="y")
    i = pt.tensor(dtype="int64", shape=(None, None), name="i")
    weights = np.arange(12.0).reshape(3, 4)
    out = pt.inc_subtensor(a[i], y, ignore_duplicates=True)
    cost = (out * weights).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = opgraph.function([a, y, i], [out, grad(cost, a), grad(cost, y)], mode=mode)
    rng = np.random.default_rng(3)
    index = np.array([[0, -3], [1, 0]])  # row 0 three times (once as -3)
    _check(f, (index,), weights, rng.normal(size=(3, 4)), rng.normal(size=(2, 2, 4)), index)

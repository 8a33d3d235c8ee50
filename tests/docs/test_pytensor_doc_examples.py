"""PyTensor's own tutorial examples ("Baby steps - Algebra", "More examples", "Derivatives"),
run with ``pytensor`` replaced by ``opgraph``, checked against the outputs PyTensor's
documentation prints.  Mode PYTHON keeps them cheap; the Numba backend is tested elsewhere."""

import numpy as np

import opgraph
import opgraph.tensor as pt
from opgraph import function, shared
from opgraph.compile.io import In
from opgraph.printing import pp

MODE = "PYTHON"


def test_adding_two_scalars_and_pp():
    x = pt.dscalar("x")
    y = pt.dscalar("y")
    z = x + y
    f = function([x, y], z, mode=MODE)
    assert f(2, 3) == 5.0
    np.testing.assert_allclose(f(16.3, 12.1), 28.4)
    np.testing.assert_allclose(z.eval({x: 16.3, y: 12.1}), 28.4)
    assert pp(z) == "(x + y)"


def test_pp_of_a_raw_gradient():
    x = pt.dscalar("x")
    gy = opgraph.grad(x ** 2, x)
    assert pp(gy) == "((fill((x ** 2), 1.0) * 2) * (x ** (2 - 1)))"
    assert opgraph.pp is pp


def test_logistic_two_ways_and_multiple_outputs():
    x = pt.dmatrix("x")
    s = 1 / (1 + pt.exp(-x))
    s2 = (1 + pt.tanh(x / 2)) / 2
    want = [[0.5, 0.73105858], [0.26894142, 0.11920292]]
    np.testing.assert_allclose(function([x], s, mode=MODE)([[0, 1], [-1, -2]]), want, rtol=1e-7)
    np.testing.assert_allclose(function([x], s2, mode=MODE)([[0, 1], [-1, -2]]), want, rtol=1e-7)
    a, b = pt.dmatrices("a", "b")
    diff = a - b
    f = function([a, b], [diff, abs(diff), diff ** 2], mode=MODE)
    d, ad, d2 = f([[1, 1], [1, 1]], [[0, 1], [2, 3]])
    np.testing.assert_array_equal(d, [[1, 0], [-1, -2]])
    np.testing.assert_array_equal(ad, [[1, 0], [1, 2]])
    np.testing.assert_array_equal(d2, [[1, 0], [1, 4]])


def test_default_values_and_names():
    x, y, w = pt.dscalars("x", "y", "w")
    z = (x + y) * w
    f = function([x, In(y, value=1), In(w, value=2, name="w_by_name")], z, mode=MODE)
    assert [f(33), f(33, 2), f(33, 0, 1), f(33, w_by_name=1), f(33, w_by_name=1, y=0)] == [68, 70, 33, 34, 33]


def test_shared_state_updates_givens_and_copy():
    state = shared(0)
    inc = pt.iscalar("inc")
    accumulator = function([inc], state, updates=[(state, state + inc)], mode=MODE)
    assert state.get_value() == 0
    assert accumulator(1) == 0 and state.get_value() == 1
    assert accumulator(300) == 1 and state.get_value() == 301
    state.set_value(-1)
    assert accumulator(3) == -1 and state.get_value() == 2
    decrementor = function([inc], state, updates=[(state, state - inc)], mode=MODE)
    assert decrementor(2) == 2 and state.get_value() == 0
    foo = pt.scalar(dtype=state.dtype)
    skip_shared = function([inc, foo], state * 2 + inc, givens=[(state, foo)], mode=MODE)
    assert skip_shared(1, 3) == 7 and state.get_value() == 0
    new_state = shared(0)
    new_accumulator = accumulator.copy(swap={state: new_state})
    assert new_accumulator(100) == 0 and new_state.get_value() == 100 and state.get_value() == 0
    null_accumulator = accumulator.copy(delete_updates=True)
    assert null_accumulator(9000) == 0 and state.get_value() == 0


def test_derivatives_jacobian_hessian_rop_lop():
    x = pt.dscalar("x")
    f = function([x], opgraph.grad(x ** 2, x), mode=MODE)
    assert f(4) == 8.0
    np.testing.assert_allclose(f(94.2), 188.4)
    m = pt.dmatrix("x")
    gs = opgraph.grad(pt.sum(1 / (1 + pt.exp(-m))), m)
    np.testing.assert_allclose(function([m], gs, mode=MODE)([[0, 1], [-1, -2]]),
                               [[0.25, 0.19661193], [0.19661193, 0.10499359]], rtol=1e-7)
    v = pt.dvector("x")
    J = opgraph.gradient.jacobian(v ** 2, v)
    np.testing.assert_array_equal(function([v], J, mode=MODE)([4, 4]), [[8, 0], [0, 8]])
    H = opgraph.gradient.hessian(pt.sum(v ** 2), v)
    np.testing.assert_array_equal(function([v], H, mode=MODE)([4, 4]), [[2, 0], [0, 2]])
    W, V = pt.dmatrices("W", "V")
    y = pt.dot(v, W)
    JV = opgraph.gradient.Rop(y, W, V)
    got = function([W, V, v], JV, mode=MODE, on_unused_input="ignore")([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1])
    np.testing.assert_array_equal(got, [2, 2])
    u = pt.dvector("v")
    VJ = opgraph.gradient.Lop(y, W, u)
    np.testing.assert_array_equal(function([u, v], VJ, mode=MODE)([2, 2], [0, 1]), [[0, 0], [2, 2]])

"""ifelse: lazy in both modes, gradient routed to the chosen branch, shapes, dprint, errors.

One compiled function per mode holds most outputs (numba compile cost)."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad, verify_grad
from opgraph.ifelse import IfElse, ifelse
from opgraph.kernel_core.runtime_errors import NodeRuntimeError

MODES = ["PYTHON", "NUMBA"]


@pytest.mark.parametrize("mode", MODES)
def test_only_the_chosen_branch_runs(mode):
    """The then-branch indexes out of bounds: it must not run when the condition is false."""
    c = pt.scalar("c")
    x = pt.vector("x")
    i = pt.lscalar("i")
    y = ifelse(c > 0, x[i] * 2, x.sum())
    f = opgraph.function([c, x, i], y, mode=mode)
    f.wait_compiled()   # mode NUMBA: the Numba tier, not the Python tier that serves first calls
    xv = np.arange(3.0)
    assert f(-1.0, xv, 10) == 3.0           # x[10] never evaluated
    assert f(1.0, xv, 2) == 4.0
    with pytest.raises(NodeRuntimeError):
        f(1.0, xv, 10)
    if mode == "NUMBA":   # compiled as an if/else in the graph module, no objmode fallback
        assert "def ifelse_" in f.maker.thunk.source and "objmode" not in f.maker.thunk.source


@pytest.mark.parametrize("mode", MODES)
def test_several_outputs_both_branches_and_gradient(mode):
    c = pt.scalar("c")
    x = pt.vector("x")
    y = pt.vector("y")
    a, b = ifelse(c > 0, [pt.exp(x), (x * y).sum()], [y * 3, pt.sum(y ** 2)])
    cost = a.sum() + b
    gx, gy = grad(cost, [x, y])
    f = opgraph.function([c, x, y], [a, b, gx, gy], mode=mode)
    f.wait_compiled()   # mode NUMBA: the Numba tier, not the Python tier that serves first calls
    xv, yv = np.array([0.1, 0.2]), np.array([1.0, -2.0])
    ra, rb, rgx, rgy = f(1.0, xv, yv)
    np.testing.assert_allclose(ra, np.exp(xv))
    np.testing.assert_allclose(rb, (xv * yv).sum())
    np.testing.assert_allclose(rgx, np.exp(xv) + yv)
    np.testing.assert_allclose(rgy, xv)
    ra, rb, rgx, rgy = f(-1.0, xv, yv)
    np.testing.assert_allclose(ra, yv * 3)
    np.testing.assert_allclose(rb, (yv ** 2).sum())
    np.testing.assert_allclose(rgx, 0 * xv)
    np.testing.assert_allclose(rgy, 3 + 2 * yv)
    # The gradient is itself an ifelse (routed to the chosen branch).
    assert any(isinstance(n.op, IfElse) for n in f.maker.fgraph.apply_nodes)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cond", [1.0, -1.0])
def test_verify_grad(mode, cond):
    verify_grad(lambda x, y: ifelse(pt.constant(cond) * x.sum() > -100, pt.tanh(x) * y, x * y ** 2),
                [np.array([0.3, -0.4]), np.array([1.5, 0.7])], mode=mode, rng=np.random.default_rng(1))


def test_common_parts_stay_outside_and_constant_condition_folds():
    x = pt.vector("x")
    c = pt.scalar("c")
    shared_part = pt.exp(x)
    y = ifelse(c > 0, shared_part + 1, shared_part * 2)
    node = y.owner
    # exp(x) is needed by both branches: an input of the node, not inside it.
    assert shared_part in node.inputs
    inner_ops = {type(n.owner.op).__name__ for n in node.op.then_outputs + node.op.else_outputs if n.owner}
    assert "Elemwise" in inner_ops
    f = opgraph.function([x], ifelse(pt.constant(1.0) > 0, x + 1, x * 2), mode="PYTHON")
    assert not any(isinstance(n.op, IfElse) for n in f.maker.fgraph.apply_nodes)
    np.testing.assert_allclose(f(np.array([1.0, 2.0])), [2.0, 3.0])


def test_shape_and_dprint():
    c = pt.scalar("c")
    x = pt.vector("x")
    y = pt.vector("y")
    z = ifelse(c > 0, x * 2, y[:2])
    np.testing.assert_array_equal(z.shape.eval({c: 1.0, x: np.ones(5), y: np.ones(4)}), [5])
    np.testing.assert_array_equal(z.shape.eval({c: -1.0, x: np.ones(5), y: np.ones(4)}), [2])
    text = opgraph.dprint(z, file="str")
    assert "Inner graphs:" in text and "if{}" in text


def test_bad_input_errors():
    c = pt.scalar("c")
    x = pt.vector("x")
    m = pt.matrix("m")
    with pytest.raises(TypeError, match="output 0 .*Vector.*Matrix"):
        ifelse(c > 0, x, m)
    with pytest.raises(ValueError, match="then-branch has 2"):
        ifelse(c > 0, [x, x], [x])
    with pytest.raises(TypeError, match="condition must be a scalar"):
        ifelse(x, x, x)
    iv = pt.lvector("iv")
    with pytest.raises(TypeError, match="cast one of them"):
        ifelse(c > 0, x, iv)
    # A number in one branch takes the other's dtype.
    assert ifelse(c > 0, x.sum(), 0).type.dtype == "float64"


def test_vectorize_with_batched_condition_is_a_switch():
    c = pt.scalar("c")
    x = pt.vector("x")
    y = ifelse(c > 0, x * 2, x - 1)
    cb = pt.vector("cb")
    xb = pt.matrix("xb")
    out = opgraph.vectorize_graph(y, {c: cb, x: xb})
    got = out.eval({cb: np.array([1.0, -1.0]), xb: np.ones((2, 3))})
    np.testing.assert_allclose(got, [[2, 2, 2], [0, 0, 0]])
    out2 = opgraph.vectorize_graph(y, {x: xb})
    assert isinstance(out2.owner.op, IfElse)
    np.testing.assert_allclose(out2.eval({c: -1.0, xb: np.ones((2, 3))}), np.zeros((2, 3)))

"""PyTensor's gradient API (issues 12 and 22): null_gradients, verify_grad's parameters,
pullback / pushforward, tuple structure, gradient markers, hessian_vector_product,
integer inputs, log1mexp at 0, custom Ops written with pullback / L_op / grad, and
vectorize rules that must not fail silently."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import (
    DisconnectedInputError, DisconnectedType, GradientError, Lop, NullTypeGradError, Rop, disconnected_grad, grad,
    grad_clip, grad_not_implemented, grad_scale, grad_undefined, hessian, hessian_vector_product, jacobian,
    pullback, pushforward, verify_grad, zero_grad,
)
from opgraph.graph import Apply, Op


# -- custom Ops, written PyTensor's three ways ------------------------------------------
class _Cube(Op):
    """x ** 3 in perform; subclasses define the gradient under one of PyTensor's names."""

    __props__ = ()

    def make_node(self, x):
        x = pt.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] ** 3


class CubePullback(_Cube):
    def pullback(self, inputs, outputs, output_grads):
        return [3 * inputs[0] ** 2 * output_grads[0]]


class CubeLop(_Cube):
    def L_op(self, inputs, outputs, output_grads):
        return [3 * inputs[0] ** 2 * output_grads[0]]


class CubeGrad(_Cube):
    def grad(self, inputs, output_grads):
        return [3 * inputs[0] ** 2 * output_grads[0]]


class StepWithUndefinedGrad(_Cube):
    def pullback(self, inputs, outputs, output_grads):
        return [grad_undefined(self, 0, inputs[0], "a step function")]


class NotImplementedGrad(_Cube):
    def grad(self, inputs, output_grads):
        return [grad_not_implemented(self, 0, inputs[0])]


class DisconnectedByType(_Cube):
    def L_op(self, inputs, outputs, output_grads):
        return [DisconnectedType()()]


@pytest.mark.parametrize("op_class", [CubePullback, CubeLop, CubeGrad])
def test_custom_op_gradient_under_each_name(op_class):
    x = pt.dvector("x")
    g = grad(op_class()(x).sum(), x)
    np.testing.assert_allclose(g.eval({x: np.array([1.0, -2.0])}), [3.0, 12.0])
    verify_grad(lambda a: op_class()(a), [np.array([0.5, 1.5])])


def test_op_docstring_lists_the_three_gradient_names():
    doc = Op.__module__ and __import__(Op.__module__, fromlist=["x"]).__doc__
    assert "pullback(inputs, outputs, output_grads)" in doc and "grad(inputs, output_grads)" in doc
    assert "L_op" in doc


def test_op_without_gradient_names_the_three_methods():
    x = pt.dvector("x")
    with pytest.raises(NotImplementedError, match="pullback, L_op or grad"):
        grad(_Cube()(x).sum(), x)


# -- null_gradients ----------------------------------------------------------------------------
@pytest.mark.parametrize("op_class", [StepWithUndefinedGrad, NotImplementedGrad])
def test_null_gradients_raise_or_return_zero(op_class):
    x, y = pt.dvector("x"), pt.dvector("y")
    cost = (op_class()(x) * 2).sum() + (y ** 2).sum()
    with pytest.raises(NullTypeGradError, match=r"input 0 .*(undefined|not implemented)"):
        grad(cost, x)
    gx, gy = grad(cost, [x, y], null_gradients="return_zero")
    vals = {x: np.array([1.0, 2.0]), y: np.array([3.0, 4.0])}
    np.testing.assert_array_equal(gx.eval(vals), [0.0, 0.0])
    np.testing.assert_array_equal(gy.eval(vals), [6.0, 8.0])  # other gradients are unaffected
    gy_only = grad(cost, y)  # an undefined gradient nobody asks for does not raise
    np.testing.assert_array_equal(gy_only.eval(vals), [6.0, 8.0])
    with pytest.raises(ValueError, match="null_gradients"):
        grad(cost, y, null_gradients="zero")


def test_disconnected_type_counts_as_no_gradient():
    # Returned without a connection_pattern it is the same as None: x is reached, its gradient zero.
    x = pt.dvector("x")
    g = grad(DisconnectedByType()(x).sum() + x.sum(), x)
    np.testing.assert_array_equal(g.eval({x: np.array([1.0, 2.0])}), [1.0, 1.0])
    np.testing.assert_array_equal(grad(DisconnectedByType()(x).sum(), x).eval({x: np.array([1.0])}), [0.0])


# -- verify_grad's parameters --------------------------------------------------------------------
def test_verify_grad_checks_numba_compiled_gradients():
    # mode= is honoured: the gradient compiled by NUMBA is the one checked ...
    verify_grad(lambda a, b: pt.exp(a) * b + pt.softplus(a * b), [np.array([0.3, -0.5]), np.array([1.5, 2.0])],
                mode="NUMBA")

    # ... and a wrong gradient there is found.
    class WrongGrad(_Cube):
        def pullback(self, inputs, outputs, output_grads):
            return [2 * inputs[0] * output_grads[0]]

    with pytest.raises(GradientError, match="input 0"):
        verify_grad(lambda a: WrongGrad()(a), [np.array([1.0, 2.0])], mode="PYTHON")


def test_verify_grad_other_parameters():
    with pytest.raises(NotImplementedError, match="DebugMode"):
        verify_grad(pt.exp, [np.array([1.0])], no_debug_ref=False)
    with pytest.raises(ValueError, match="out_type"):
        verify_grad(pt.exp, [np.array([1.0])], out_type="int64")
    with pytest.raises(ValueError, match="n_tests"):
        verify_grad(pt.exp, [np.array([1.0])], n_tests=0)
    # out_type casts the output; tolerances and eps are used (a loose tolerance passes a bad gradient).
    verify_grad(pt.exp, [np.array([0.5, 1.0])], out_type="float32", abs_tol=1e-2, rel_tol=1e-2)
    verify_grad(pt.exp, [np.array([0.5])], cast_to_output_type=True, rng=3, n_tests=3)

    class SlightlyWrong(_Cube):
        def pullback(self, inputs, outputs, output_grads):
            return [3.01 * inputs[0] ** 2 * output_grads[0]]

    with pytest.raises(GradientError):
        verify_grad(lambda a: SlightlyWrong()(a), [np.array([1.0])], abs_tol=1e-4, rel_tol=1e-4)
    verify_grad(lambda a: SlightlyWrong()(a), [np.array([1.0])], abs_tol=0.1, rel_tol=0.1)


# -- pullback / pushforward, structures ------------------------------------------------------------
def test_pullback_and_pushforward_are_vjp_and_jvp():
    x, u, v = pt.dvector("x"), pt.dvector("u"), pt.dvector("v")
    f = pt.exp(x) * x[::-1]
    vals = {x: np.array([0.1, 0.2, 0.3]), u: np.array([1.0, -1.0, 2.0]), v: np.array([0.5, 0.0, 1.0])}
    J = jacobian(f, x).eval({x: vals[x]})
    np.testing.assert_allclose(pullback(f, x, u).eval(vals), vals[u] @ J)
    np.testing.assert_allclose(pushforward(f, x, v).eval(vals), J @ vals[v])
    np.testing.assert_allclose(pullback(f, x, u).eval(vals), Lop(f, x, u).eval(vals))
    np.testing.assert_allclose(pushforward(f, x, v).eval(vals), Rop(f, x, v).eval(vals))


def test_tuples_in_give_tuples_out():
    x, y = pt.dvector("x"), pt.dscalar("y")
    cost = (x ** 2).sum() * y
    for result in (grad(cost, (x, y)), jacobian(x * y, (x, y)), hessian(cost, (x, y)), Lop(x * y, (x, y), x)):
        assert isinstance(result, tuple) and len(result) == 2
    for result in (grad(cost, [x, y]), jacobian(x * y, [x, y]), hessian(cost, [x, y])):
        assert isinstance(result, list)
    (jx,) = jacobian(pt.exp(x), (x,))
    np.testing.assert_allclose(jx.eval({x: np.array([0.0, 1.0])}), np.diag(np.exp([0.0, 1.0])))


def test_jacobian_vectorize_true():
    x = pt.dvector("x")
    xv = np.array([0.5, 1.0, 2.0])
    jv = jacobian(pt.exp(x) * x.sum(), x, vectorize=True)
    jr = jacobian(pt.exp(x) * x.sum(), x, vectorize=False)
    want = np.diag(np.exp(xv)) * xv.sum() + np.exp(xv)[:, None]
    np.testing.assert_allclose(jv.eval({x: xv}), want)
    np.testing.assert_allclose(jr.eval({x: xv}), want)


# -- markers and hessian_vector_product --------------------------------------------------------------
def test_gradient_markers_semantics():
    x = pt.dvector("x")
    xv = np.array([1.0, 2.0])
    np.testing.assert_array_equal(grad((zero_grad(x) * x).sum(), x).eval({x: xv}), xv)   # only the direct path
    np.testing.assert_array_equal(grad(zero_grad(x).sum(), x).eval({x: xv}), [0.0, 0.0])  # connected, zero
    with pytest.raises(DisconnectedInputError):
        grad(disconnected_grad(x).sum(), x)  # disconnected, as in PyTensor
    np.testing.assert_array_equal(grad((disconnected_grad(x) * x).sum(), x).eval({x: xv}), xv)
    np.testing.assert_array_equal(grad((grad_clip(x, -1.0, 1.5) ** 2).sum(), x).eval({x: xv}), [1.5, 1.5])
    np.testing.assert_array_equal(grad(grad_scale(x ** 2, 0.5).sum(), x).eval({x: xv}), xv)
    with pytest.raises(ValueError, match="lower bound"):
        grad_clip(x, 1.0, -1.0)
    assert zero_grad(x).type == x.type and zero_grad(x).owner.op.infer_shape(None, None, [(5,)]) == [(5,)]


def test_gradient_markers_compile_in_numba_and_vectorize():
    from opgraph.graph.replace import vectorize_graph

    x = pt.dvector("x")
    outs = [zero_grad(x) * 2, disconnected_grad(x) + 1, grad_clip(x, -1, 1) - 1, grad_scale(x, 3.0) * x]
    f = opgraph.function([x], outs, mode="NUMBA")
    xv = np.array([1.0, 2.0])
    for got, want in zip(f(xv), [2 * xv, xv + 1, xv - 1, xv * xv]):
        np.testing.assert_array_equal(got, want)
    m = pt.dmatrix("m")
    (batched,) = [vectorize_graph(zero_grad(x) * 2, {x: m})]
    assert type(batched.owner.inputs[0].owner.op).__name__ == "ZeroGrad"


def test_hessian_vector_product():
    x, p = pt.dvector("x"), pt.dvector("p")
    cost = (x ** 3).sum() + x[0] * x[1]
    vals = {x: np.array([1.0, 2.0]), p: np.array([0.5, -1.0])}
    H = hessian(cost, x).eval({x: vals[x]})
    np.testing.assert_allclose(hessian_vector_product(cost, x, p).eval(vals), H @ vals[p])
    (hp,) = hessian_vector_product(cost, (x,), (p,))
    np.testing.assert_allclose(hp.eval(vals), H @ vals[p])


# -- integer inputs, log1mexp -------------------------------------------------------------------
def test_integer_inputs_are_differentiated_as_reals():
    i = pt.lscalar("i")
    g = grad(i, i)
    assert g.type.dtype == "float64" and g.eval({i: 3}) == 1.0
    X, W = pt.lmatrix("X"), pt.dvector("W")
    gX = grad(pt.sigmoid(pt.dot(X, W)).sum(), X)
    Xv, Wv = np.array([[1, 2], [0, -1]]), np.array([0.5, -1.0])
    s = 1 / (1 + np.exp(-(Xv @ Wv)))
    np.testing.assert_allclose(gX.eval({X: Xv, W: Wv}), (s * (1 - s))[:, None] * Wv[None, :])
    # Piecewise-constant ops pass nothing: floor, comparisons.
    assert grad(pt.floor(i * 2.5), i).eval({i: 3}) == 0.0
    assert grad(pt.switch(i > 2, 1.0, 0.0), i, disconnected_inputs="ignore").eval({i: 3}) == 0.0


def test_log1mexp_gradient_at_zero_is_the_limit():
    y = pt.dscalar("y")
    g = grad(pt.log1mexp(y), y)
    assert g.eval({y: 0.0}) == -np.inf and g.eval({y: -0.0}) == -np.inf
    np.testing.assert_allclose(g.eval({y: -1.0}), -np.exp(-1.0) / (1 - np.exp(-1.0)))
    verify_grad(pt.log1mexp, [np.array([-0.5, -3.0, -1e-3])])


# -- vectorize rules registered by name fail loudly --------------------------------------------------
def test_vectorize_rule_with_a_typo_fails_loudly():
    from opgraph.kernel_core.vectorize import _register

    with pytest.raises(AttributeError, match="Elemwis"):
        _register("opgraph.kernel_core.tensor.elemwise:Elemwis")(lambda op, node, *i: None)
    with pytest.raises(ModuleNotFoundError):
        _register("opgraph.kernel_core.tensor.elemwize:Elemwise")(lambda op, node, *i: None)
    with pytest.raises(ValueError, match="module:OpClass"):
        _register("opgraph.kernel_core.tensor.elemwise.Elemwise")

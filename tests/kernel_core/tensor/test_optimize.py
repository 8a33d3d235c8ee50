"""pt.optimize: minimize / minimize_scalar / root / root_scalar as graph nodes solved by
SciPy, their implicit-function gradients (against closed forms and finite differences),
vectorization over parameter batches, NUMBA == PYTHON, and the refusals."""

import functools

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad, verify_grad
from opgraph.graph.replace import graph_replace, vectorize_graph
from opgraph.tensor.optimize import minimize, minimize_scalar, root, root_scalar

# Tight but reachable: SciPy 1.17's BFGS stops at the same point with tol=1e-9 yet reports
# "precision loss" (success False) there.
TIGHT = {"tol": 3e-9}


def py(inputs, outputs):
    return opgraph.function(inputs, outputs, mode="PYTHON")


def at_constant(x0, var, value):
    """The graph ``var`` with the initial guess ``x0`` fixed (verify_grad varies only the params)."""
    return graph_replace(var, {x0: pt.constant(np.asarray(value, dtype=x0.type.dtype))}, strict=False)


# -- minimize -------------------------------------------------------------------
def quadratic(A, b):
    """0.5 x'Ax - b'x + 0.1 sum(x^4): the minimiser solves Ax + 0.4 x^3 = b."""
    x = pt.vector("x", shape=(3,))
    return x, 0.5 * pt.dot(x, pt.dot(A, x)) - pt.dot(b, x) + 0.1 * (x ** 4).sum()


A_VAL = np.array([[3.0, 0.5, 0.1], [0.5, 2.0, 0.3], [0.1, 0.3, 1.5]])
B_VAL = np.array([1.0, -0.5, 2.0])


def test_minimize_solution_and_implicit_gradient_match_the_closed_form():
    A, b = pt.matrix("A"), pt.vector("b")
    x, f = quadratic(A, b)
    x_star, success = minimize(f, x, optimizer_kwargs=TIGHT)
    assert x_star.type == x.type and success.type.dtype == "bool" and success.type.ndim == 0
    dsum_db = grad(x_star.sum(), b)
    fn = py([x, A, b], [x_star, success, dsum_db, grad(x_star.sum(), x)])
    xs, ok, g, g_x0 = fn(np.zeros(3), A_VAL, B_VAL)
    assert ok
    np.testing.assert_allclose(A_VAL @ xs + 0.4 * xs ** 3, B_VAL, atol=1e-8)
    # d x*/d b = H^{-1}, H = A + diag(1.2 x^2): d sum(x*)/db = H^{-T} 1.
    H = A_VAL + np.diag(1.2 * xs ** 2)
    np.testing.assert_allclose(g, np.linalg.solve(H.T, np.ones(3)), rtol=1e-6)
    np.testing.assert_array_equal(g_x0, np.zeros(3))   # the initial guess does not move the solution


def test_minimize_gradient_passes_verify_grad():
    x = pt.vector("x", shape=(3,))

    def fun(A, b):
        f = 0.5 * pt.dot(x, pt.dot(A, x)) - pt.dot(b, x) + 0.1 * (x ** 4).sum()
        # trust-exact (Newton steps with the Hessian) converges to machine precision,
        # so the finite differences see the solution, not the solver's tolerance.
        x_star, _ = minimize(f, x, method="trust-exact", hess=True)
        return at_constant(x, x_star, np.zeros(3))

    verify_grad(fun, [A_VAL, B_VAL], eps=1e-5, abs_tol=1e-5, rel_tol=1e-4)


@pytest.mark.parametrize("method, hess", [("Nelder-Mead", False), ("trust-exact", True), ("newton-cg", True),
                                          ("L-BFGS-B", False)])
def test_minimize_methods(method, hess):
    a = pt.vector("a")
    x = pt.vector("x")
    f = ((x - a) ** 2).sum() + 0.5 * (x ** 2).sum()
    kwargs = {"options": {"xatol": 1e-10, "fatol": 1e-14}} if method == "Nelder-Mead" else TIGHT
    x_star, ok = minimize(f, x, method=method, hess=hess, optimizer_kwargs=kwargs)
    xs, success = py([x, a], [x_star, ok])(np.zeros(2), np.array([3.0, -1.5]))
    assert success
    np.testing.assert_allclose(xs, np.array([2.0, -1.0]), atol=1e-6)


# -- minimize_scalar -----------------------------------------------------------
@pytest.mark.parametrize("method, kwargs", [("brent", {}), ("golden", {}), ("bounded", {"bounds": (-5.0, 5.0)})])
def test_minimize_scalar_and_its_gradient(method, kwargs):
    x, a = pt.scalar("x"), pt.scalar("a")
    # minimum of cosh(x - a) + x^2/2: sinh(x - a) + x = 0, dx/da = cosh / (cosh + 1).
    f = pt.cosh(x - a) + 0.5 * x ** 2
    x_star, ok = minimize_scalar(f, x, method=method, optimizer_kwargs={"tol": 1e-10, **kwargs}
                                 if method != "bounded" else {"options": {"xatol": 1e-10}, **kwargs})
    xs, success, g = py([x, a], [x_star, ok, grad(x_star, a)])(0.0, 1.0)
    assert success
    np.testing.assert_allclose(np.sinh(xs - 1.0) + xs, 0.0, atol=1e-7)
    c = np.cosh(xs - 1.0)
    np.testing.assert_allclose(g, c / (c + 1.0), rtol=1e-5)


# -- root ---------------------------------------------------------------------
def test_root_solution_gradient_and_verify_grad():
    v = pt.vector("v", shape=(2,))

    def equations(p):
        return pt.stack([v[0] ** 3 + v[1] - p[0], v[1] + pt.sin(v[0]) - p[1]])

    p = pt.vector("p")
    sol, ok = root(equations(p), v)
    xs, success, jac = py([v, p], [sol, ok, opgraph.gradient.jacobian(sol, p)])(np.ones(2), np.array([2.0, 1.0]))
    assert success
    np.testing.assert_allclose([xs[0] ** 3 + xs[1], xs[1] + np.sin(xs[0])], [2.0, 1.0], atol=1e-10)
    Jx = np.array([[3 * xs[0] ** 2, 1.0], [np.cos(xs[0]), 1.0]])
    np.testing.assert_allclose(jac, np.linalg.inv(Jx), rtol=1e-6)   # -Jx^{-1} J_p with J_p = -I

    def fun(p):
        s, _ = root(equations(p), v, optimizer_kwargs={"tol": 1e-13})
        return at_constant(v, s, np.ones(2))

    verify_grad(fun, [np.array([2.0, 1.0])], eps=1e-6, abs_tol=1e-6, rel_tol=1e-5)


@pytest.mark.parametrize("method, jac", [("hybr", False), ("lm", True), ("broyden1", True), ("df-sane", False)])
def test_root_methods(method, jac):
    x, c = pt.vector("x"), pt.vector("c")
    sol, ok = root(x ** 3 + x - c, x, method=method, jac=jac)
    xs, success = py([x, c], [sol, ok])(np.ones(3), np.array([1.0, 2.0, 10.0]))
    assert success
    np.testing.assert_allclose(xs ** 3 + xs, [1.0, 2.0, 10.0], atol=1e-5)


def test_root_accepts_a_list_of_scalar_equations():
    v, s = pt.vector("v", shape=(2,)), pt.scalar("s")
    sol, ok = root([v[0] + v[1] - s, v[0] - v[1] - 1.0], v)
    np.testing.assert_allclose(py([v, s], sol)(np.zeros(2), 3.0), [2.0, 1.0])


# -- root_scalar ---------------------------------------------------------------
@pytest.mark.parametrize("method, kwargs", [("secant", {}), ("newton", {}), ("halley", {}),
                                            ("brentq", {"bracket": (0.0, 3.0)}), ("bisect", {"bracket": (0.0, 3.0)}),
                                            ("toms748", {"bracket": (0.0, 3.0)})])
def test_root_scalar_methods_and_gradient(method, kwargs):
    x, a = pt.scalar("x"), pt.scalar("a")
    sol, ok = root_scalar(x ** 3 + x - a, x, method=method, optimizer_kwargs={"xtol": 1e-13, **kwargs})
    xs, success, g = py([x, a], [sol, ok, grad(sol, a)])(1.0, 3.0)
    assert success
    np.testing.assert_allclose(xs ** 3 + xs, 3.0, atol=1e-9)
    np.testing.assert_allclose(g, 1.0 / (3 * xs ** 2 + 1), rtol=1e-7)


def test_root_scalar_verify_grad_with_two_parameters():
    x = pt.scalar("x")

    def fun(a, b):
        sol, _ = root_scalar(pt.exp(b * x) + x - a, x, method="newton", optimizer_kwargs={"xtol": 1e-14})
        return at_constant(x, sol, 0.0)

    verify_grad(fun, [np.array(3.0), np.array(0.5)], eps=1e-6, abs_tol=1e-6, rel_tol=1e-5)


# -- vectorize, NUMBA, shared variables, printing ---------------------------------
def test_vectorize_over_a_parameter_batch_is_a_loop_of_solves():
    x, a = pt.scalar("x"), pt.scalar("a")
    sol, ok = root_scalar(x ** 3 + x - a, x, method="newton")
    a_batch = pt.vector("a_batch")
    sol_b, ok_b = vectorize_graph([sol, ok], {a: a_batch})
    assert sol_b.type.ndim == 1 and ok_b.type.ndim == 1
    values = np.array([0.5, 2.0, 10.0, 30.0])
    xs, oks = py([x, a_batch], [sol_b, ok_b])(1.0, values)
    single = py([x, a], sol)
    np.testing.assert_array_equal(xs, [single(1.0, v) for v in values])
    assert oks.all()
    # The batched solution is differentiable too (the Blockwise's pullback batches the implicit one).
    g = py([x, a_batch], grad(sol_b.sum(), a_batch))(1.0, values)
    np.testing.assert_allclose(g, 1.0 / (3 * xs ** 2 + 1), rtol=1e-8)


@functools.lru_cache(maxsize=None)
def _numba_and_python():
    """One graph with every solver and gradients, compiled once per mode."""
    x, a = pt.scalar("x"), pt.scalar("a")
    v, p = pt.vector("v", shape=(2,)), pt.vector("p", shape=(2,))
    s1, ok1 = minimize(((v - p) ** 2).sum() + (v ** 4).sum(), v)
    s2, ok2 = root(pt.stack([v[0] ** 3 + v[1] - p[0], v[1] - v[0] - p[1]]), v)
    s3, ok3 = root_scalar(pt.exp(x) - a, x, method="newton")
    s4, ok4 = minimize_scalar((x - a) ** 2 + pt.cos(x), x)
    outs = [s1, ok1, s2, ok2, s3, ok3, s4, ok4, grad(s1.sum() + s2.sum(), p), grad(s3 + s4, a)]
    inputs = [x, a, v, p]
    return (opgraph.function(inputs, outs, mode="NUMBA"), opgraph.function(inputs, outs, mode="PYTHON"))


def test_numba_runs_the_solvers_through_objmode_with_identical_results():
    f_numba, f_python = _numba_and_python()
    args = (0.5, 2.0, np.zeros(2), np.array([1.0, 0.5]))
    for got, want in zip(f_numba(*args), f_python(*args)):
        np.testing.assert_array_equal(got, want)
    assert all(bool(b) for b in f_numba(*args)[1:8:2])


def test_shared_variables_are_args_and_get_gradients():
    a = opgraph.shared(np.array(2.0), name="a")
    x = pt.scalar("x")
    sol, ok = root_scalar(x ** 3 - a, x, method="newton")
    f = py([x], [sol, grad(sol, a)])
    xs, g = f(1.0)
    np.testing.assert_allclose(xs, 2.0 ** (1 / 3))
    np.testing.assert_allclose(g, 1.0 / (3 * xs ** 2))
    a.set_value(np.array(8.0))
    np.testing.assert_allclose(f(1.0)[0], 2.0)


def test_dprint_shows_the_inner_graph():
    x, a = pt.scalar("x"), pt.scalar("a")
    sol, _ = minimize_scalar((x - a) ** 2, x)
    text = sol.dprint(file="str")
    assert "MinimizeScalarOp{method=brent}" in text and "Inner graphs:" in text


def test_public_paths():
    import opgraph.tensor.optimize as public

    assert pt.optimize.minimize is public.minimize is minimize
    assert set(public.__all__) >= {"minimize", "minimize_scalar", "root", "root_scalar"}


# -- refusals ------------------------------------------------------------------
def test_bad_input_errors():
    x, a = pt.vector("x"), pt.scalar("a")
    with pytest.raises(TypeError, match="the objective must be a scalar"):
        minimize(x - a, x)
    with pytest.raises(ValueError, match="must be a root variable of the graph"):
        minimize(((2 * x) ** 2).sum(), 2 * x)
    with pytest.raises(ValueError, match="does not depend on the variable to solve for"):
        minimize(a ** 2, x)
    with pytest.raises(ValueError, match="unknown method 'newton-raphson'"):
        minimize((x ** 2).sum(), x, method="newton-raphson")
    with pytest.raises(ValueError, match="needs the gradient and the Hessian"):
        minimize((x ** 2).sum(), x, method="trust-exact")
    with pytest.raises(TypeError, match="must be a float tensor"):
        root(pt.ivector("k") - 1, pt.ivector("k"))
    s = pt.scalar("s")
    with pytest.raises(ValueError, match="needs optimizer_kwargs=\\{'bracket'"):
        root_scalar(s - a, s, method="brentq")
    with pytest.raises(ValueError, match="'bounded' needs optimizer_kwargs"):
        minimize_scalar((s - a) ** 2, s, method="bounded")
    with pytest.raises(TypeError, match="x must be a scalar"):
        minimize_scalar((x ** 2).sum(), x)
    v = pt.vector("v", shape=(2,))
    with pytest.raises(ValueError, match="3 equations for 2 unknowns"):
        root(pt.stack([v[0], v[1], v[0] + v[1]]), v)

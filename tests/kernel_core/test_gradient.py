"""grad / Lop / Rop / jacobian / hessian / verify_grad, and every op's pullback checked numerically."""

import warnings

import numpy as np
import pytest

import opgraph.tensor as pt
from opgraph.kernel_core.rewriting import api as rewriting
from opgraph.gradient import (
    DisconnectedInputError, GradientError, Lop, Rop, consider_constant, grad, hessian, jacobian, verify_grad,
)
from opgraph.kernel_core.graph.basic import Apply
from opgraph.kernel_core.graph.op import Op

SEED_002_GRAD = """\
True_div [id A]
 ├─ Second [id B]
 │  ├─ Log1p [id C]
 │  │  └─ x [id D]
 │  └─ ExpandDims{axis=0} [id E]
 │     └─ Second [id F]
 │        ├─ Sum{axes=None} [id G]
 │        │  └─ Log1p [id C]
 │        │     └─ ···
 │        └─ 1.0 [id H]
 └─ Add [id I]
    ├─ ExpandDims{axis=0} [id J]
    │  └─ 1 [id K]
    └─ x [id D]
"""


def test_seed_002_raw_gradient_prints_exactly():
    x = pt.tensor("x", shape=(None,))
    stable_y = rewriting.rewrite_graph(pt.log(1 + x), include=("stabilize",))
    assert str(stable_y.owner.op) == "Log1p"
    grad_y = grad(stable_y.sum(), wrt=x)
    assert grad_y.dprint(file="str") == SEED_002_GRAD
    np.testing.assert_allclose(grad_y.eval({x: [0.0, 1.0, 3.0]}), 1 / (1 + np.array([0.0, 1.0, 3.0])))


def test_raw_gradient_direct_log1p_prints_exactly():
    x = pt.tensor("x", shape=(None,))
    assert grad(pt.log1p(x).sum(), wrt=x).dprint(file="str") == SEED_002_GRAD


def test_single_use_adds_no_node_and_multiple_uses_add_once():
    x = pt.vector("x")
    g = grad(pt.exp(x).sum(), x)
    assert g.owner.op.scalar_op.name == "mul"  # no Add of one term
    g2 = grad((x * x).sum(), x)
    assert str(g2.owner.op) == "Add" and len(g2.owner.inputs) == 2
    np.testing.assert_allclose(g2.eval({x: [1.0, -2.0]}), [2.0, -4.0])


def test_grad_list_and_values():
    a, b = pt.dscalar("a"), pt.dvector("b")
    cost = (pt.sin(a) * b ** 2).sum() + a * pt.exp(b).sum()
    ga, gb = grad(cost, [a, b])
    av, bv = 0.7, np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(ga.eval({a: av, b: bv}), np.cos(av) * np.sum(bv ** 2) + np.exp(bv).sum())
    np.testing.assert_allclose(gb.eval({a: av, b: bv}), 2 * np.sin(av) * bv + av * np.exp(bv))
    assert isinstance(grad(cost, [a]), list)


def test_gradient_names_follow_pytensor():
    x = pt.dvector("x")
    cost = (x ** 2).sum()
    cost.name = "c"
    assert grad(cost, x).name == "(dc/dx)"


def test_wrt_intermediate_variable_and_wrt_depending_on_each_other():
    x = pt.dvector("x")
    h = pt.exp(x)
    cost = (h * x).sum()
    gh, gx = grad(cost, [h, x])
    xv = np.array([0.1, 0.4])
    np.testing.assert_allclose(gh.eval({x: xv}), xv)
    np.testing.assert_allclose(gx.eval({x: xv}), np.exp(xv) * xv + np.exp(xv))


def test_cost_must_be_scalar():
    x = pt.dvector("x")
    with pytest.raises(TypeError, match="scalar"):
        grad(x * 2, x)


def test_disconnected_inputs_policies():
    x, y = pt.dvector("x"), pt.dvector("y")
    cost = (x ** 2).sum()
    with pytest.raises(DisconnectedInputError, match="y"):
        grad(cost, [x, y])
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        gx, gy = grad(cost, [x, y], disconnected_inputs="warn")
    assert any("does not depend on y" in str(w.message) for w in rec)
    np.testing.assert_array_equal(gy.eval({y: [1.0, 2.0, 3.0]}), np.zeros(3))
    gx, gy = grad(cost, [x, y], disconnected_inputs="ignore", return_disconnected="None")
    assert gy is None
    with pytest.raises(ValueError, match="disconnected_inputs"):
        grad(cost, x, disconnected_inputs="bogus")


def test_integer_inputs_of_float_computations_get_real_gradients_booleans_zeros():
    # Issue 22, PyTensor's semantics: an integer input of a float computation is
    # differentiated as a real number (float gradient); a condition is piecewise constant.
    x = pt.dvector("x")
    i = pt.lscalar("i")
    b = pt.tensor("b", shape=(None,), dtype="bool")
    cost = (x * i).sum() + pt.switch(b, x, 0.0).sum()
    gi, gb, gx = grad(cost, [i, b, x])
    assert gi.type.dtype == "float64" and gb.type.dtype == "float64"
    vals = {x: [1.0, 2.0], i: 3, b: [True, False]}
    assert gi.eval(vals) == 3.0
    np.testing.assert_array_equal(gb.eval(vals), [0.0, 0.0])
    np.testing.assert_allclose(gx.eval(vals), [4.0, 3.0])


def test_gradient_through_integer_path_is_zero_not_disconnected():
    x = pt.dvector("x")
    cost = pt.cast(pt.floor(x), "int64").sum() * 1.0
    g = grad(cost, x)
    np.testing.assert_array_equal(g.eval({x: [1.5, 2.5]}), [0.0, 0.0])


def test_consider_constant_argument_and_op():
    x = pt.dvector("x")
    y = x ** 2
    cost = (y * x).sum()
    g = grad(cost, x, consider_constant=[y])
    xv = np.array([1.0, 2.0])
    np.testing.assert_allclose(g.eval({x: xv}), xv ** 2)
    g2 = grad((consider_constant(y) * x).sum(), x)
    np.testing.assert_allclose(g2.eval({x: xv}), xv ** 2)
    np.testing.assert_allclose(consider_constant(y).eval({x: xv}), xv ** 2)


def test_known_grads_and_cost_none():
    x = pt.dvector("x")
    h = pt.exp(x)
    g = grad(None, x, known_grads={h: pt.as_tensor(np.array([1.0, 2.0]))})
    xv = np.array([0.0, 1.0])
    np.testing.assert_allclose(g.eval({x: xv}), np.exp(xv) * [1.0, 2.0])
    with pytest.raises(ValueError, match="known_grads"):
        grad(None, x)


def test_lop_and_rop_match_jacobian_products():
    x = pt.dvector("x")
    A = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    f = pt.dot(pt.as_tensor(A), pt.sin(x))
    xv = np.array([0.3, -0.2, 1.1])
    J = A * np.cos(xv)[None, :]
    u = pt.dvector("u")
    v = pt.dvector("v")
    uv, vv = np.array([1.0, -2.0]), np.array([0.5, 0.25, -1.0])
    np.testing.assert_allclose(Lop(f, x, u).eval({x: xv, u: uv}), uv @ J)
    r = Rop(f, x, v)
    np.testing.assert_allclose(r.eval({x: xv, v: vv}), J @ vv)
    assert isinstance(Lop(f, [x], u), list)
    assert isinstance(Rop([f], x, v), list)


def test_rop_disconnected_output():
    x, y = pt.dvector("x"), pt.dvector("y")
    v = pt.dvector("v")
    with pytest.raises(DisconnectedInputError):
        Rop(pt.exp(y), x, v)
    r = Rop(pt.exp(y), x, v, disconnected_outputs="ignore")
    np.testing.assert_array_equal(r.eval({y: [1.0, 2.0]}), [0.0, 0.0])


@pytest.mark.parametrize("static", [True, False])
@pytest.mark.parametrize("vectorize", [True, False])
def test_jacobian_vector(static, vectorize):
    x = pt.tensor("x", shape=(3,) if static else (None,))
    y = pt.exp(x) * x[0]
    J = jacobian(y, x, vectorize=vectorize)
    xv = np.array([0.2, -0.4, 1.0])
    expected = np.diag(np.exp(xv) * xv[0])
    expected[:, 0] += np.exp(xv)
    np.testing.assert_allclose(J.eval({x: xv}), expected)


def test_jacobian_matrix_output_and_list_wrt():
    x = pt.dmatrix("x")
    w = pt.dvector("w")
    y = x * w  # (2, 3)
    Jx, Jw = jacobian(y, [x, w])
    xv, wv = np.arange(6.0).reshape(2, 3), np.array([1.0, 2.0, 3.0])
    jx = Jx.eval({x: xv, w: wv})
    assert jx.shape == (2, 3, 2, 3)
    ex = np.zeros((2, 3, 2, 3))
    for i in range(2):
        for j in range(3):
            ex[i, j, i, j] = wv[j]
    np.testing.assert_allclose(jx, ex)
    jw = Jw.eval({x: xv, w: wv})
    ew = np.zeros((2, 3, 3))
    for i in range(2):
        for j in range(3):
            ew[i, j, j] = xv[i, j]
    np.testing.assert_allclose(jw, ew)


def test_jacobian_of_scalar_is_grad():
    x = pt.dvector("x")
    J = jacobian((x ** 2).sum(), x)
    np.testing.assert_allclose(J.eval({x: [1.0, 2.0]}), [2.0, 4.0])


@pytest.mark.parametrize("vectorize", [True, False])
def test_hessian(vectorize):
    x = pt.tensor("x", shape=(3,))
    cost = (x ** 3).sum() + x[0] * x[1]
    H = hessian(cost, x, vectorize=vectorize)
    xv = np.array([1.0, 2.0, -1.0])
    expected = np.diag(6 * xv)
    expected[0, 1] += 1
    expected[1, 0] += 1
    np.testing.assert_allclose(H.eval({x: xv}), expected)


def test_deep_graph_gradient_is_iterative():
    x = pt.dscalar("x")
    y = x
    for _ in range(3000):
        y = pt.sin(y) + y * 0.5
    g = grad(y, x)
    assert np.isfinite(g.eval({x: 0.1}))


# -- verify_grad itself ----------------------------------------------------------
class _WrongGradSquare(Op):
    """x**2 with a deliberately wrong gradient (3x instead of 2x)."""

    def make_node(self, x):
        x = pt.as_tensor_variable(x)
        return Apply(self, [x], [x.type.make_variable()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] ** 2

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * 3 * inputs[0]]


def test_verify_grad_passes_and_fails_clearly():
    rng = np.random.default_rng(0)
    verify_grad(lambda a: pt.exp(a) * a, [rng.random(4)], rng=rng)
    with pytest.raises(GradientError, match=r"max abs error .* max rel error"):
        verify_grad(lambda a: _WrongGradSquare()(a), [rng.random(3) + 0.5], rng=rng)
    with pytest.raises(TypeError, match="float"):
        verify_grad(lambda a: a * 2, [np.arange(3)])


# -- every differentiable op ---------------------------------------------------------
RNG = np.random.default_rng(1234)

# Pullbacks found broken by these tests, reported to their owners; xfail (not
# strict) so a fix shows up as XPASS.
KNOWN_BROKEN: dict = {}


def _cases(table):
    return [pytest.param(name, marks=pytest.mark.xfail(reason=KNOWN_BROKEN[name], strict=False))
            if name in KNOWN_BROKEN else name for name in sorted(table)]


def _pos(*shape):
    return RNG.random(shape) + 0.5


def _unit(*shape):
    return RNG.uniform(-0.8, 0.8, shape)


def _any(*shape):
    return RNG.normal(size=shape)


UNARY = {
    "neg": _any, "abs": _any, "sqr": _any, "exp": _any, "exp2": _any, "expm1": _any,
    "log": _pos, "log2": _pos, "log10": _pos, "log1p": _pos, "sqrt": _pos, "reciprocal": _pos,
    "sin": _any, "cos": _any, "tan": _unit, "arcsin": _unit, "arccos": _unit, "arctan": _any,
    "sinh": _any, "cosh": _any, "tanh": _any, "arcsinh": _any, "arctanh": _unit,
    "sigmoid": _any, "softplus": _any, "erf": _any, "erfc": _any, "erfcx": _pos, "erfinv": _unit,
    "gammaln": _pos, "psi": _pos, "gamma": _pos, "identity": _any,
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_verify_grad_unary_elementwise(name):
    fn = getattr(pt, name)
    verify_grad(fn, [UNARY[name](2, 3)], rng=np.random.default_rng(0))


def test_verify_grad_special_domains():
    verify_grad(pt.arccosh, [_pos(3) + 1.0])
    verify_grad(pt.log1mexp, [-_pos(4)])


BINARY = {
    "add": (_any, _any), "sub": (_any, _any), "mul": (_any, _any), "true_div": (_any, _pos),
    "pow": (_pos, _any), "maximum": (_any, _any), "minimum": (_any, _any), "arctan2": (_any, _pos),
    "mod": (_pos, _pos), "second": (_any, _any),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_verify_grad_binary_elementwise_with_broadcasting(name):
    fa, fb = BINARY[name]
    fn = getattr(pt, name)
    verify_grad(fn, [fa(2, 3), fb(3)], rng=np.random.default_rng(0))
    verify_grad(fn, [fa(2, 1), fb(1, 3)], rng=np.random.default_rng(0))


def test_verify_grad_clip_switch_where():
    verify_grad(lambda a: pt.clip(a, -0.5, 0.5), [np.array([-1.0, -0.2, 0.3, 0.9])])
    verify_grad(lambda a, lo, hi: pt.clip(a, lo, hi), [np.array([-1.0, 0.0, 0.9]), np.array(-0.5), np.array(0.5)])
    verify_grad(lambda a, b: pt.switch(a > 0, a * b, b), [_any(5), _any(5)])


def test_verify_grad_casts():
    # float32 rounding inside the graph: differentiate with a wide step.
    verify_grad(lambda a: pt.cast(a, "float32").astype("float64") * 2, [_any(3)], eps=1e-2,
                abs_tol=1e-3, rel_tol=1e-3)


REDUCTIONS = {
    "sum": lambda a: pt.sum(a),
    "sum_axis0": lambda a: pt.sum(a, axis=0),
    "sum_axis1_keepdims": lambda a: pt.sum(a, axis=1, keepdims=True),
    "prod": lambda a: pt.prod(a),
    "prod_axis": lambda a: pt.prod(a, axis=1),
    "max": lambda a: pt.max(a),
    "max_axis": lambda a: pt.max(a, axis=0),
    "min_axis": lambda a: pt.min(a, axis=1),
    "mean": lambda a: pt.mean(a, axis=0),
    "var": lambda a: pt.var(a, axis=1),
    "std": lambda a: pt.std(a),
    "logsumexp": lambda a: pt.logsumexp(a, axis=1),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_verify_grad_reductions(name):
    verify_grad(REDUCTIONS[name], [_any(3, 4)], rng=np.random.default_rng(0))


def test_max_ties_share_the_gradient():
    # Issue 12: the tied elements split g evenly (PyTensor gives each the full g,
    # double-counting); the gradient of the slice sums to g.
    x = pt.dvector("x")
    g = grad(pt.max(x), x).eval({x: [1.0, 3.0, 3.0]})
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.5])


SHAPE_OPS = {
    "reshape": lambda a: pt.reshape(a, (4, 3)),
    "reshape_minus1": lambda a: a.reshape((2, -1)),
    "flatten": lambda a: pt.flatten(a),
    "transpose": lambda a: a.T,
    "dimshuffle": lambda a: a.dimshuffle(1, "x", 0),
    "expand_dims": lambda a: pt.expand_dims(a, 0),
    "squeeze": lambda a: pt.squeeze(pt.expand_dims(a, 1)),
    "specify_shape": lambda a: pt.specify_shape(a, (3, 4)),
    "broadcast_to": lambda a: pt.broadcast_to(a[0], (2, 4)),
    "alloc": lambda a: pt.alloc(a[0], 2, 4),
    "repeat": lambda a: pt.repeat(a, 2, axis=1),
    "tile": lambda a: pt.tile(a, (2, 1)),
    "sort": lambda a: pt.sort(a, axis=1),
    "cumsum": lambda a: pt.cumsum(a, axis=0),
    "cumprod": lambda a: pt.cumprod(a, axis=1),
    "concatenate": lambda a: pt.concatenate([a, a * 2], axis=1),
    "stack": lambda a: pt.stack([a[0], a[1]]),
    "join_axis0": lambda a: pt.join(0, a, a[:1]),
    "diff": lambda a: pt.diff(a, axis=1),
    "split": lambda a: pt.split(a, [1, 3], 2, axis=1)[1] * 2,
    "make_vector": lambda a: pt.make_vector(a[0, 0], a[1, 2] * 3, a[2, 3]),
    "tril": lambda a: pt.tril(a),
    "triu_k": lambda a: pt.triu(a, 1),
    "full_like_plus": lambda a: pt.full_like(a, 2.0) * a,
    "where_mask": lambda a: pt.where(a > 0, a, -a * 2),
    "round_floor_ceil": lambda a: pt.round(a * 10) + pt.floor(a) + pt.ceil(a) + a,
    "shape_padleft": lambda a: pt.shape_padleft(a) * 2,
    "matrix_dot": lambda a: pt.matrix_dot(a, a.T, a),
}


@pytest.mark.parametrize("name", _cases(SHAPE_OPS))
def test_verify_grad_shape_and_construction_ops(name):
    verify_grad(SHAPE_OPS[name], [_any(3, 4)], rng=np.random.default_rng(0))


INDEXING = {
    "int": lambda a: a[1],
    "slice": lambda a: a[1:, ::2],
    "neg_step": lambda a: a[::-1, 1],
    "none_ellipsis": lambda a: a[None, ..., 2],
    "adv_vector": lambda a: a[[0, 2, 2]],
    "adv_2d": lambda a: a[[0, 1], [3, 1]],
    "bool_mask": lambda a: a[np.array([True, False, True])],
    "set_subtensor": lambda a: pt.set_subtensor(a[1:, 0], a[0, 1:3] * 3),
    "inc_subtensor": lambda a: pt.inc_subtensor(a[0], a[1] ** 2),
    "adv_inc": lambda a: pt.inc_subtensor(a[[0, 0, 2]], a[1, :] * 2),
    "adv_set": lambda a: pt.set_subtensor(a[[2, 0]], a[1:3] ** 2),
    "take_along_axis": lambda a: pt.take_along_axis(a, np.array([[0, 3], [1, 1], [2, 0]]), axis=1),
}


@pytest.mark.parametrize("name", _cases(INDEXING))
def test_verify_grad_indexing(name):
    verify_grad(INDEXING[name], [_any(3, 4)], rng=np.random.default_rng(0))


DOTS = {
    "dot_mm": (lambda a, b: pt.dot(a, b), [(2, 3), (3, 4)]),
    "dot_mv": (lambda a, b: pt.dot(a, b), [(2, 3), (3,)]),
    "dot_vm": (lambda a, b: pt.dot(a, b), [(3,), (3, 2)]),
    "dot_vv": (lambda a, b: pt.dot(a, b), [(3,), (3,)]),
    "matmul_batched": (lambda a, b: pt.matmul(a, b), [(2, 2, 3), (3, 2)]),
    "matmul_batch_broadcast": (lambda a, b: a @ b, [(2, 1, 2, 3), (3, 3, 2)]),
    "outer": (lambda a, b: pt.outer(a, b), [(3,), (2,)]),
    "tensordot": (lambda a, b: pt.tensordot(a, b, axes=[[1], [0]]), [(2, 3, 2), (3, 2)]),
}


@pytest.mark.parametrize("name", sorted(DOTS))
def test_verify_grad_dot_family(name):
    fn, shapes = DOTS[name]
    verify_grad(fn, [_any(*s) for s in shapes], rng=np.random.default_rng(0))


def _linalg_cases():
    la = pt.linalg

    def spd(a):
        return a @ a.T + 3 * pt.eye(3)

    cases = {
        "det": (lambda a: getattr(la, "det")(a), [(3, 3)]),
        "inv": (lambda a: getattr(la, "inv")(a + 3 * pt.eye(3)), [(3, 3)]),
        "solve": (lambda a, b: getattr(la, "solve")(a + 3 * pt.eye(3), b), [(3, 3), (3, 2)]),
        "solve_triangular": (lambda a, b: getattr(la, "solve_triangular")(pt.tril(a) + 3 * pt.eye(3), b, lower=True),
                             [(3, 3), (3,)]),
        "cholesky": (lambda a: getattr(la, "cholesky")(spd(a)), [(3, 3)]),
        "slogdet": (lambda a: getattr(la, "slogdet")(a + 3 * pt.eye(3))[1], [(3, 3)]),
        "kron": (lambda a, b: getattr(la, "kron")(a, b), [(2, 2), (2, 3)]),
        "eigh": (lambda a: getattr(la, "eigh")(a + a.T)[0], [(3, 3)]),
        "trace": (lambda a: getattr(la, "trace")(a), [(3, 3)]),
        "diag": (lambda a: getattr(la, "diag")(a), [(3, 3)]),
        "norm": (lambda a: getattr(la, "norm")(a), [(3, 3)]),
        "svd": (lambda a: getattr(la, "svd")(a, compute_uv=False), [(3, 2)]),
        "eigvalsh": (lambda a: la.eigvalsh(a + a.T), [(3, 3)]),
        "eigh_vectors_squared": (lambda a: la.eigh(a + a.T + pt.as_tensor(np.diag([0.0, 3.0, 6.0])))[1] ** 2,
                                 [(3, 3)]),
        "alloc_diag": (lambda a: la.diag(a[0]), [(3, 3)]),
        "diagonal_offset": (lambda a: la.diagonal(a, 1), [(3, 3)]),
        "norm_vector": (lambda a: la.norm(a[0]), [(3, 3)]),
        "det_batched": (lambda a: la.det(pt.stack([a, a.T * 2])), [(3, 3)]),
        "inv_batched": (lambda a: la.inv(pt.stack([a, a.T]) + 3 * pt.eye(3)), [(3, 3)]),
        "solve_batched_b": (lambda a, b: la.solve(a + 3 * pt.eye(3), b), [(3, 3), (2, 3, 2)]),
        "cholesky_upper": (lambda a: la.cholesky(spd(a), lower=False), [(3, 3)]),
        "qr_r": (lambda a: la.qr(a)[1], [(3, 3)]),
        "svd_uv": (lambda a: la.svd(a)[1], [(3, 2)]),
    }
    return cases


@pytest.mark.parametrize("name", _cases(_linalg_cases()))
def test_verify_grad_linalg(name):
    fn, shapes = _linalg_cases()[name]
    rng = np.random.default_rng(3)
    verify_grad(fn, [rng.normal(size=s) for s in shapes], rng=rng)


def test_maximum_minimum_ties_match_the_reductions():
    # Like the reductions, a tie splits the gradient evenly (issue 12).
    x, y = pt.dvector("x"), pt.dvector("y")
    vals = {x: [1.0, 2.0, 3.0], y: [1.0, 5.0, 0.0]}
    gx, gy = grad(pt.maximum(x, y).sum(), [x, y])
    np.testing.assert_array_equal(gx.eval(vals), [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(gy.eval(vals), [0.5, 1.0, 0.0])
    gx, gy = grad(pt.minimum(x, y).sum(), [x, y])
    np.testing.assert_array_equal(gx.eval(vals), [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(gy.eval(vals), [0.5, 0.0, 1.0])


def test_verify_grad_of_a_fast_run_rewritten_graph():
    # Gradients of what the rewrites produce (Softplus, Sqr, fused Composites, ...).

    def fn(a, b):
        out = pt.exp(pt.sin(a) * b) + pt.log(1 + pt.exp(a)) - (a - b) ** 2 / 2
        return rewriting.rewrite_graph(out, include=("fast_run",), exclude=("inplace",))

    verify_grad(fn, [_any(4), _any(4)])


def test_jacobian_large_static_output_uses_one_vectorized_lop():
    x = pt.tensor("x", shape=(100,))
    J = jacobian(pt.exp(x), x)
    xv = np.linspace(-1, 1, 100)
    np.testing.assert_allclose(J.eval({x: xv}), np.diag(np.exp(xv)))
    # One Lop batched over the identity: far fewer nodes than 100 gradients.
    from opgraph.kernel_core.graph.traversal import io_toposort

    assert len(io_toposort([x], [J])) < 30


@pytest.mark.parametrize("vectorize", [True, False])
def test_jacobian_disconnected_rows_are_zero(vectorize):
    x, y = pt.dvector("x"), pt.dvector("y")
    J = jacobian(pt.exp(y), x, disconnected_inputs="ignore", vectorize=vectorize)
    np.testing.assert_array_equal(J.eval({x: [1.0, 2.0], y: [0.0, 0.0, 0.0]}), np.zeros((3, 2)))


from hypothesis import assume, given, strategies as st  # noqa: E402

_SAFE_CHAIN = ["sin", "cos", "tanh", "sigmoid", "softplus", "arctan", "exp", "sqr"]


@given(ops=st.lists(st.sampled_from(_SAFE_CHAIN), min_size=1, max_size=5),
       seed=st.integers(0, 2 ** 16))
def test_property_grad_of_random_elementwise_chains(ops, seed):
    # Each op of the chain is safe, but more than two growing ones (exp, sqr) overflow:
    # five exps reach exp(3e4) = inf, where a finite-difference gradient means nothing.
    assume(sum(name in ("exp", "sqr") for name in ops) <= 2)
    rng = np.random.default_rng(seed)

    def fn(a, b):
        out = a
        for i, name in enumerate(ops):
            out = getattr(pt, name)(out * 0.5 + (b if i % 2 else 0.0))
        return out

    verify_grad(fn, [rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, 3)], rng=rng)

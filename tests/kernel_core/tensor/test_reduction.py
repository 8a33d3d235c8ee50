"""Reductions against NumPy: values, dtypes, keepdims, negative axes, empty arrays,
infer_shape, printed names, pullbacks (finite differences) and the seed's mean graph."""

import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import opgraph.tensor as pt
from opgraph.kernel_core.gradient import grad, verify_grad
from opgraph.kernel_core.tensor.reduction import Argmax, Max, Sum
from opgraph.kernel_core.tensor.shape import shape_i

DTYPES = ["float64", "float32", "int8", "int64", "uint8", "bool"]
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)


@st.composite
def array_and_axis(draw, allow_empty=True, single_axis=False):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes)
    if not allow_empty and 0 in shape:
        shape = tuple(max(s, 1) for s in shape)
    if dtype == "bool":
        elements = st.booleans()
    elif dtype.startswith("float"):
        elements = st.floats(-3, 3, width=32)
    else:
        elements = st.integers(0 if dtype == "uint8" else -3, 3)
    data = draw(hnp.arrays(dtype, shape, elements=elements))
    nd = len(shape)
    if single_axis:
        axis = draw(st.one_of(st.none(), st.integers(-nd, nd - 1))) if nd else None
    else:
        choices = [st.none()]
        if nd:
            choices.append(st.integers(-nd, nd - 1))
            choices.append(st.lists(st.integers(0, nd - 1), unique=True, max_size=nd).map(
                lambda ax: tuple(a - nd if i % 2 else a for i, a in enumerate(ax))))
        axis = draw(st.one_of(*choices))
    return data, axis


def _var(data):
    return pt.tensor("x", shape=(None,) * data.ndim, dtype=data.dtype.name)


def _np_axis(axis):
    return axis if axis is None or isinstance(axis, int) else tuple(axis)


def _check(out, expected, x, data):
    got = out.eval({x: data})
    assert got.shape == np.shape(expected)
    assert got.dtype == np.asarray(expected).dtype, (got.dtype, np.asarray(expected).dtype)
    tol = 1e-5 if got.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got.astype(float) if got.dtype != bool else got,
                               np.asarray(expected).astype(float) if got.dtype != bool else expected,
                               rtol=tol, atol=tol, equal_nan=True)


SIMPLE = {"sum": np.sum, "prod": np.prod, "all": np.all, "any": np.any}


@pytest.mark.parametrize("name", sorted(SIMPLE))
@given(case=array_and_axis(), keepdims=st.booleans())
def test_simple_reductions_match_numpy(name, case, keepdims):
    data, axis = case
    x = _var(data)
    out = getattr(pt, name)(x, axis=axis, keepdims=keepdims)
    _check(out, SIMPLE[name](data, axis=_np_axis(axis), keepdims=keepdims), x, data)


@pytest.mark.parametrize("name", ["max", "min"])
@given(case=array_and_axis(allow_empty=False), keepdims=st.booleans())
def test_max_min_match_numpy(name, case, keepdims):
    data, axis = case
    x = _var(data)
    out = getattr(pt, name)(x, axis=axis, keepdims=keepdims)
    _check(out, getattr(np, name)(data, axis=_np_axis(axis), keepdims=keepdims), x, data)


@pytest.mark.parametrize("name", ["mean", "var", "std"])
@given(case=array_and_axis(), keepdims=st.booleans())
def test_moments_match_numpy(name, case, keepdims):
    data, axis = case
    if data.dtype == np.float32:
        data = data.astype("float64")
    x = _var(data)
    out = getattr(pt, name)(x, axis=axis, keepdims=keepdims)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = getattr(np, name)(data, axis=_np_axis(axis), keepdims=keepdims)
    _check(out, expected, x, data)


def test_var_std_ddof():
    x = pt.matrix("x")
    data = np.arange(12.0).reshape(3, 4) ** 1.5
    np.testing.assert_allclose(pt.var(x, axis=0, ddof=1).eval({x: data}), np.var(data, axis=0, ddof=1))
    np.testing.assert_allclose(pt.std(x, ddof=1).eval({x: data}), np.std(data, ddof=1))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(case=array_and_axis(allow_empty=False, single_axis=True), keepdims=st.booleans())
def test_argmax_argmin_match_numpy(name, case, keepdims):
    data, axis = case
    x = _var(data)
    out = getattr(pt, name)(x, axis=axis, keepdims=keepdims)
    expected = getattr(np, name)(data, axis=axis, keepdims=keepdims).astype("int64")
    _check(out, expected, x, data)


@given(data=hnp.arrays(np.float64, shapes, elements=st.floats(-2, 2)), keepdims=st.booleans())
def test_logsumexp(data, keepdims):
    x = _var(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np.log(np.sum(np.exp(data), keepdims=keepdims))
    _check(pt.logsumexp(x, keepdims=keepdims), expected, x, data)


@pytest.mark.parametrize("dtype, out", [("int8", "int64"), ("bool", "int64"), ("uint8", "uint64"),
                                        ("int64", "int64"), ("float32", "float32"), ("float64", "float64")])
def test_sum_prod_upcast_like_numpy(dtype, out):
    x = pt.vector("x", dtype=dtype)
    assert pt.sum(x).dtype == out
    assert pt.prod(x).dtype == out
    assert pt.sum(x, dtype="float32").dtype == "float32"
    assert pt.max(x).dtype == dtype
    assert pt.all(x).dtype == "bool"
    assert pt.argmax(x).dtype == "int64"


def test_static_shapes():
    x = pt.tensor("x", shape=(2, None, 5))
    assert pt.sum(x, axis=1).type.shape == (2, 5)
    assert pt.sum(x, axis=(0, -1), keepdims=True).type.shape == (1, None, 1)
    assert pt.max(x).type.shape == ()
    assert pt.argmax(x, axis=-1).type.shape == (2, None)
    assert pt.mean(x, axis=0, keepdims=True).type.shape == (1, None, 5)


def test_printed_names():
    x = pt.tensor3("x")
    assert str(pt.sum(x).owner.op) == "Sum{axes=None}"
    assert str(pt.sum(x, axis=1).owner.op) == "Sum{axis=1}"
    assert str(pt.sum(x, axis=(2, 0)).owner.op) == "Sum{axes=[0, 2]}"
    assert str(pt.max(x).owner.op) == "Max{axes=None}"
    assert str(pt.min(x, axis=-1).owner.op) == "Min{axis=2}"
    assert str(pt.prod(x, axis=0).owner.op) == "Prod{axis=0}"
    assert str(pt.all(x).owner.op) == "All{axes=None}"
    assert str(pt.any(x, axis=(0, 1)).owner.op) == "Any{axes=[0, 1]}"
    assert str(pt.argmax(x, axis=1).owner.op) == "Argmax{axis=1}"
    assert str(pt.argmin(x).owner.op) == "Argmin{axis=None}"
    kd = pt.sum(x, axis=1, keepdims=True)
    assert str(kd.owner.op) == "ExpandDims{axis=1}"
    assert isinstance(kd.owner.inputs[0].owner.op, Sum)


def test_ops_compare_by_props():
    x = pt.matrix("x")
    assert pt.sum(x, axis=1).owner.op == pt.sum(x, axis=-1).owner.op
    assert pt.sum(x, axis=1).owner.op != pt.sum(x, axis=0).owner.op
    assert hash(Max((0,))) == hash(Max((0,)))


def test_mean_graph_matches_seed():
    v = pt.vector("v")
    m = v.mean()
    assert m.name == "mean"
    text = m.dprint(file="str")
    assert text == (
        "True_div [id A] 'mean'\n"
        " ├─ Sum{axes=None} [id B]\n"
        " │  └─ v [id C]\n"
        " └─ Subtensor{i} [id D]\n"
        "    ├─ Cast{float64} [id E]\n"
        "    │  └─ Shape [id F]\n"
        "    │     └─ v [id C]\n"
        "    └─ 0 [id G]\n"
    )


def test_mean_multi_axis_uses_product_of_lengths():
    x = pt.tensor3("x")
    m = pt.mean(x, axis=(0, 2))
    denom = m.owner.inputs[1]  # broadcast against the vector sum
    assert str(denom.owner.op) == "ExpandDims{axis=0}"
    assert str(denom.owner.inputs[0].owner.op) == "Mul"
    data = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_allclose(m.eval({x: data}), data.mean(axis=(0, 2)))


def test_sum_gradient_graph_matches_seed():
    x = pt.vector("x")
    g = grad(pt.log1p(x).sum(), x)
    second = g.owner.inputs[0]
    assert str(second.owner.op) == "Second"
    expand = second.owner.inputs[1]
    assert str(expand.owner.op) == "ExpandDims{axis=0}"
    inner = expand.owner.inputs[0]
    assert str(inner.owner.op) == "Second"
    assert str(inner.owner.inputs[0].owner.op) == "Sum{axes=None}"


def _eval_infer_shape(out, givens):
    """Evaluate out's node infer_shape with Shape_i inputs; compare with the real shape."""
    node = out.owner
    ishapes = [tuple(shape_i(i, d) for d in range(i.type.ndim)) for i in node.inputs]
    oshape = node.op.infer_shape(None, node, ishapes)[out.index]
    got = tuple(int(s) if isinstance(s, (int, np.integer)) else int(s.eval(givens)) for s in oshape)
    assert got == out.eval(givens).shape


@given(case=array_and_axis(allow_empty=False))
def test_infer_shape(case):
    data, axis = case
    x = _var(data)
    for f in (pt.sum, pt.prod, pt.max, pt.min, pt.all, pt.any):
        _eval_infer_shape(f(x, axis=axis), {x: data})
    single = axis if axis is None or isinstance(axis, int) else None
    _eval_infer_shape(pt.argmax(x, axis=single), {x: data})


RNG = np.random.default_rng(1)
GRAD_CASES = [
    ("sum", lambda x: pt.sum(x, axis=1)),
    ("sum_all", lambda x: pt.sum(x)),
    ("sum_keep", lambda x: pt.sum(x, axis=(0, 2), keepdims=True).sum()),
    ("prod", lambda x: pt.prod(x, axis=-1)),
    ("prod_all", lambda x: pt.prod(x)),
    ("max", lambda x: pt.max(x, axis=0)),
    ("min", lambda x: pt.min(x, axis=(1, 2))),
    ("mean", lambda x: pt.mean(x, axis=1)),
    ("mean_all", lambda x: pt.mean(x)),
    ("var", lambda x: pt.var(x, axis=0)),
    ("std", lambda x: pt.std(x, axis=2, ddof=1)),
    ("logsumexp", lambda x: pt.logsumexp(x, axis=1)),
]


@pytest.mark.parametrize("name, fun", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_finite_differences(name, fun):
    point = RNG.uniform(0.5, 2.0, size=(2, 3, 4))
    verify_grad(fun, [point], rng=np.random.default_rng(0))


def test_prod_gradient_with_zeros():
    x = pt.matrix("x")
    data = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0], [4.0, 2.0, 3.0]])
    g = grad(pt.prod(x, axis=1).sum(), x).eval({x: data})
    expected = np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 0.0], [6.0, 12.0, 8.0]])
    np.testing.assert_allclose(g, expected)
    verify_grad(lambda v: pt.prod(v, axis=1), [data], rng=np.random.default_rng(0))


def test_max_gradient_ties_share_the_gradient():
    # Tied positions split it evenly (issue 12): a subgradient, summing to 1.
    x = pt.vector("x")
    g = grad(pt.max(x), x).eval({x: np.array([1.0, 3.0, 3.0, 0.0])})
    np.testing.assert_allclose(g, [0.0, 0.5, 0.5, 0.0])


def test_integer_and_logical_gradients():
    x = pt.vector("x")
    assert Argmax(0).L_op([x], [pt.argmax(x)], [None]) == [None]
    assert pt.all(x).owner.op.L_op([x], [pt.all(x)], [None]) == [None]
    i = pt.vector("i", dtype="int64")
    g = pt.sum(i).owner.op.L_op([i], [pt.sum(i)], [pt.constant(1.0)])[0]
    np.testing.assert_array_equal(g.eval({i: [1, 2]}), [0.0, 0.0])


def test_empty_max_raises_clear_error():
    x = pt.vector("x")
    with pytest.raises(Exception, match="empty"):
        pt.max(x).eval({x: np.zeros(0)})


@pytest.mark.parametrize("f", [pt.sum, pt.max, pt.mean, pt.argmax])
def test_bad_axis_names_axis_and_ndim(f):
    x = pt.matrix("x")
    with pytest.raises(ValueError, match=r"axis 2 .*ndim=2"):
        f(x, axis=2)
    with pytest.raises(ValueError, match=r"axis -3 .*ndim=2"):
        f(x, axis=-3)


def test_repeated_and_non_int_axes():
    x = pt.matrix("x")
    with pytest.raises(ValueError, match="repeated"):
        pt.sum(x, axis=(0, -2))
    with pytest.raises(TypeError, match="axis"):
        pt.sum(x, axis=1.5)
    with pytest.raises(ValueError, match="one int"):
        pt.argmax(x, axis=(0, 1))


def test_methods_on_variables():
    x = pt.matrix("x")
    data = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(x.sum(axis=0).eval({x: data}), data.sum(axis=0))
    np.testing.assert_allclose(x.std().eval({x: data}), data.std())
    np.testing.assert_allclose(x.size.eval({x: data}), 6)
    np.testing.assert_array_equal(x.argmax(axis=1, keepdims=True).eval({x: data}), data.argmax(axis=1, keepdims=True))


def test_seed_logistic_regression_loss_graph_and_gradient():
    X_pt = pt.tensor("X", shape=(None, None))
    y_pt = pt.tensor("y", shape=(None,))
    alpha_pt = pt.tensor("alpha", shape=())
    beta_pt = pt.tensor("beta", shape=(None,))
    p = pt.sigmoid(alpha_pt + X_pt @ beta_pt)
    p.name = "p_class_0"
    loss = -(y_pt * pt.log(p) + (1 - y_pt) * pt.log(1 - p)).mean()
    loss.name = "cross_entropy"
    text = loss.dprint(file="str")
    for line in ["True_div [id B] 'mean'", "├─ Sum{axes=None} [id C]", "Squeeze{axis=1} [id L]",
                 "└─ Subtensor{i} [id Y]", "├─ Cast{float64} [id Z]", "└─ Shape [id BA]", "└─ 0 [id BB]"]:
        assert line in text, line
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(6, 3)), (rng.random(6) > 0.5).astype(float)

    def f(alpha, beta):
        q = pt.sigmoid(alpha + pt.constant(X) @ beta)
        return -(y * pt.log(q) + (1 - y) * pt.log(1 - q)).mean()

    verify_grad(f, [np.array(0.3), rng.normal(size=3)], rng=np.random.default_rng(0))

"""repeat / tile / sort / argsort / cumsum / cumprod / diff against NumPy."""

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import opgraph.tensor as pt
from opgraph.kernel_core.gradient import verify_grad
from opgraph.kernel_core.tensor.extra_ops import ArgSortOp, CumOp, RepeatOp, SortOp
from opgraph.kernel_core.tensor.shape import shape_i

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4)
DTYPES = ["float64", "int8", "int64", "bool", "float32"]


@st.composite
def array_and_axis(draw, allow_none=True):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(shapes)
    elements = st.booleans() if dtype == "bool" else st.integers(-3, 3)
    data = draw(hnp.arrays(dtype, shape, elements=elements))
    nd = len(shape)
    options = [st.integers(-nd, nd - 1)] + ([st.none()] if allow_none else [])
    return data, draw(st.one_of(*options))


def _var(data):
    return pt.tensor("x", shape=(None,) * data.ndim, dtype=data.dtype.name)


def _eval_infer_shape(out, givens):
    node = out.owner
    ishapes = [tuple(shape_i(i, d) for d in range(i.type.ndim)) for i in node.inputs]
    oshape = node.op.infer_shape(None, node, ishapes)[out.index]
    got = tuple(int(s) if isinstance(s, (int, np.integer)) else int(s.eval(givens)) for s in oshape)
    assert got == out.eval(givens).shape


def _same(got, expected):
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@given(case=array_and_axis(), reps=st.integers(0, 3))
def test_repeat_scalar(case, reps):
    data, axis = case
    x = _var(data)
    out = pt.repeat(x, reps, axis=axis)
    _same(out.eval({x: data}), np.repeat(data, reps, axis=axis))
    _eval_infer_shape(out, {x: data})


@given(case=array_and_axis(allow_none=False), data=st.data())
def test_repeat_vector(case, data):
    arr, axis = case
    reps = data.draw(st.lists(st.integers(0, 3), min_size=arr.shape[axis], max_size=arr.shape[axis]))
    x = _var(arr)
    out = pt.repeat(x, np.asarray(reps, dtype="int64"), axis=axis)
    _same(out.eval({x: arr}), np.repeat(arr, reps, axis=axis))
    _eval_infer_shape(out, {x: arr})


def test_repeat_static_shape_name_and_gradient():
    x = pt.tensor("x", shape=(2, 3))
    assert pt.repeat(x, 2, axis=1).type.shape == (2, 6)
    assert pt.repeat(x, 2).type.shape == (12,)
    assert str(pt.repeat(x, 2, axis=0).owner.op) == "Repeat{axis=0}"
    with pytest.raises(ValueError, match=r"axis 2 .*ndim=2"):
        pt.repeat(x, 2, axis=2)
    with pytest.raises(ValueError, match="3 repeats for axis 0 of length 2"):
        pt.repeat(x, np.array([1, 2, 3]), axis=0)
    verify_grad(lambda a: pt.repeat(a, 3, axis=0), [np.random.default_rng(0).normal(size=(2, 3))])
    verify_grad(lambda a: pt.repeat(a, 2), [np.random.default_rng(1).normal(size=(2, 3))])


@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
       reps=st.lists(st.integers(0, 3), min_size=1, max_size=3), static=st.booleans())
def test_tile_matches_numpy(shape, reps, static):
    data = np.arange(int(np.prod(shape)), dtype="float64").reshape(shape)
    x = pt.tensor("x", shape=shape if static else (None,) * len(shape))
    out = pt.tile(x, tuple(reps))
    expected = np.tile(data, reps)
    _same(out.eval({x: data}), expected)
    if static:
        assert out.type.shape == expected.shape


def test_tile_gradient():
    verify_grad(lambda a: pt.tile(a, (2, 3)), [np.random.default_rng(0).normal(size=(2, 2))])
    with pytest.raises(ValueError, match="non-negative"):
        pt.tile(pt.vector("v"), (-1,))


@given(case=array_and_axis())
def test_sort_argsort_match_numpy(case):
    data, axis = case
    x = _var(data)
    s = pt.sort(x, axis=axis)
    a = pt.argsort(x, axis=axis)
    _same(s.eval({x: data}), np.sort(data, axis=axis, kind="stable"))
    _same(a.eval({x: data}), np.argsort(data, axis=axis, kind="stable").astype("int64"))
    _eval_infer_shape(s, {x: data})
    _eval_infer_shape(a, {x: data})


def test_sort_names_stability_and_gradient():
    x = pt.matrix("x")
    assert str(pt.sort(x).owner.op) == "SortOp{axis=1}"
    assert str(x.argsort(axis=0).owner.op) == "ArgSortOp{axis=0}"
    assert pt.sort(x, axis=None).type.shape == (None,)
    assert SortOp(0) == SortOp(0) != ArgSortOp(0)
    v = pt.vector("v")
    np.testing.assert_array_equal(pt.argsort(v).eval({v: [2.0, 1.0, 2.0, 1.0]}), [1, 3, 0, 2])
    rng = np.random.default_rng(0)
    verify_grad(lambda a: pt.sort(a, axis=0), [rng.normal(size=(3, 4))])
    verify_grad(lambda a: pt.sort(a, axis=None), [rng.normal(size=(3, 4))])
    assert pt.argsort(v).owner.op.L_op([v], [pt.argsort(v)], [None]) == [None]
    with pytest.raises(ValueError, match=r"axis 2 .*ndim=2"):
        pt.sort(x, axis=2)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@given(case=array_and_axis())
def test_cumops_match_numpy(name, case):
    data, axis = case
    x = _var(data)
    out = getattr(pt, name)(x, axis=axis)
    _same(out.eval({x: data}), getattr(np, name)(data, axis=axis))
    _eval_infer_shape(out, {x: data})


def test_cumop_names_and_gradients():
    x = pt.matrix("x")
    assert str(pt.cumsum(x, axis=0).owner.op) == "CumOp{axis=0, mode='add'}"
    assert str(x.cumprod().owner.op) == "CumOp{axis=None, mode='mul'}"
    assert CumOp(0, "add") != CumOp(0, "mul")
    with pytest.raises(ValueError, match="mode"):
        CumOp(0, "max")
    rng = np.random.default_rng(0)
    for fun in (lambda a: pt.cumsum(a, axis=1), lambda a: pt.cumsum(a),
                lambda a: pt.cumprod(a, axis=0), lambda a: pt.cumprod(a)):
        verify_grad(fun, [rng.uniform(0.5, 1.5, size=(3, 4))])


@given(case=array_and_axis(allow_none=False), n=st.integers(0, 2))
def test_diff_matches_numpy(case, n):
    data, axis = case
    if data.dtype == bool:
        data = data.astype("int8")
    x = _var(data)
    got = pt.diff(x, n=n, axis=axis).eval({x: data})
    expected = np.diff(data, n=n, axis=axis)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_repeat_op_props():
    assert RepeatOp(0) == RepeatOp(0) != RepeatOp(1)


def test_take_along_axis_and_its_gradient():
    x = pt.matrix("x")
    idx = np.array([[0, 3], [1, 1], [2, 0]])
    data = np.arange(12.0).reshape(3, 4)
    out = pt.take_along_axis(x, idx, axis=1)
    np.testing.assert_array_equal(out.eval({x: data}), np.take_along_axis(data, idx, axis=1))
    # Repeated indices accumulate their gradients.
    verify_grad(lambda a: pt.take_along_axis(a, idx, axis=1), [np.random.default_rng(0).normal(size=(3, 4))])
    verify_grad(lambda a: pt.take_along_axis(a, idx, axis=1) ** 2, [np.random.default_rng(1).normal(size=(3, 4))])


def test_tile_gradient_with_length_one_axes():
    rng = np.random.default_rng(0)
    verify_grad(lambda a: pt.tile(a, (2, 1)), [rng.normal(size=(3, 4))])
    verify_grad(lambda a: pt.tile(a, (3, 2)), [rng.normal(size=(1, 2))])
    verify_grad(lambda a: pt.tile(a, (2, 2)), [rng.normal(size=(3,))])


def _cumprod_grad_by_brute_force(xv, w):
    """d/dx_i sum_j w_j prod_{k <= j} x_k = sum_{j >= i} w_j prod_{k <= j, k != i} x_k."""
    grad = np.zeros_like(xv)
    for i in range(len(xv)):
        for j in range(i, len(xv)):
            grad[i] += w[j] * np.prod(np.delete(xv[:j + 1], i))
    return grad


@pytest.mark.parametrize("xv", [
    [2.0, 0.0, 3.0, 0.5],          # one zero
    [0.0, 1.5, -2.0, 4.0],         # zero first
    [1.5, -2.0, 4.0, 0.0],         # zero last
    [3.0, 0.0, 2.0, 0.0, 5.0],     # two zeros: only the first one has a gradient
    [0.0, 0.0, 1.0],
    [1.5, 2.0, -0.5],              # no zero
])
def test_cumprod_gradient_is_exact_where_x_has_zeros(xv):
    from opgraph.gradient import grad

    xv = np.array(xv)
    w = np.linspace(0.5, 2.0, len(xv))
    x = pt.vector("x")
    g = grad((pt.cumprod(x) * w).sum(), x)
    got = g.eval({x: xv})
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, _cumprod_grad_by_brute_force(xv, w), rtol=1e-12, atol=1e-12)


def test_cumprod_gradient_with_zeros_along_an_axis_and_flattened():
    rng = np.random.default_rng(1)
    data = rng.uniform(0.5, 1.5, size=(3, 4))
    data[0, 1] = data[2, 0] = data[2, 3] = 0.0
    for fun in (lambda a: pt.cumprod(a, axis=1), lambda a: pt.cumprod(a, axis=0), lambda a: pt.cumprod(a)):
        verify_grad(fun, [data])


def test_cumprod_gradient_with_zeros_compiles_to_numba():
    import opgraph
    from opgraph.gradient import grad

    x = pt.matrix("x")
    g = grad((pt.cumprod(x, axis=1) * 2.0).sum(), x)
    v = np.array([[2.0, 0.0, 3.0, 0.5], [0.0, 1.0, 2.0, 0.0]])
    want = np.array([[2.0 * (1 + 0 + 0 + 0), 2.0 * (2 + 6 + 3), 0.0, 0.0], [2.0 * (1 + 1 + 2 + 0), 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(opgraph.function([x], g, mode="NUMBA")(v), want)

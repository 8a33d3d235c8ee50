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


# -- everyday NumPy functions: linspace ... choose, searchsorted, unique ----------------------
def _close(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, equal_nan=True)


MV = np.arange(12.0).reshape(3, 4)
TV = np.arange(24.0).reshape(2, 3, 4)


def test_swapaxes_and_moveaxis_are_dimshuffles():
    t = pt.dtensor3("t")
    for out, want in [(pt.swapaxes(t, 0, 2), np.swapaxes(TV, 0, 2)), (pt.swapaxes(t, -1, 1), np.swapaxes(TV, -1, 1)),
                      (pt.moveaxis(t, 0, -1), np.moveaxis(TV, 0, -1)),
                      (pt.moveaxis(t, [0, 1], [2, 0]), np.moveaxis(TV, [0, 1], [2, 0]))]:
        assert isinstance(out.owner.op, pt.DimShuffle)
        _close(out.eval({t: TV}), want)
    with pytest.raises(ValueError, match="moveaxis: repeated axis"):
        pt.moveaxis(t, [0, 0], [1, 2])
    with pytest.raises(ValueError, match="swapaxes: axis 3 is out of bounds"):
        pt.swapaxes(t, 0, 3)


@given(shift=st.integers(-9, 9), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4),
       data=st.data())
def test_roll_matches_numpy(shift, shape, data):
    xv = np.arange(float(np.prod(shape))).reshape(shape)
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    x = pt.tensor("x", shape=(None,) * len(shape))
    k = pt.lscalar("k")
    out = pt.roll(x, k, axis=axis)
    _close(out.eval({x: xv, k: shift}), np.roll(xv, shift, axis=axis))
    _eval_infer_shape(out, {x: xv, k: shift})


def test_roll_tuple_axes_and_gradient():
    t = pt.dtensor3("t")
    _close(pt.roll(t, (1, -2), axis=(0, 2)).eval({t: TV}), np.roll(TV, (1, -2), axis=(0, 2)))
    verify_grad(lambda a: pt.roll(a, 3, axis=1) * np.arange(4.0), [np.random.default_rng(1).normal(size=(2, 4))])
    with pytest.raises(TypeError, match="roll: shift must be an integer scalar"):
        pt.roll(t, 1.5)


@pytest.mark.parametrize("endpoint", [True, False])
@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_linspace_matches_numpy(n, endpoint):
    k = pt.lscalar("k")
    y, step = pt.linspace(1.0, 3.0, k, endpoint=endpoint, retstep=True)
    want, want_step = np.linspace(1.0, 3.0, n, endpoint=endpoint, retstep=True)
    _close(y.eval({k: n}), want)
    _close(step.eval({k: n}), want_step)
    _close(pt.logspace(0.0, 2.0, k, base=2.0, endpoint=endpoint).eval({k: n}),
           np.logspace(0.0, 2.0, n, base=2.0, endpoint=endpoint))


def test_linspace_family_arrays_axis_dtype():
    v = pt.dvector("v")
    vv = np.array([3.0, 1.0, 2.0, 5.0])
    _close(pt.linspace(v, 10.0, 5, axis=1).eval({v: vv}), np.linspace(vv, 10.0, 5, axis=1))
    got = pt.linspace(0, 10, 4, dtype="int64").eval()
    assert got.dtype == np.int64
    _close(got, np.linspace(0, 10, 4, dtype="int64"))
    assert pt.linspace(0, 1, 3).dtype == "float64"
    assert pt.linspace(pt.fscalar("a"), 1, 3).dtype == "float32"
    _close(pt.logspace(0, 2, 5).eval(), np.logspace(0, 2, 5))
    _close(pt.geomspace(1, 1000, 4).eval(), np.geomspace(1, 1000, 4))
    _close(pt.geomspace(-1, -1000, 4, endpoint=False).eval(), np.geomspace(-1, -1000, 4, endpoint=False))
    _close(pt.geomspace(v, 1000.0, 3, axis=-1).eval({v: vv}), np.geomspace(vv, 1000.0, 3, axis=-1))
    assert pt.geomspace(3.0, 7.0, 5).eval()[-1] == 7.0  # exact bounds, as NumPy


def test_linspace_geomspace_gradients():
    verify_grad(lambda a, b: pt.linspace(a, b, 5) ** 2, [np.array(0.5), np.array(2.0)])
    verify_grad(lambda a, b: pt.linspace(a, b, 4, endpoint=False, axis=1),
                [np.array([0.5, 1.0]), np.array([2.0, 3.0])])
    verify_grad(lambda a, b: pt.geomspace(a, b, 4), [np.array(1.5), np.array(20.0)])
    verify_grad(lambda a: pt.logspace(a, 1.0, 3), [np.array(0.3)])


def _np_fill_diagonal(a, val):
    a = a.copy()
    np.fill_diagonal(a, val)
    return a


def test_fill_diagonal_matches_numpy_and_has_gradients():
    m = pt.dmatrix("m")
    _close(pt.fill_diagonal(m, 5.0).eval({m: MV}), _np_fill_diagonal(MV, 5.0))
    _close(pt.fill_diagonal(m.T, 5.0).eval({m: MV}), _np_fill_diagonal(MV.T, 5.0))
    cube = np.ones((3, 3, 3))
    _close(pt.fill_diagonal(pt.as_tensor_variable(cube), 2.0).eval(), _np_fill_diagonal(cube, 2.0))
    rng = np.random.default_rng(2)
    verify_grad(lambda a, v: pt.fill_diagonal(a, v) ** 2, [rng.normal(size=(3, 4)), np.array(1.5)])
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        pt.fill_diagonal(pt.dvector("v"), 1.0)
    with pytest.raises(TypeError, match="val must be a scalar"):
        pt.fill_diagonal(m, pt.dvector("v"))


@pytest.mark.parametrize("offset", [-4, -1, 0, 1, 3, 6])
def test_fill_diagonal_offset_matches_numpy(offset):
    m, k = pt.dmatrix("m"), pt.lscalar("k")
    want = MV.copy()
    r = np.arange(max(0, min(3 - max(-offset, 0), 4 - max(offset, 0))))
    want[r + max(-offset, 0), r + max(offset, 0)] = 9.0
    _close(pt.fill_diagonal_offset(m, 9.0, k).eval({m: MV, k: offset}), want)
    if offset in (-1, 1):
        verify_grad(lambda a, v: pt.fill_diagonal_offset(a, v, offset) * 3.0,
                    [np.random.default_rng(3).normal(size=(3, 4)), np.array(0.5)])


@given(xv=hnp.arrays("int64", st.integers(0, 8), elements=st.integers(0, 6)), minlength=st.integers(0, 9))
def test_bincount_matches_numpy(xv, minlength):
    x, w = pt.lvector("x"), pt.dvector("w")
    wv = np.linspace(-1.0, 2.0, len(xv))
    _close(pt.bincount(x).eval({x: xv}), np.bincount(xv))
    _close(pt.bincount(x, w, minlength=minlength).eval({x: xv, w: wv}), np.bincount(xv, wv, minlength=minlength))


def test_bincount_dtypes_gradient_and_negative_values():
    x = pt.lvector("x")
    assert pt.bincount(x).dtype == "int64"
    assert pt.bincount(x, pt.fvector("w")).dtype == "float32"
    xv = np.array([0, 2, 2, 5])
    verify_grad(lambda w: pt.bincount(xv, w) ** 2, [np.array([0.5, 1.0, -2.0, 3.0])])
    with pytest.raises(IndexError, match="out of bounds"):
        pt.bincount(x).eval({x: np.array([0, -1])})
    with pytest.raises(TypeError, match="bincount: x must be an integer vector"):
        pt.bincount(pt.dvector("v"))


def test_compress_matches_numpy_and_has_a_gradient():
    m, c = pt.dmatrix("m"), pt.lvector("c")
    for cond, axis in [([1, 0, 1, 1], 1), ([0, 1], 0), ([0, 1, 1, 0, 1], None), ([True, False, True], 0)]:
        _close(pt.compress(c, m, axis=axis).eval({m: MV, c: np.array(cond, dtype="int64")}),
               np.compress(cond, MV, axis=axis))
    verify_grad(lambda a: pt.compress(np.array([1, 0, 1]), a, axis=0), [np.random.default_rng(4).normal(size=(3, 2))])


def test_choose_matches_numpy_modes_and_gradient():
    a, m, v = pt.lmatrix("a"), pt.dmatrix("m"), pt.dvector("v")
    av = np.array([[0, 1, 2, 1], [2, 0, 0, 1], [1, 1, 2, 0]])
    vv = np.array([-1.0, -2.0, -3.0, -4.0])
    _close(pt.choose(a, [m, m * 10, v]).eval({a: av, m: MV, v: vv}), np.choose(av, [MV, MV * 10, vv]))
    stacked = np.stack([MV, -MV])
    _close(pt.choose(a, pt.as_tensor_variable(stacked)).eval({a: av % 2}), np.choose(av % 2, stacked))
    _close(pt.choose(a, [m, -m], mode="wrap").eval({a: av, m: MV}), np.choose(av, [MV, -MV], mode="wrap"))
    _close(pt.choose(a, [m, -m], mode="clip").eval({a: av - 1, m: MV}), np.choose(av - 1, [MV, -MV], mode="clip"))
    with pytest.raises(IndexError):
        pt.choose(a, [m, -m]).eval({a: av - 1, m: MV})
    with pytest.raises(ValueError, match="choose: mode must be"):
        pt.choose(a, [m], mode="bad")
    rng = np.random.default_rng(5)
    verify_grad(lambda p, q: pt.choose(av[:, :2] % 2, [p, q]), [rng.normal(size=(3, 2)), rng.normal(size=2)])


@given(xv=hnp.arrays("float64", st.integers(0, 6), elements=st.sampled_from([0.0, 1.0, 2.5, np.nan, -3.0])),
       vv=hnp.arrays("float64", st.integers(0, 4), elements=st.sampled_from([-5.0, 0.0, 1.0, 2.0, 2.5, np.nan])),
       side=st.sampled_from(["left", "right"]))
def test_searchsorted_matches_numpy(xv, vv, side):
    x, v = pt.dvector("x"), pt.dvector("v")
    xs = np.sort(xv)
    out = pt.searchsorted(x, v, side=side)
    _same(out.eval({x: xs, v: vv}), np.searchsorted(xs, vv, side=side))
    by_sorter = pt.searchsorted(x, v, side=side, sorter=pt.argsort(x))
    _same(by_sorter.eval({x: xv, v: vv}), np.searchsorted(xv, vv, side=side, sorter=np.argsort(xv, kind="stable")))
    _eval_infer_shape(out, {x: xs, v: vv})


def test_searchsorted_node():
    x, m = pt.dvector("x"), pt.dmatrix("m")
    out = pt.searchsorted(x, m, side="right")
    assert str(out.owner.op) == "Searchsorted{side=right}" and out.type == pt.lmatrix
    with pytest.raises(ValueError, match="side must be 'left' or 'right'"):
        pt.searchsorted(x, m, side="middle")
    with pytest.raises(ValueError, match="x must be a vector"):
        pt.searchsorted(m, x)
    from opgraph.kernel_core.gradient import grad

    # An integer-valued (step) function: no gradient flows into x or v.
    g = grad((pt.cast(pt.searchsorted(x, m), "float64") * m).sum(), m, disconnected_inputs="ignore")
    _close(g.eval({x: np.array([1.0, 2.0]), m: MV}), np.searchsorted([1.0, 2.0], MV).astype(float))


@given(case=array_and_axis(), flags=st.tuples(st.booleans(), st.booleans(), st.booleans()))
def test_unique_matches_numpy(case, flags):
    data, axis = case
    x = _var(data)
    outs = pt.unique(x, *flags, axis=axis)
    outs = outs if isinstance(outs, list) else [outs]
    want = np.unique(data, *flags, axis=axis)
    want = list(want) if isinstance(want, tuple) else [want]
    for o, w in zip(outs, want, strict=True):
        _same(o.eval({x: data}), w)
        _eval_infer_shape(o, {x: data})


def test_unique_node_and_no_gradient():
    f = pt.dvector("f")
    vals, counts = pt.unique(f, return_counts=True)
    assert str(vals.owner.op) == "Unique{return_counts, axis=None}"
    _same(vals.eval({f: np.array([2.0, np.nan, 2.0, np.nan])}), np.array([2.0, np.nan]))
    from opgraph.kernel_core.gradient import grad

    with pytest.raises(NotImplementedError, match="unique has no gradient"):
        grad(vals.sum(), f)


def test_tile_with_symbolic_reps():
    m, r, k = pt.dmatrix("m"), pt.lvector("r"), pt.iscalar("k")
    mv = np.arange(6.0).reshape(2, 3)
    _close(pt.tile(m, r, ndim=3).eval({m: mv, r: [2, 1, 2]}), np.tile(mv, [2, 1, 2]))
    _close(pt.tile(m, (k, 2)).eval({m: mv, k: 3}), np.tile(mv, (3, 2)))
    _close(pt.tile(m, pt.as_tensor_variable(np.array([1, 3]))).eval({m: mv}), np.tile(mv, [1, 3]))
    with pytest.raises(ValueError, match="pass ndim="):
        pt.tile(m, r)
    with pytest.raises(TypeError, match="tile: reps must be integers"):
        pt.tile(m, pt.dvector("q"))
    verify_grad(lambda a: pt.tile(a, pt.as_tensor_variable(np.array([2, 1]))), [mv])


def test_max_and_argmax():
    m = pt.dmatrix("m")
    mx, am = pt.max_and_argmax(m, axis=1)
    rng = np.random.default_rng(6).normal(size=(3, 4))
    _close(mx.eval({m: rng}), rng.max(axis=1))
    _same(am.eval({m: rng}), rng.argmax(axis=1))
    mx, am = pt.max_and_argmax(m)
    assert mx.type.ndim == am.type.ndim == 0


def test_elemwise_outer_is_numpy_ufunc_outer():
    x, m = pt.dvector("x"), pt.dmatrix("m")
    xv, mv = np.array([1.0, -2.0]), np.arange(6.0).reshape(2, 3)
    for op, np_op in [(pt.add, np.add), (pt.mul, np.multiply), (pt.maximum, np.maximum), (pt.lt, np.less)]:
        _same(op.outer(x, m).eval({x: xv, m: mv}), np_op.outer(xv, mv))
    _same(pt.sub.outer(x, 3.0).eval({x: xv}), np.subtract.outer(xv, 3.0))
    verify_grad(lambda a, b: pt.mul.outer(a, b), [xv, np.array([0.5, 2.0, 3.0])])
    with pytest.raises(TypeError, match="Exp.outer needs a binary op"):
        pt.exp.outer(x, x)


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_searchsorted_refuses_a_bad_sorter(mode):
    import opgraph

    x, v, s = pt.dvector("x"), pt.dvector("v"), pt.lvector("s")
    f = opgraph.function([x, v, s], pt.searchsorted(x, v, sorter=s), mode=mode)
    xv = np.array([3.0, 1.0, 2.0])
    _same(f(xv, np.array([1.5, 9.0]), np.array([1, 2, 0])), np.array([1, 3]))
    for bad in (np.array([1, 2]), np.array([0, 1, 7])):
        with pytest.raises(ValueError):
            f(xv, np.array([1.5]), bad)

"""Shape ops against NumPy: Shape, Shape_i, SpecifyShape, Reshape, flatten, squeeze,
transpose; static shapes, infer_shape, pullbacks and error messages."""

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import opgraph.tensor as pt
from opgraph.kernel_core.gradient import verify_grad
from opgraph.kernel_core.tensor.shape import Reshape, Shape, Shape_i, SpecifyShape, shape_i, specify_shape

shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)
DTYPES = ["float64", "int8", "bool", "float32"]


def _var(data, static=False):
    shape = data.shape if static else (None,) * data.ndim
    return pt.tensor("x", shape=shape, dtype=data.dtype.name)


def _eval_infer_shape(out, givens):
    node = out.owner
    ishapes = [tuple(shape_i(i, d) for d in range(i.type.ndim)) for i in node.inputs]
    oshape = node.op.infer_shape(None, node, ishapes)[out.index]
    got = tuple(int(s) if isinstance(s, (int, np.integer)) else int(s.eval(givens)) for s in oshape)
    assert got == out.eval(givens).shape


@given(shape=shapes, dtype=st.sampled_from(DTYPES))
def test_shape_and_shape_i(shape, dtype):
    data = np.zeros(shape, dtype=dtype)
    x = _var(data)
    s = pt.shape(x)
    assert s.type.shape == (len(shape),) and s.dtype == "int64"
    np.testing.assert_array_equal(s.eval({x: data}), shape)
    np.testing.assert_array_equal(x.shape.eval({x: data}), shape)
    for d in range(len(shape)):
        si = shape_i(x, d)
        assert si.type.shape == () and si.dtype == "int64"
        assert si.eval({x: data}) == shape[d]
        assert shape_i(x, d - len(shape)).owner.op == Shape_i(d)
        _eval_infer_shape(si, {x: data})
    _eval_infer_shape(s, {x: data})


def test_shape_names_and_static_length():
    x = pt.tensor("x", shape=(2, 3))
    assert str(x.shape.owner.op) == "Shape"  # a node even when the shape is static
    assert str(shape_i(x, 1).owner.op) == "Shape_i{1}"
    assert x.shape.owner.op.L_op([x], [x.shape], [None]) == [None]
    with pytest.raises(ValueError, match=r"axis 2 .*ndim=2"):
        shape_i(x, 2)


def test_specify_shape():
    x = pt.matrix("x")
    y = specify_shape(x, (3, None))
    assert str(y.owner.op) == "SpecifyShape"
    assert y.type.shape == (3, None)
    data = np.ones((3, 5))
    np.testing.assert_array_equal(y.eval({x: data}), data)
    with pytest.raises(Exception, match="axis 0 has length 2, expected 3"):
        y.eval({x: np.ones((2, 5))})
    n = pt.scalar("n", dtype="int64")
    z = specify_shape(x, (None, n))
    assert z.type.shape == (None, None)
    assert z.eval({x: data, n: 5}).shape == (3, 5)
    _eval_infer_shape(y, {x: data})
    assert specify_shape(x, (None, None)) is x
    with pytest.raises(ValueError, match="static shape"):
        specify_shape(pt.tensor("s", shape=(2, 3)), (3, 3))
    with pytest.raises(ValueError, match="ndim=2"):
        specify_shape(x, (3,))
    verify_grad(lambda v: specify_shape(v, (2, 3)) * 2, [np.ones((2, 3))])


def test_type_convert_variable_uses_specify_shape():
    x = pt.matrix("x")
    target = pt.tensor("t", shape=(2, None)).type
    conv = target.convert_variable(x)
    assert conv is not None and conv.type == target
    assert isinstance(conv.owner.op, SpecifyShape)


@st.composite
def reshape_case(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4))
    size = int(np.prod(shape))
    # A new shape: factor the size into random pieces.
    new = []
    rest = size
    for _ in range(draw(st.integers(0, 3))):
        divisors = [d for d in range(1, rest + 1) if rest % d == 0]
        d = draw(st.sampled_from(divisors))
        new.append(d)
        rest //= d
    new.append(rest)
    if draw(st.booleans()):
        new[draw(st.integers(0, len(new) - 1))] = -1
    return np.arange(size, dtype="float64").reshape(shape), tuple(new)


@given(case=reshape_case(), static=st.booleans())
def test_reshape_matches_numpy(case, static):
    data, new = case
    x = _var(data, static=static)
    y = pt.reshape(x, new)
    expected = data.reshape(new)
    np.testing.assert_array_equal(y.eval({x: data}), expected)
    assert str(y.owner.op) == f"Reshape{{{len(new)}}}"
    if static or data.ndim == 0:  # a 0-d input's shape is always fully known
        assert y.type.shape == expected.shape
    else:
        assert y.type.shape == tuple(None if s == -1 else s for s in new)
    _eval_infer_shape(y, {x: data})


def test_reshape_symbolic_entries_and_shape_vectors():
    x = pt.matrix("x")
    data = np.arange(12.0).reshape(3, 4)
    n = pt.scalar("n", dtype="int64")
    y = x.reshape((n, -1))
    assert y.type.shape == (None, None)
    np.testing.assert_array_equal(y.eval({x: data, n: 2}), data.reshape(2, -1))
    _eval_infer_shape(y, {x: data, n: 2})
    v = pt.vector("v")
    z = v.reshape(x.shape)
    np.testing.assert_array_equal(z.eval({v: data.ravel(), x: data}), data)
    assert x.reshape(12).type.shape == (12,)
    assert x.reshape(2, 6).eval({x: data}).shape == (2, 6)
    verify_grad(lambda a: a.reshape((4, 3)), [data])


def test_reshape_errors():
    x = pt.tensor("x", shape=(2, 3))
    with pytest.raises(ValueError, match="cannot reshape"):
        x.reshape((4,))
    with pytest.raises(ValueError, match="at most one -1"):
        x.reshape((-1, -1))
    with pytest.raises(TypeError, match="shape entries"):
        x.reshape((2.5, 2))
    with pytest.raises(Exception, match="reshape"):
        pt.matrix("m").reshape((5,)).eval({"m": np.ones((2, 3))})


@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3), data=st.data())
def test_flatten(shape, data):
    arr = np.arange(int(np.prod(shape)), dtype="float64").reshape(shape)
    ndim = data.draw(st.integers(1, max(arr.ndim, 1)))
    static = data.draw(st.booleans())
    x = _var(arr, static=static)
    y = pt.flatten(x, ndim)
    expected = arr.reshape(arr.shape[:ndim - 1] + (int(np.prod(arr.shape[ndim - 1:])),))
    np.testing.assert_array_equal(y.eval({x: arr}), expected)
    assert y.type.ndim == ndim
    if static:
        assert y.type.shape == expected.shape


def test_flatten_bad_ndim():
    with pytest.raises(ValueError, match="ndim=3"):
        pt.flatten(pt.matrix("x"), 3)


def test_squeeze():
    x = pt.tensor("x", shape=(1, None, 1, 3))
    y = x.squeeze()
    assert str(y.owner.op) == "Squeeze{axes=[0, 2]}"
    assert y.type.shape == (None, 3)
    data = np.ones((1, 4, 1, 3))
    assert y.eval({x: data}).shape == (4, 3)
    assert str(pt.squeeze(x, axis=-2).owner.op) == "Squeeze{axis=2}"
    m = pt.matrix("m")
    assert m.squeeze() is m  # nothing known to be 1
    # An axis of unknown length is asserted to be 1 at run time.
    s = pt.squeeze(m, axis=0)
    assert s.type.shape == (None,)
    assert isinstance(s.owner.inputs[0].owner.op, SpecifyShape)
    np.testing.assert_array_equal(s.eval({m: np.ones((1, 2))}), [1.0, 1.0])
    with pytest.raises(Exception, match="expected 1"):
        s.eval({m: np.ones((2, 2))})
    with pytest.raises(ValueError, match="axis 3 .* has length 3, not 1"):
        pt.squeeze(x, axis=3)
    with pytest.raises(ValueError, match=r"axis 4 .*ndim=4"):
        pt.squeeze(x, axis=4)
    verify_grad(lambda a: pt.squeeze(a, axis=0), [np.ones((1, 3))])


def test_seed_squeeze_of_outer_product():
    z = pt.vector("z")
    inner = pt.expand_dims(z, 0)
    y = pt.tensor("y", shape=(1, 1))
    assert str(y.squeeze().owner.op) == "Squeeze{axes=[0, 1]}"
    assert str(inner.squeeze().owner.op) == "Squeeze{axis=0}"


@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3), data=st.data())
def test_transpose(shape, data):
    arr = np.arange(int(np.prod(shape)), dtype="float64").reshape(shape)
    x = _var(arr)
    perm = data.draw(st.permutations(range(arr.ndim)))
    neg = [p - arr.ndim if i % 2 else p for i, p in enumerate(perm)]
    np.testing.assert_array_equal(pt.transpose(x, neg).eval({x: arr}), np.transpose(arr, perm))
    np.testing.assert_array_equal(x.T.eval({x: arr}), arr.T)
    np.testing.assert_array_equal(x.transpose(*perm).eval({x: arr}) if perm else arr, np.transpose(arr, perm))


def test_transpose_names_and_errors():
    x = pt.matrix("X")
    t = x.T
    assert str(t.owner.op) == "Transpose{axes=[1, 0]}"
    assert t.name == "X.T"
    v = pt.vector("v")
    assert v.T is v
    with pytest.raises(ValueError, match="not a permutation"):
        pt.transpose(x, (0, 0))
    with pytest.raises(ValueError, match=r"axis 2 .*ndim=2"):
        pt.transpose(x, (0, 2))
    verify_grad(lambda a: pt.transpose(a, (2, 0, 1)), [np.random.default_rng(0).normal(size=(2, 3, 4))])


def test_op_props():
    assert Reshape(2) == Reshape(2) and Reshape(2) != Reshape(3)
    assert Shape() == Shape()
    assert SpecifyShape((0,)) != SpecifyShape((1,))

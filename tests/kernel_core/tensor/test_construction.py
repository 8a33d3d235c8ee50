"""Alloc / zeros / ones / full / empty / broadcast_to / arange / eye / tri(l/u) against NumPy."""

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import opgraph.tensor as pt
from opgraph.kernel_core.gradient import verify_grad
from opgraph.kernel_core.tensor.construction import Alloc, AllocEmpty, ARange, Eye
from opgraph.kernel_core.tensor.shape import shape_i

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)


def _eval_infer_shape(out, givens):
    node = out.owner
    ishapes = [tuple(shape_i(i, d) for d in range(i.type.ndim)) for i in node.inputs]
    oshape = node.op.infer_shape(None, node, ishapes)[out.index]
    got = tuple(int(s) if isinstance(s, (int, np.integer)) else int(s.eval(givens)) for s in oshape)
    assert got == out.eval(givens).shape


@given(shape=shapes, dtype=st.sampled_from(["float64", "float32", "int8", "int64", "bool"]))
def test_zeros_ones_full_empty(shape, dtype):
    np.testing.assert_array_equal(pt.zeros(shape, dtype=dtype).eval(), np.zeros(shape, dtype=dtype))
    one = pt.ones(shape, dtype=dtype)
    assert one.dtype == dtype and one.type.shape == shape
    np.testing.assert_array_equal(one.eval(), np.ones(shape, dtype=dtype))
    f = pt.full(shape, 3, dtype=dtype).eval()
    np.testing.assert_array_equal(f, np.full(shape, 3, dtype=dtype))
    assert f.dtype == dtype
    e = pt.empty(shape, dtype=dtype)
    assert e.eval().shape == shape and e.dtype == dtype


def test_default_dtypes_and_names():
    assert pt.zeros((2,)).dtype == "float64"
    assert pt.full((2,), 1.5).dtype == "float64"
    assert str(pt.zeros((2,)).owner.op) == "Alloc"
    assert str(pt.empty((2,)).owner.op) == "AllocEmpty{dtype='float64'}"
    assert str(pt.arange(3).owner.op) == "ARange{dtype='int8'}"
    assert str(pt.eye(3).owner.op) == "Eye{dtype='float64'}"
    assert pt.zeros(3).type.shape == (3,)


def test_symbolic_shapes():
    n = pt.scalar("n", dtype="int64")
    x = pt.matrix("x")
    z = pt.zeros((n, x.shape[1]))
    assert z.type.shape == (None, None)
    out = z.eval({n: 2, x: np.ones((5, 3))})
    np.testing.assert_array_equal(out, np.zeros((2, 3)))
    _eval_infer_shape(z, {n: 2, x: np.ones((5, 3))})
    np.testing.assert_array_equal(pt.ones(x.shape).eval({x: np.ones((2, 4))}), np.ones((2, 4)))
    np.testing.assert_array_equal(pt.ones(n).eval({n: 3}), np.ones(3))


@st.composite
def broadcast_case(draw):
    target = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    k = draw(st.integers(0, len(target)))
    src = tuple(1 if draw(st.booleans()) else s for s in target[len(target) - k:])
    return np.arange(int(np.prod(src)), dtype="float64").reshape(src), target


@given(case=broadcast_case(), static=st.booleans())
def test_broadcast_to_and_alloc(case, static):
    data, target = case
    x = pt.tensor("x", shape=data.shape if static else tuple(1 if s == 1 else None for s in data.shape))
    out = pt.broadcast_to(x, target)
    assert isinstance(out.owner.op, Alloc)
    assert out.type.shape == target
    np.testing.assert_array_equal(out.eval({x: data}), np.broadcast_to(data, target))
    _eval_infer_shape(out, {x: data})


def test_alloc_errors_and_gradient():
    x = pt.tensor("x", shape=(3,))
    with pytest.raises(ValueError, match=r"shape \(3,\) cannot be broadcast to length 4 at axis 1"):
        pt.alloc(x, 2, 4)
    with pytest.raises(ValueError, match="ndim=1"):
        pt.alloc(x)
    v = pt.vector("v")
    with pytest.raises(Exception, match="cannot be broadcast"):
        pt.alloc(v, 2, 4).eval({v: np.ones(3)})
    rng = np.random.default_rng(0)
    verify_grad(lambda a: pt.alloc(a, 2, 3), [rng.normal(size=3)])
    verify_grad(lambda a: pt.alloc(a, 4, 2, 3), [rng.normal(size=(1, 3))])
    verify_grad(lambda a: pt.alloc(a, 2, 3), [rng.normal(size=())])


@given(start=st.integers(-5, 5), stop=st.integers(-5, 10), step=st.integers(-3, 3).filter(bool))
def test_arange_matches_numpy(start, stop, step):
    out = pt.arange(start, stop, step)
    expected = np.arange(start, stop, step)
    got = out.eval()
    np.testing.assert_array_equal(got, expected)
    assert out.type.shape == expected.shape
    a, b = pt.scalar("a", dtype="int64"), pt.scalar("b", dtype="int64")
    sym = pt.arange(a, b, step)
    np.testing.assert_array_equal(sym.eval({a: start, b: stop}), expected)
    _eval_infer_shape(sym, {a: start, b: stop})


def test_arange_float_and_gradient():
    np.testing.assert_allclose(pt.arange(0.0, 1.0, 0.25).eval(), np.arange(0.0, 1.0, 0.25))
    assert pt.arange(pt.scalar("n", dtype="int64")).dtype == "int64"
    with pytest.raises(ValueError, match="step"):
        pt.arange(0, 5, 0)
    verify_grad(lambda s, d: pt.arange(s, 3.0, d), [np.array(0.5), np.array(0.7)])


@given(n=st.integers(0, 4), m=st.integers(0, 4), k=st.integers(-3, 3))
def test_eye_and_tri(n, m, k):
    np.testing.assert_array_equal(pt.eye(n, m, k).eval(), np.eye(n, m, k))
    np.testing.assert_array_equal(pt.tri(n, m, k, dtype="int64").eval(), np.tri(n, m, k, dtype="int64"))
    data = np.arange(n * m, dtype="float64").reshape(n, m) + 1
    x = pt.matrix("x")
    np.testing.assert_array_equal(pt.tril(x, k).eval({x: data}), np.tril(data, k))
    np.testing.assert_array_equal(pt.triu(x, k).eval({x: data}), np.triu(data, k))
    sym = pt.eye(pt.scalar("n", dtype="int64"))
    _eval_infer_shape(sym, {"n": n})


def test_tril_batched_and_gradient():
    x = pt.tensor3("x")
    data = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(pt.tril(x, -1).eval({x: data}), np.tril(data, -1))
    verify_grad(lambda a: pt.triu(a), [np.random.default_rng(0).normal(size=(3, 3))])
    with pytest.raises(ValueError, match="ndim=1"):
        pt.tril(pt.vector("v"))


def test_props():
    assert AllocEmpty("float64") == AllocEmpty("float64") != AllocEmpty("int64")
    assert ARange("int64") != ARange("int8")
    assert Eye("float32") == Eye("float32")

"""Join / concatenate / stack / MakeVector / Split against NumPy."""

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import opgraph.tensor as pt
from opgraph.kernel_core.gradient import grad, verify_grad
from opgraph.kernel_core.tensor.join import Join, MakeVector, Split, make_vector, split
from opgraph.kernel_core.tensor.shape import shape_i

DTYPES = ["float64", "float32", "int8", "int64", "bool"]


def _eval_infer_shape(out, givens):
    node = out.owner
    ishapes = [tuple(shape_i(i, d) for d in range(i.type.ndim)) for i in node.inputs]
    oshape = node.op.infer_shape(None, node, ishapes)[out.index]
    got = tuple(int(s) if isinstance(s, (int, np.integer)) else int(s.eval(givens)) for s in oshape)
    assert got == out.eval(givens).shape


@st.composite
def join_case(draw):
    nd = draw(st.integers(1, 3))
    base = list(draw(hnp.array_shapes(min_dims=nd, max_dims=nd, min_side=0, max_side=3)))
    axis = draw(st.integers(-nd, nd - 1))
    n = draw(st.integers(1, 3))
    arrays = []
    for _ in range(n):
        shape = list(base)
        shape[axis] = draw(st.integers(0, 3))
        dtype = draw(st.sampled_from(DTYPES))
        arrays.append(np.arange(int(np.prod(shape))).reshape(shape).astype(dtype))
    return arrays, axis


@given(case=join_case(), static=st.booleans())
def test_concatenate_matches_numpy(case, static):
    arrays, axis = case
    xs = [pt.tensor(f"x{i}", shape=a.shape if static else (None,) * a.ndim, dtype=a.dtype.name)
          for i, a in enumerate(arrays)]
    out = pt.concatenate(xs, axis=axis)
    givens = dict(zip(xs, arrays))
    expected = np.concatenate(arrays, axis=axis)
    got = out.eval(givens)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    if static:
        assert out.type.shape == expected.shape
    if len(arrays) > 1:
        assert str(out.owner.op) == "Join"
        _eval_infer_shape(out, givens)
    np.testing.assert_array_equal(pt.join(axis, *xs).eval(givens), expected)


@given(case=join_case())
def test_stack_matches_numpy(case):
    arrays, _ = case
    shape = arrays[0].shape
    arrays = [np.full(shape, i, dtype=a.dtype) for i, a in enumerate(arrays)]
    nd = len(shape)
    for axis in range(-(nd + 1), nd + 1):
        xs = [pt.tensor(f"x{i}", shape=(None,) * nd, dtype=a.dtype.name) for i, a in enumerate(arrays)]
        got = pt.stack(xs, axis=axis).eval(dict(zip(xs, arrays)))
        np.testing.assert_array_equal(got, np.stack(arrays, axis=axis))


def test_stack_scalars_is_make_vector():
    a, b = pt.scalar("a"), pt.scalar("b")
    s = pt.stack([a, b])
    assert isinstance(s.owner.op, MakeVector)
    assert str(s.owner.op) == "MakeVector{dtype='float64'}"
    np.testing.assert_array_equal(s.eval({a: 1.0, b: 2.0}), [1.0, 2.0])
    m = pt.stack([pt.vector("u"), pt.vector("w")], axis=1)
    assert str(m.owner.op) == "Join"


def test_make_vector():
    n = pt.scalar("n", dtype="int64")
    v = make_vector(n, 3)
    assert str(v.owner.op) == "MakeVector{dtype='int64'}"
    assert v.type.shape == (2,)
    np.testing.assert_array_equal(v.eval({n: 7}), [7, 3])
    _eval_infer_shape(v, {n: 7})
    with pytest.raises(TypeError, match="scalars"):
        make_vector(pt.vector("x"))
    with pytest.raises(TypeError, match="downcast"):
        MakeVector("int8")(n)
    x, y = pt.scalar("x"), pt.scalar("y")
    verify_grad(lambda a, b: make_vector(a, 2 * b), [np.array(1.5), np.array(-0.5)])
    assert MakeVector("int64").L_op([n], [v], [None]) == [None]


def test_as_tensor_of_list_with_variables_stacks():
    a = pt.scalar("a")
    v = pt.as_tensor_variable([a, 1.0])
    np.testing.assert_array_equal(v.eval({a: 3.0}), [3.0, 1.0])


def test_join_gradient_and_split():
    rng = np.random.default_rng(0)
    verify_grad(lambda a, b: pt.concatenate([a, b], axis=1), [rng.normal(size=(2, 3)), rng.normal(size=(2, 1))])
    verify_grad(lambda a, b: pt.stack([a, b], axis=-1), [rng.normal(size=(2, 3)), rng.normal(size=(2, 3))])
    x = pt.matrix("x")
    y = pt.concatenate([x, 2 * x], axis=0)
    g = grad(y.sum(), x)
    np.testing.assert_allclose(g.eval({x: np.ones((2, 2))}), np.full((2, 2), 3.0))
    parts = split(x, [1, 2], 2, axis=1)
    assert str(parts[0].owner.op) == "Split{2}"
    data = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(parts[1].eval({x: data}), data[:, 1:])
    assert parts[0].type.shape == (None, 1)
    with pytest.raises(Exception, match="do not add up"):
        parts[0].eval({x: np.ones((2, 4))})
    _eval_infer_shape(parts[1], {x: data})


def test_join_errors():
    a, b = pt.matrix("a"), pt.vector("b")
    with pytest.raises(ValueError, match="same ndim"):
        pt.concatenate([a, b])
    s1, s2 = pt.tensor("s1", shape=(2, 3)), pt.tensor("s2", shape=(3, 3))
    with pytest.raises(ValueError, match=r"shapes differ at axis 0.*s1 with shape \(2, 3\).*s2 with shape \(3, 3\)"):
        pt.concatenate([s1, s2], axis=1)
    with pytest.raises(ValueError, match=r"axis 2 .*ndim=2"):
        pt.concatenate([a, a], axis=2)
    with pytest.raises(ValueError, match="0-d"):
        pt.concatenate([pt.scalar("x"), pt.scalar("y")])
    with pytest.raises(Exception, match="Join"):  # run-time mismatch names the node
        pt.concatenate([a, pt.matrix("c")], axis=1).eval({a: np.ones((2, 2)), "c": np.ones((3, 2))})
    with pytest.raises(ValueError, match="axis 3"):
        pt.stack([a, a], axis=3)
    assert Join() == Join() and Split(2) != Split(3)

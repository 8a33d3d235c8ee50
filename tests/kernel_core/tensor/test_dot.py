"""Products against NumPy: Dot, dot, matmul (``@`` as Blockwise dot), outer, tensordot;
printing, static shapes, infer_shape, pullbacks and error messages."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import opgraph.tensor as pt
from opgraph.kernel_core.gradient import verify_grad
from opgraph.kernel_core.tensor.blockwise import Blockwise
from opgraph.kernel_core.tensor.dot import Dot, dot, matmul, outer, tensordot
from opgraph.kernel_core.tensor.shape import shape_i

FAST = settings(max_examples=25, deadline=None)
DTYPES = ["float64", "float32", "int32", "int8"]


def _var(data, name):
    return pt.tensor(name, shape=(None,) * data.ndim, dtype=data.dtype.name)


def _eval_infer_shape(out, givens):
    node = out.owner
    ishapes = [tuple(shape_i(i, d) for d in range(i.type.ndim)) for i in node.inputs]
    oshape = node.op.infer_shape(None, node, ishapes)[out.index]
    got = tuple(int(s) if isinstance(s, (int, np.integer)) else int(s.eval(givens)) for s in oshape)
    assert got == out.eval(givens).shape


def _rand(rng, shape, dtype):
    if dtype.startswith("int"):
        return rng.integers(-3, 4, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def test_seed_002_matmul_graph_golden():
    x = pt.vector("x", shape=(None,))
    z = pt.exp(pt.sin(x))
    out = pt.cos((z[None, :] @ z[:, None]).squeeze())
    assert out.dprint(file="str") == (
        "Cos [id A]\n"
        " └─ Squeeze{axes=[0, 1]} [id B]\n"
        "    └─ Blockwise{dot, (m,k),(k,n)->(m,n)} [id C]\n"
        "       ├─ ExpandDims{axis=0} [id D]\n"
        "       │  └─ Exp [id E]\n"
        "       │     └─ Sin [id F]\n"
        "       │        └─ x [id G]\n"
        "       └─ ExpandDims{axis=1} [id H]\n"
        "          └─ Exp [id E]\n"
        "             └─ ···\n"
    )
    data = np.array([0.3, -1.0, 2.0])
    zz = np.exp(np.sin(data))
    np.testing.assert_allclose(out.eval({x: data}), np.cos(zz @ zz))


def test_seed_002_matrix_at_vector_golden():
    X = pt.tensor("X", shape=(None, None))
    beta = pt.tensor("beta", shape=(None,))
    out = X @ beta
    assert out.dprint(file="str") == (
        "Squeeze{axis=1} [id A]\n"
        " └─ Blockwise{dot, (m,k),(k,n)->(m,n)} [id B]\n"
        "    ├─ X [id C]\n"
        "    └─ ExpandDims{axis=1} [id D]\n"
        "       └─ beta [id E]\n"
    )


def test_dot_op_name_props_and_static_shape():
    a, b = pt.tensor("a", shape=(2, 3)), pt.tensor("b", shape=(3, None))
    out = dot(a, b)
    assert isinstance(out.owner.op, Dot) and str(out.owner.op) == "dot"
    assert out.type.shape == (2, None)
    assert Dot() == Dot() and hash(Dot()) == hash(Dot())
    assert dot(pt.vector("v", shape=(3,)), pt.vector("w")).type.shape == ()


def test_dot_mismatch_names_both_shapes():
    a, b = pt.tensor("a", shape=(2, 3)), pt.tensor("b", shape=(4, 5))
    with pytest.raises(ValueError, match=r"dot: shapes \(2, 3\) of a and \(4, 5\) of b .*3 != 4"):
        dot(a, b)
    with pytest.raises(ValueError, match=r"matmul: .*3 != 4"):
        a @ b
    with pytest.raises(ValueError, match="scalars"):
        matmul(pt.scalar("s"), a)
    x, y = pt.matrix("x"), pt.matrix("y")
    with pytest.raises(Exception, match="not aligned"):
        dot(x, y).eval({x: np.ones((2, 3)), y: np.ones((2, 3))})


@FAST
@given(nx=st.sampled_from([1, 2]), ny=st.sampled_from([1, 2]), m=st.integers(0, 4), k=st.integers(0, 4),
       n=st.integers(0, 4), dtypes=st.tuples(st.sampled_from(DTYPES), st.sampled_from(DTYPES)))
def test_dot_matches_numpy(nx, ny, m, k, n, dtypes):
    rng = np.random.default_rng(0)
    a = _rand(rng, (m, k)[-nx:] if nx == 1 else (m, k), dtypes[0])
    b = _rand(rng, (k,) if ny == 1 else (k, n), dtypes[1])
    if nx == 1:
        a = _rand(rng, (k,), dtypes[0])
    va, vb = _var(a, "a"), _var(b, "b")
    out = dot(va, vb)
    expected = np.dot(a, b)
    got = out.eval({va: a, vb: b})
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    _eval_infer_shape(out, {va: a, vb: b})


@FAST
@given(a_shape=st.sampled_from([(3,), (2, 3), (1, 2, 3), (4, 2, 3), (2, 1, 2, 3)]),
       b_shape=st.sampled_from([(3,), (3, 2), (1, 3, 2), (4, 3, 2), (4, 1, 3, 0)]),
       dtype=st.sampled_from(["float64", "int32"]))
def test_matmul_matches_numpy_with_batch_broadcasting(a_shape, b_shape, dtype):
    rng = np.random.default_rng(1)
    a, b = _rand(rng, a_shape, dtype), _rand(rng, b_shape, dtype)
    try:
        expected = np.matmul(a, b)
    except ValueError:
        return
    # Static shapes so length-1 batch dims are declared broadcastable.
    va = pt.tensor("a", shape=a.shape, dtype=dtype)
    vb = pt.tensor("b", shape=b.shape, dtype=dtype)
    out = va @ vb
    got = out.eval({va: a, vb: b})
    np.testing.assert_allclose(got, expected)
    assert out.type.shape == expected.shape


def test_matmul_runtime_broadcast_of_unknown_batch_dim_is_rejected():
    a, b = pt.tensor3("a"), pt.tensor3("b")
    with pytest.raises(Exception, match="runtime length 1"):
        (a @ b).eval({a: np.ones((1, 2, 2)), b: np.ones((3, 2, 2))})


def test_dot_of_scalar_is_mul_and_high_rank_is_tensordot():
    s, m = pt.scalar("s"), pt.matrix("m")
    assert str(dot(s, m).owner.op) == "Mul"
    a, b = pt.tensor3("a"), pt.tensor3("b")
    rng = np.random.default_rng(2)
    av, bv = rng.random((2, 3, 4)), rng.random((5, 4, 6))
    np.testing.assert_allclose(dot(a, b).eval({a: av, b: bv}), np.dot(av, bv))


@FAST
@given(case=st.sampled_from([
    ((2, 3, 4), (4, 3, 5), ([1, 2], [1, 0])),
    ((2, 3), (3, 2), 1),
    ((2, 3), (2, 3), 2),
    ((2, 3), (4,), 0),
    ((3, 4, 5), (5, 4), ([2, 1], [0, 1])),
    ((0, 3), (3, 2), 1),
]))
def test_tensordot_matches_numpy(case):
    a_shape, b_shape, axes = case
    rng = np.random.default_rng(3)
    a, b = rng.random(a_shape), rng.random(b_shape)
    va, vb = _var(a, "a"), _var(b, "b")
    out = tensordot(va, vb, axes)
    np.testing.assert_allclose(out.eval({va: a, vb: b}), np.tensordot(a, b, axes))


def test_tensordot_errors():
    a, b = pt.tensor("a", shape=(2, 3)), pt.tensor("b", shape=(4, 2))
    with pytest.raises(ValueError, match="length 3 .* length 4"):
        tensordot(a, b, [[1], [0]])
    with pytest.raises(ValueError, match="out of bounds"):
        tensordot(a, b, [[5], [0]])


def test_outer():
    x, y = pt.vector("x"), pt.vector("y")
    out = outer(x, y)
    assert isinstance(out.owner.op, Dot)
    np.testing.assert_allclose(out.eval({x: [1.0, 2.0], y: [3.0, 4.0, 5.0]}), np.outer([1, 2], [3, 4, 5]))


@pytest.mark.parametrize("shapes", [((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)), ((3,), (3,))])
def test_dot_gradients(shapes):
    rng = np.random.default_rng(4)
    verify_grad(dot, [rng.random(shapes[0]), rng.random(shapes[1])], rng=rng)


@pytest.mark.parametrize("shapes", [((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)), ((3,), (3,)),
                                    ((2, 2, 3), (3, 4)), ((1, 2, 3), (2, 3, 2))])
def test_matmul_gradients(shapes):
    rng = np.random.default_rng(5)
    verify_grad(matmul, [rng.random(shapes[0]), rng.random(shapes[1])], rng=rng)


def test_tensordot_and_outer_gradients():
    rng = np.random.default_rng(6)
    verify_grad(lambda a, b: tensordot(a, b, [[1, 2], [1, 0]]), [rng.random((2, 3, 4)), rng.random((4, 3, 2))],
                rng=rng)
    verify_grad(outer, [rng.random(3), rng.random(2)], rng=rng)


def test_matmul_is_blockwise_even_without_batch_dims():
    out = pt.matrix("a") @ pt.matrix("b")
    assert isinstance(out.owner.op, Blockwise) and out.owner.op.core_op == Dot()

"""vectorize_graph per-op batching rules, the Blockwise fallback, and pt.vectorize, against NumPy."""

import numpy as np
import pytest

import opgraph.tensor as pt
from opgraph.graph.replace import vectorize_graph
from opgraph.kernel_core.graph.basic import Apply
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.tensor.blockwise import Blockwise
from opgraph.kernel_core.vectorize import vectorize_node

SEED_002_VECTORIZED = """\
Log [id A] <Vector(float64, shape=(?,))>
 └─ Add [id B] <Vector(float64, shape=(?,))>
    ├─ ExpandDims{axis=0} [id C] <Vector(int8, shape=(1,))>
    │  └─ 1 [id D] <Scalar(int8, shape=())>
    └─ x_vec [id E] <Vector(float64, shape=(?,))>
"""

RNG = np.random.default_rng(7)


def test_seed_002_scalar_graph_vectorized_to_vector():
    x = pt.dscalar("x")
    y = pt.log(1 + x)
    x_vec = pt.tensor("x_vec", shape=(None,))
    y_vec = vectorize_graph(y, {x: x_vec})
    assert y_vec.dprint(file="str", print_type=True) == SEED_002_VECTORIZED
    np.testing.assert_allclose(y_vec.eval({x_vec: [0.0, 1.0, 2.0]}), np.log1p([0.0, 1.0, 2.0]))
    # The original graph is untouched.
    assert y.type.ndim == 0


def test_seed_000_batched_matrix_vector_dot():
    A, v = pt.dmatrix("A"), pt.dvector("v")
    out = pt.dot(A, v)
    T = pt.dtensor3("T")
    batched = vectorize_graph(out, {A: T})
    assert isinstance(batched.owner.op, Blockwise)
    assert str(batched.owner.op) == "Blockwise{dot, (m,k),(k)->(m)}"
    Tv, vv = RNG.normal(size=(4, 2, 3)), RNG.normal(size=3)
    np.testing.assert_allclose(batched.eval({T: Tv, v: vv}), Tv @ vv)
    # Downstream computations see the new batch dimension.
    total = vectorize_graph(pt.exp(out).sum(), {A: T})
    np.testing.assert_allclose(total.eval({T: Tv, v: vv}), np.exp(Tv @ vv).sum(axis=(1,)))


def test_batched_matmul_matrix_matrix_signature():
    a, b = pt.dmatrix("a"), pt.dmatrix("b")
    out = pt.dot(a, b)
    bb = pt.dtensor3("bb")
    r = vectorize_graph(out, {b: bb})
    assert str(r.owner.op) == "Blockwise{dot, (m,k),(k,n)->(m,n)}"
    av, bv = RNG.normal(size=(2, 3)), RNG.normal(size=(5, 3, 4))
    np.testing.assert_allclose(r.eval({a: av, bb: bv}), av @ bv)


def test_matmul_blockwise_gains_more_batch_dims():
    a, b = pt.dtensor3("a"), pt.dmatrix("b")
    out = a @ b  # already a Blockwise over a's batch dim
    b4 = pt.dtensor3("b4")
    r = vectorize_graph(out, {b: b4})
    av, bv = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(5, 4, 2))
    # b's new batch dim (5) goes in front of a's old one (2).
    expected = np.stack([av @ bv[i] for i in range(5)])
    np.testing.assert_allclose(r.eval({a: av, b4: bv}), expected)


def test_elemwise_unbatched_input_of_higher_rank_does_not_misalign():
    x = pt.dscalar("x")
    w = pt.dvector("w")
    y = x * w  # core: (n,)
    xb = pt.dvector("xb")  # batch of scalars: (B,)
    r = vectorize_graph(y, {x: xb})
    xv, wv = np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])
    np.testing.assert_allclose(r.eval({xb: xv, w: wv}), xv[:, None] * wv[None, :])


CASES = {
    # name: (core builder on a (3, 4) matrix x, numpy equivalent on the core)
    "dimshuffle": (lambda x: x.T[:, None, :], lambda a: a.T[:, None, :]),
    "sum_all": (lambda x: x.sum(), lambda a: a.sum()),
    "sum_axis1": (lambda x: pt.sum(x, axis=1), lambda a: a.sum(axis=1)),
    "max_keepdims": (lambda x: pt.max(x, axis=0, keepdims=True), lambda a: a.max(axis=0, keepdims=True)),
    "mean": (lambda x: pt.mean(x, axis=0), lambda a: a.mean(axis=0)),
    "argmax_axis": (lambda x: pt.argmax(x, axis=1), lambda a: a.argmax(axis=1)),
    "argmax_flat": (lambda x: pt.argmax(x), lambda a: a.argmax()),
    "subtensor": (lambda x: x[1:, 2], lambda a: a[1:, 2]),
    "subtensor_neg": (lambda x: x[-1], lambda a: a[-1]),
    "adv_subtensor": (lambda x: x[[0, 2]], lambda a: a[[0, 2]]),
    "set_subtensor": (lambda x: pt.set_subtensor(x[0], x[1] * 2), None),
    "inc_subtensor_scalar": (lambda x: pt.inc_subtensor(x[1:, 1], 5.0), None),
    "shape": (lambda x: x * x.shape[0], lambda a: a * a.shape[0]),
    "reshape": (lambda x: x.reshape((2, 6)), lambda a: a.reshape((2, 6))),
    "reshape_minus1": (lambda x: x.reshape((-1,)), lambda a: a.reshape((-1,))),
    "flatten": (lambda x: pt.flatten(x), lambda a: a.ravel()),
    "specify_shape": (lambda x: pt.specify_shape(x, (3, 4)) + 1, lambda a: a + 1),
    "join": (lambda x: pt.concatenate([x, x * 2], axis=0), lambda a: np.concatenate([a, a * 2], axis=0)),
    "stack": (lambda x: pt.stack([x[0], x[1]]), lambda a: np.stack([a[0], a[1]])),
    "cumsum": (lambda x: pt.cumsum(x, axis=1), lambda a: np.cumsum(a, axis=1)),
    "sort": (lambda x: pt.sort(x, axis=0), lambda a: np.sort(a, axis=0)),
    "argsort": (lambda x: pt.argsort(x, axis=1), lambda a: np.argsort(a, axis=1)),
    "cumprod_flat": (lambda x: pt.cumprod(x), lambda a: np.cumprod(a)),
    "dot_vector": (lambda x: pt.dot(x, pt.as_tensor(np.arange(4.0))), lambda a: a @ np.arange(4.0)),
    "logsumexp": (lambda x: pt.logsumexp(x, axis=1), None),
    "alloc": (lambda x: pt.alloc(x[0, 0], 2, 3), lambda a: np.full((2, 3), a[0, 0])),
}


def _set_sub(a):
    a = a.copy()
    a[0] = a[1] * 2
    return a


def _inc_sub(a):
    a = a.copy()
    a[1:, 1] += 5.0
    return a


def _lse(a):
    return np.log(np.exp(a).sum(axis=1))


NUMPY_EXTRA = {"set_subtensor": _set_sub, "inc_subtensor_scalar": _inc_sub, "logsumexp": _lse}


@pytest.mark.parametrize("name", sorted(CASES))
def test_vectorize_rules_match_numpy_loop(name):
    build, ref = CASES[name]
    ref = ref or NUMPY_EXTRA[name]
    x = pt.dmatrix("x")
    out = build(x)
    xb = pt.dtensor3("xb")
    batched = vectorize_graph(out, {x: xb})
    data = RNG.normal(size=(2, 3, 4))
    result = batched.eval({xb: data})
    expected = np.stack([ref(data[i]) for i in range(2)])
    if result.shape != expected.shape:
        # Outputs that do not depend on the batch (e.g. shapes) broadcast against it.
        result = np.broadcast_to(result, expected.shape)
    np.testing.assert_allclose(result, expected)


def test_two_batch_dims_and_mixed_batching():
    x, y = pt.dvector("x"), pt.dvector("y")
    out = pt.dot(x, y) + x.sum()
    xb = pt.dtensor3("xb")  # batch (2, 3)
    yb = pt.dmatrix("yb")  # batch (3,) broadcasts against (2, 3)
    r = vectorize_graph(out, {x: xb, y: yb})
    xv, yv = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(3, 4))
    np.testing.assert_allclose(r.eval({xb: xv, yb: yv}), (xv * yv).sum(-1) + xv.sum(-1))


def test_list_outputs_and_unbatched_outputs_reused():
    x, w = pt.dvector("x"), pt.dvector("w")
    a, b = pt.exp(x), pt.sin(w)
    ra, rb = vectorize_graph([a, b], {x: pt.dmatrix("xm")})
    assert rb is b
    assert ra.type.ndim == 2


def test_replacement_with_fewer_dims_is_rejected():
    x = pt.dmatrix("x")
    with pytest.raises(ValueError, match="fewer dimensions"):
        vectorize_graph(pt.exp(x), {x: pt.dvector("v")})


class _RowNorms(Op):
    """A custom op with no batching rule: Blockwise fallback over its gufunc signature."""

    gufunc_signature = "(m,n)->(m)"

    def make_node(self, x):
        x = pt.as_tensor_variable(x)
        return Apply(self, [x], [pt.TensorType(x.type.dtype, (x.type.shape[0],)).make_variable()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.sqrt((inputs[0] ** 2).sum(axis=1))


def test_blockwise_fallback_for_ops_without_rule():
    x = pt.dmatrix("x")
    out = _RowNorms()(x)
    xb = pt.dtensor3("xb")
    r = vectorize_graph(out, {x: xb})
    assert str(r.owner.op).startswith("Blockwise{_RowNorms, (m,n)->(m)}")
    data = RNG.normal(size=(2, 3, 4))
    np.testing.assert_allclose(r.eval({xb: data}), np.sqrt((data ** 2).sum(-1)))


def test_axis_ops_shift_their_axis_instead_of_blockwise():
    x = pt.dmatrix("x")
    r = vectorize_graph(pt.cumsum(x, axis=1), {x: pt.dtensor3("xb")})
    assert not isinstance(r.owner.op, Blockwise) and r.owner.op.axis == 2


def test_rules_live_in_a_singledispatch_table():
    from opgraph.kernel_core.tensor.elemwise import DimShuffle, Elemwise

    assert vectorize_node.dispatch(Elemwise) is not vectorize_node.dispatch(Op)
    assert vectorize_node.dispatch(DimShuffle) is not vectorize_node.dispatch(Op)
    assert vectorize_node.dispatch(_RowNorms) is vectorize_node.dispatch(Op)


# -- pt.vectorize ---------------------------------------------------------------------
def test_pt_vectorize_scalar_function():
    f = pt.vectorize(lambda a, b: pt.log(1 + a) * b)
    x, y = pt.dvector("x"), pt.dmatrix("y")
    out = f(x, y)
    xv, yv = np.array([0.5, 1.0]), RNG.normal(size=(3, 2))
    np.testing.assert_allclose(out.eval({x: xv, y: yv}), np.vectorize(lambda a, b: np.log1p(a) * b)(xv, yv))


def test_pt_vectorize_with_signature_and_multiple_outputs():
    def f(m, v):
        return pt.dot(m, v), m.sum()

    g = pt.vectorize(f, signature="(m,k),(k)->(m),()")
    M, V = pt.dtensor3("M"), pt.dvector("V")
    o1, o2 = g(M, V)
    Mv, Vv = RNG.normal(size=(4, 2, 3)), RNG.normal(size=3)
    np.testing.assert_allclose(o1.eval({M: Mv, V: Vv}), Mv @ Vv)
    np.testing.assert_allclose(o2.eval({M: Mv}), Mv.sum(axis=(1, 2)))
    ref = np.vectorize(lambda m, v: m @ v, signature="(m,k),(k)->(m)")(Mv, Vv)
    np.testing.assert_allclose(o1.eval({M: Mv, V: Vv}), ref)


def test_pt_vectorize_errors():
    g = pt.vectorize(lambda m: m.sum(), signature="(m,k)->()")
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        g(pt.dvector("v"))
    h = pt.vectorize(lambda m: m, signature="(m)->()")
    with pytest.raises(ValueError, match="signature"):
        h(pt.dmatrix("M"))
    with pytest.raises(TypeError):
        pt.vectorize(3)


def test_batched_dot_keeps_the_readable_signature():
    """Batching a Dot (by vectorize_graph or inside a gradient) names it (m,k),(k,n)->(m,n)."""
    import opgraph

    X, b = pt.tensor3("X"), pt.matrix("b")
    text = opgraph.dprint(opgraph.grad((X @ b).sum(), [X, b]), file="str")
    assert "i00" not in text and "Blockwise{dot, (m,k),(k,n)->(m,n)}" in text
    m, v = pt.matrix("m"), pt.vector("v")
    batched = vectorize_graph(pt.dot(m, v), {m: pt.tensor3("t")})
    assert str(batched.owner.op) == "Blockwise{dot, (m,k),(k)->(m)}"


def test_make_vector_of_batched_scalars_is_a_stack_not_a_blockwise():
    a, b = pt.dscalar("a"), pt.dscalar("b")
    one, two = pt.stack([a]), pt.stack([a, b * 2.0])
    av, bv = pt.vector("av", shape=(4,)), pt.vector("bv", shape=(4,))
    vals = {av: RNG.normal(size=4), bv: RNG.normal(size=4)}
    batched_one = vectorize_graph(one, {a: av})
    assert str(batched_one.owner.op) == "ExpandDims{axis=1}" and batched_one.type.shape == (4, 1)
    np.testing.assert_allclose(batched_one.eval({av: vals[av]}), vals[av][:, None])
    batched_two = vectorize_graph(two, {a: av, b: bv})
    ops = [type(n.op).__name__ for n in _nodes(batched_two)]
    assert "Blockwise" not in ops and "Join" in ops and batched_two.type.shape == (4, 2)
    np.testing.assert_allclose(batched_two.eval(vals), np.stack([vals[av], 2.0 * vals[bv]], axis=-1))
    # Inputs of unknown or different batch shapes keep the Blockwise (it broadcasts them).
    u = pt.vector("u", shape=(1,))
    mixed = vectorize_graph(two, {a: u, b: bv})
    assert isinstance(mixed.owner.op, Blockwise)
    np.testing.assert_allclose(mixed.eval({u: np.ones(1), bv: vals[bv]}),
                               np.stack([np.ones(4), 2.0 * vals[bv]], axis=-1))


def _nodes(var):
    from opgraph.kernel_core.graph.traversal import io_toposort

    return io_toposort([], [var])

"""Blockwise: signature parsing, batch broadcasting, looped and batched perform,
infer_shape, pullbacks (core pullback batched) and errors."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import opgraph.tensor as pt
from opgraph.kernel_core.gradient import verify_grad
from opgraph.kernel_core.graph.basic import Apply
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.blockwise import Blockwise, batch_graph, parse_signature
from opgraph.kernel_core.tensor.dot import Dot
from opgraph.kernel_core.tensor.shape import shape_i
from opgraph.kernel_core.tensor.type import TensorType

FAST = settings(max_examples=25, deadline=None)


class RowSums(Op):
    """A test core op without perform_batched: (m,n)->(m), its own pullback not batch-aware."""

    __props__ = ()

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.type.ndim != 2:
            raise TypeError("RowSums takes a matrix")
        return Apply(self, [x], [TensorType(x.type.dtype, x.type.shape[:1]).make_variable()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0].sum(axis=1)

    def infer_shape(self, fgraph, node, input_shapes):
        return [(input_shapes[0][0],)]

    def L_op(self, inputs, outputs, output_grads):
        (x,), (g,) = inputs, output_grads
        # g[:, None] * ones_like(x)
        return [pt.expand_dims(g, 1) * pt.ones_like(x)]


def _eval_infer_shape(out, givens):
    node = out.owner
    ishapes = [tuple(shape_i(i, d) for d in range(i.type.ndim)) for i in node.inputs]
    oshape = node.op.infer_shape(None, node, ishapes)[out.index]
    got = tuple(int(s) if isinstance(s, (int, np.integer)) else int(s.eval(givens)) for s in oshape)
    assert got == out.eval(givens).shape


def test_parse_signature():
    assert parse_signature("(m,k),(k,n)->(m,n)") == ([("m", "k"), ("k", "n")], [("m", "n")])
    assert parse_signature("(m,m)->()") == ([("m", "m")], [()])
    assert parse_signature("(), (n) -> (n),()") == ([(), ("n",)], [("n",), ()])
    with pytest.raises(ValueError, match="invalid gufunc signature"):
        parse_signature("m,k->m")


def test_str_props_and_equality():
    op = Blockwise(Dot(), "(m,k),(k,n)->(m,n)")
    assert str(op) == "Blockwise{dot, (m,k),(k,n)->(m,n)}"
    assert op == Blockwise(Dot(), "(m,k),(k,n)->(m,n)")
    assert hash(op) == hash(Blockwise(Dot(), "(m,k),(k,n)->(m,n)"))
    assert op != Blockwise(RowSums(), "(m,n)->(m)")
    with pytest.raises(ValueError, match="needs a signature"):
        Blockwise(RowSums())
    with pytest.raises(TypeError, match="needs an Op"):
        Blockwise(np.add, "(),()->()")


def test_static_shape_broadcasts_batch_dims():
    op = Blockwise(Dot(), "(m,k),(k,n)->(m,n)")
    a = pt.tensor("a", shape=(5, 1, 2, 3))
    b = pt.tensor("b", shape=(4, 3, None))
    out = op(a, b)
    assert out.type.shape == (5, 4, 2, None)
    with pytest.raises(ValueError, match="core dimension 'k' is 3 in one input and 4"):
        op(a, pt.tensor("c", shape=(4, 7)))
    with pytest.raises(ValueError, match="needs at least 2 dimensions"):
        op(pt.vector("v"), b)
    with pytest.raises(ValueError, match="Incompatible static shapes"):
        op(pt.tensor("p", shape=(2, 2, 3)), pt.tensor("q", shape=(3, 3, 2)))


@FAST
@given(batch_a=st.sampled_from([(), (1,), (3,), (2, 3), (2, 1)]), batch_b=st.sampled_from([(), (3,), (1, 3), (0,)]),
       m=st.integers(0, 3), k=st.integers(1, 3), n=st.integers(0, 3))
def test_batched_dot_matches_numpy_matmul(batch_a, batch_b, m, k, n):
    rng = np.random.default_rng(0)
    a, b = rng.random(batch_a + (m, k)), rng.random(batch_b + (k, n))
    try:
        expected = np.matmul(a, b)
    except ValueError:
        return
    va, vb = pt.tensor("a", shape=a.shape), pt.tensor("b", shape=(None,) * len(batch_b) + (None, None))
    if 1 in batch_b:
        vb = pt.tensor("b", shape=b.shape)
    out = Blockwise(Dot(), "(m,k),(k,n)->(m,n)")(va, vb)
    got = out.eval({va: a, vb: b})
    np.testing.assert_allclose(got, expected)
    _eval_infer_shape(out, {va: a, vb: b})


@FAST
@given(batch=st.sampled_from([(), (3,), (2, 0), (2, 3)]), m=st.integers(0, 3), n=st.integers(0, 3))
def test_looped_perform_matches_numpy(batch, m, n):
    x = pt.tensor("x", shape=(None,) * (len(batch) + 2))
    data = np.random.default_rng(1).random(batch + (m, n))
    out = Blockwise(RowSums(), "(m,n)->(m)")(x)
    got = out.eval({x: data})
    np.testing.assert_allclose(got, data.sum(-1))
    assert got.shape == batch + (m,)
    _eval_infer_shape(out, {x: data})


def test_gradient_through_batched_core_pullback():
    rng = np.random.default_rng(2)
    verify_grad(lambda x: Blockwise(RowSums(), "(m,n)->(m)")(x), [rng.random((2, 3, 4))], rng=rng)
    op = Blockwise(Dot(), "(m,k),(k,n)->(m,n)")
    verify_grad(op, [rng.random((3, 2, 4)), rng.random((4, 2))], rng=rng)
    verify_grad(op, [rng.random((1, 2, 4)), rng.random((3, 4, 2))], rng=rng)


def test_batch_graph_turns_unknown_ops_into_blockwise():
    core = pt.matrix("core")
    out = RowSums()(core) * 2
    batched = pt.tensor3("b")
    (new,) = batch_graph([out], {core: batched})
    assert isinstance(new.owner.inputs[0].owner.op, Blockwise) or isinstance(new.owner.inputs[1].owner.op, Blockwise)
    data = np.random.default_rng(3).random((2, 3, 4))
    np.testing.assert_allclose(new.eval({batched: data}), data.sum(-1) * 2)

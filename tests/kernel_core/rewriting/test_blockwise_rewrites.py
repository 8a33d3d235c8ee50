"""local_useless_blockwise: a Blockwise without batch dimensions becomes its core op."""

import numpy as np

import opgraph.tensor as pt
from opgraph.graph import rewrite_graph
from opgraph.kernel_core.graph.traversal import io_toposort
from opgraph.kernel_core.rewriting.history import RewriteHistory
from opgraph.kernel_core.tensor import linalg as la
from opgraph.kernel_core.tensor.blockwise import Blockwise
from opgraph.kernel_core.tensor.dot import Dot


def _ops(out):
    outs = out if isinstance(out, (list, tuple)) else [out]
    return [n.op for n in io_toposort([], outs)]


def test_matmul_of_matrices_becomes_dot():
    z = pt.vector("z")
    out = (z[None, :] @ z[:, None]).squeeze()
    assert any(isinstance(op, Blockwise) for op in _ops(out))
    h = RewriteHistory()
    new = rewrite_graph(out, include=("canonicalize",), history=h)
    ops = _ops(new)
    assert not any(isinstance(op, Blockwise) for op in ops)
    assert any(isinstance(op, Dot) for op in ops)
    assert "local_useless_blockwise" in [r.rule for r in h.records]
    zv = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(new.eval({z: zv}), zv @ zv)


def test_batched_blockwise_is_kept():
    a = pt.tensor3("a")
    b = pt.matrix("b")
    new = rewrite_graph(a @ b, include=("canonicalize",))
    assert isinstance(new.owner.op, Blockwise)


def test_multi_output_core_op_and_types():
    x = pt.matrix("x")
    sign, logdet = Blockwise(la.SLogDet()).make_node(x).outputs
    new = rewrite_graph([sign, logdet], include=("specialize",))
    assert all(isinstance(v.owner.op, la.SLogDet) for v in new)
    assert [v.type for v in new] == [sign.type, logdet.type]
    xv = np.array([[2.0, 1.0], [1.0, 3.0]])
    np.testing.assert_allclose(new[1].eval({x: xv}), np.log(5.0))


def test_static_shapes_are_preserved():
    x = pt.tensor("x", shape=(3, 3))
    out = Blockwise(la.MatrixInverse())(x)
    new = rewrite_graph(out, include=("canonicalize",))
    assert isinstance(new.owner.op, la.MatrixInverse)
    assert new.type.shape == (3, 3)

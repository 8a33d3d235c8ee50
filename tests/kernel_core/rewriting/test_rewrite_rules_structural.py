"""Subtensor lifting, shape rewrites and linear-algebra rewrites."""

import numpy as np
import pytest

import opgraph.tensor as pt
from opgraph.graph import rewrite_graph
from opgraph.kernel_core.graph.traversal import explicit_graph_inputs, io_toposort
from opgraph.kernel_core.rewriting.history import RewriteHistory
from opgraph.kernel_core.tensor import linalg as la
from opgraph.kernel_core.tensor.construction import alloc, eye, tril, triu
from opgraph.kernel_core.tensor.shape import SpecifyShape, reshape, shape, shape_i, specify_shape

rng = np.random.default_rng(0)
m = pt.matrix("m")
sq = pt.matrix("sq", shape=(3, 3))
a = pt.matrix("a", shape=(2, 2))
b = pt.matrix("b", shape=(3, 3))
v = pt.vector("v")
VALUES = {
    m: rng.normal(size=(3, 4)),
    sq: (lambda q: q @ q.T + 3 * np.eye(3))(rng.normal(size=(3, 3))),
    a: np.array([[2.0, 0.5], [0.3, 1.5]]),
    b: (lambda q: q @ q.T + 3 * np.eye(3))(rng.normal(size=(3, 3))),
    v: np.array([1.5, -2.0, 0.5]),
}


def ops(var):
    return [str(n.op) for n in io_toposort([], [var])]


def value(var):
    return var.eval({k: VALUES[k] for k in explicit_graph_inputs([var])})


def fired(graph, rule, include=("canonicalize",)):
    h = RewriteHistory()
    out = rewrite_graph(graph, include=include, history=h)
    return out, rule in h.rules_applied()


CASES = [
    ("subtensor_lift_elemwise", lambda: pt.exp(m)[0], lambda: (lambda e: e[0] + e.sum())(pt.exp(m))),
    ("subtensor_lift_dimshuffle", lambda: m.T[1], lambda: m[1]),
    ("subtensor_lift_dimshuffle", lambda: pt.expand_dims(v, 0)[0, 1:], lambda: v[1:]),
    ("useless_subtensor", lambda: m[:, :], lambda: m[1:]),
    ("and_true", lambda: pt.and_(m > 0, True), lambda: pt.and_(pt.cast(m, "int64"), 1)),
    ("or_false", lambda: pt.or_(v < 1, False), lambda: pt.or_(v < 0, v < 1)),
    # Scatters that cover their whole target: a gradient's zeros filled everywhere.
    ("incsubtensor_of_whole", lambda: pt.set_subtensor(sq[:3], sq * 2.0), lambda: pt.set_subtensor(m[:3], m * 2.0)),
    ("incsubtensor_of_whole", lambda: (lambda z: pt.inc_subtensor(z[0:], pt.set_subtensor(z[1:], m[1:])))(pt.zeros_like(m)),
     lambda: pt.inc_subtensor(pt.zeros_like(m)[0:], v)),
    ("incsubtensor_of_whole", lambda: pt.inc_subtensor(m[0:], pt.set_subtensor(m[1:], 0.5)),
     lambda: pt.inc_subtensor(m[1:], pt.set_subtensor(m[1:], 0.5)[1:])),
    ("shape_constant", lambda: shape(sq), lambda: shape(m)),
    ("shape_i_constant", lambda: shape_i(m * np.ones(4), 1), lambda: shape_i(m, 1)),
    ("shape_i_of_input", lambda: shape_i(pt.exp(m), 0), lambda: shape_i(m, 0)),
    ("shape_of_elemwise", lambda: shape(pt.exp(m)), lambda: shape(m)),
    ("shape_subtensor_to_shape_i", lambda: shape(m)[1], lambda: shape(m)[1:]),
    ("useless_specify_shape", lambda: SpecifyShape((0,))(m, shape_i(m, 0)), lambda: specify_shape(m, (3, 4))),
    ("useless_reshape", lambda: reshape(m, shape(m)), lambda: reshape(m, (4, 3))),
    ("useless_alloc", lambda: alloc(sq, 3, 3), lambda: alloc(v, 2, 3)),
    ("inv_inv", lambda: la.inv(la.inv(sq)), lambda: la.inv(sq)),
    ("inv_kron", lambda: la.inv(la.kron(a, b)), lambda: la.inv(la.kron(a, b) + 1)),
    ("det_diag", lambda: la.det(pt.diag(v)), lambda: la.det(pt.diag(v) + 1)),
    ("det_triangular", lambda: la.det(la.cholesky(sq)), lambda: la.det(sq)),
    ("det_triangular", lambda: la.det(tril(sq)), lambda: la.det(pt.switch(np.eye(3, dtype=bool) | True, sq, 0) + 1)),
    ("det_triangular", lambda: la.det(triu(m[:, :3])), lambda: la.det(m[:, :3])),
    ("dot_identity", lambda: pt.dot(sq, eye(3)), lambda: pt.dot(sq, eye(3, k=1))),
    ("dot_identity", lambda: eye(3) @ sq, lambda: sq @ sq),
    ("dot_identity", lambda: pt.dot(np.eye(3), sq), lambda: pt.dot(np.ones((3, 3)), sq)),
    ("dimshuffle_merge", lambda: m.T.T, lambda: m.T),
]


@pytest.mark.parametrize("rule, build, untouched", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_fires_keeps_value_and_stays_put(rule, build, untouched):
    g = build()
    out, did = fired(g, rule)
    assert did, f"{rule} did not fire on {g}"
    np.testing.assert_allclose(value(out), value(g), rtol=1e-10, atol=1e-12)
    _, did = fired(untouched(), rule)
    assert not did, f"{rule} fired where it must not"


def test_transpose_of_transpose_is_the_input():
    assert rewrite_graph(m.T.T) is m


def test_lift_keeps_broadcast_inputs_right():
    row = pt.matrix("row", shape=(1, None))
    g = (m + row)[2, 1:]
    out = rewrite_graph(g)
    assert ops(out)[-1] == "Add"
    mv, rv = VALUES[m], rng.normal(size=(1, 4))
    np.testing.assert_allclose(out.eval({m: mv, row: rv}), (mv + rv)[2, 1:])


def test_lift_respects_out_of_bounds_index():
    out = rewrite_graph(pt.exp(v)[5])
    with pytest.raises(Exception):
        out.eval({v: VALUES[v]})


def test_batched_det_of_cholesky():
    X = pt.tensor("X", shape=(4, 3, 3))
    out = rewrite_graph(la.det(la.cholesky(X)))
    assert ops(out)[-1].startswith("Prod")
    q = rng.normal(size=(4, 3, 3))
    xv = q @ np.swapaxes(q, -1, -2) + 3 * np.eye(3)
    np.testing.assert_allclose(out.eval({X: xv}), np.linalg.det(np.linalg.cholesky(xv)))


def test_mean_shape_becomes_shape_i_and_constants():
    x = pt.matrix("x", shape=(None, 3))
    out = rewrite_graph(x.mean())
    assert "Shape" not in ops(out) and "Shape_i{0}" in ops(out)
    xv = rng.normal(size=(5, 3))
    np.testing.assert_allclose(out.eval({x: xv}), xv.mean())


def test_a_failing_infer_shape_is_not_hidden_by_the_shape_rules():
    # Only "not implemented" keeps the Shape_i node; any other error in an
    # infer_shape is a bug and surfaces (it used to be swallowed).
    from opgraph.graph import Apply, Op

    class Broken(Op):
        __props__ = ()

        def make_node(self, x):
            return Apply(self, [x], [x.type()])

        def perform(self, node, inputs, outputs):
            outputs[0][0] = inputs[0]

        def infer_shape(self, fgraph, node, shapes):
            raise RuntimeError("bug in infer_shape")

    class Unknown(Broken):
        def infer_shape(self, fgraph, node, shapes):
            raise NotImplementedError

    v = pt.vector("v")
    kept = rewrite_graph(Unknown()(v).shape[0], include=("canonicalize",))
    assert kept.owner is not None
    with pytest.raises(RuntimeError, match="bug in infer_shape"):
        rewrite_graph(Broken()(v).shape[0], include=("canonicalize",))

"""The seeds' rewrite examples, dprint text exact (seeds 001 and 002)."""

import io

import numpy as np

import opgraph.tensor as pt
from opgraph.graph import rewrite_graph
from opgraph.kernel_core.gradient import grad
from opgraph.kernel_core.graph.basic import Variable
from opgraph.kernel_core.tensor.elemwise import DimShuffle


def text(var, **kwargs):
    buf = io.StringIO()
    var.dprint(file=buf, **kwargs)
    return buf.getvalue().rstrip("\n")


def lines(s):
    return "\n".join(line.rstrip() for line in s.strip("\n").splitlines())


def test_stabilize_log1p():
    x = pt.tensor("x", shape=(None,))
    assert text(rewrite_graph(pt.log(1 + x), include=("stabilize",))) == lines("""
Log1p [id A]
 └─ x [id B]""")


def test_stabilize_softplus_after_graph_replace():
    x = pt.tensor("x", shape=(3,))
    new_y = pt.log(1 + pt.exp(x))
    assert text(rewrite_graph(new_y, include=("stabilize",))) == lines("""
Softplus [id A]
 └─ x [id B]""")


def test_scalarization_seed_002():
    x_vec = pt.tensor("x_vec", shape=(None,))
    y_vec = pt.log(1 + x_vec)
    assert text(rewrite_graph(y_vec[0])) == lines("""
Log [id A]
 └─ Add [id B]
    ├─ 1.0 [id C]
    └─ Subtensor{i} [id D]
       ├─ x_vec [id E]
       └─ 0 [id F]""")


def test_scalarization_seed_001_with_types():
    new_x = pt.matrix("new_x", shape=(2, 3))
    # vectorize_graph's output in seed 001: the constant [1] broadcast to (1, 1).
    one = DimShuffle(1, ("x", 0))(pt.constant([1]))
    new_y = pt.log(pt.add(one, new_x))
    out = rewrite_graph(new_y[0, 1])
    assert text(out, print_type=True) == lines("""
Log [id A] <Scalar(float64, shape=())>
 └─ Add [id B] <Scalar(float64, shape=())>
    ├─ 1.0 [id C] <Scalar(float64, shape=())>
    └─ Subtensor{i, j} [id D] <Scalar(float64, shape=())>
       ├─ new_x [id E] <Matrix(float64, shape=(2, 3))>
       ├─ 0 [id F] <int64>
       └─ 1 [id G] <int64>""")
    value = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(out.eval({new_x: value}), np.log(1 + value[0, 1]))


def _grad_graph():
    x = pt.tensor("x", shape=(None,))
    stable_y = rewrite_graph(pt.log(1 + x), include=("stabilize",))
    return x, grad(stable_y.sum(), wrt=x)


def test_gradient_canonicalize():
    x, g = _grad_graph()
    out = rewrite_graph(g, include=("canonicalize",))
    assert text(out) == lines("""
True_div [id A]
 ├─ [1.] [id B]
 └─ Add [id C]
    ├─ [1.] [id B]
    └─ x [id D]""")
    v = np.array([0.5, 2.0])
    np.testing.assert_allclose(out.eval({x: v}), 1 / (1 + v))


def test_gradient_canonicalize_specialize():
    x, g = _grad_graph()
    out = rewrite_graph(g, include=("canonicalize", "specialize"))
    assert text(out) == lines("""
Reciprocal [id A]
 └─ Add [id B]
    ├─ [1.] [id C]
    └─ x [id D]""")
    v = np.array([0.5, 2.0])
    np.testing.assert_allclose(out.eval({x: v}), 1 / (1 + v))


def test_rewrite_graph_leaves_its_argument_alone():
    x, g = _grad_graph()
    before = text(g)
    rewrite_graph(g, include=("canonicalize", "specialize"))
    assert text(g) == before
    assert isinstance(g, Variable)

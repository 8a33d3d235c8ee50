"""Traversals are iterative: they handle 10^5-node graphs."""

import numpy as np

import opgraph.tensor as pt
from opgraph.graph import ancestors, clone, equal_computations, graph_inputs, io_toposort
from opgraph.kernel_core.graph.basic import Constant


def test_toposort_order_and_inputs():
    x, y = pt.vector("x"), pt.vector("y")
    a = pt.exp(x)
    b = a + y
    c = b * a
    order = io_toposort([x, y], [c])
    assert order.index(a.owner) < order.index(b.owner) < order.index(c.owner)
    roots = graph_inputs([c])
    assert x in roots and y in roots
    assert all(r.owner is None for r in roots)
    assert set(ancestors([b])) >= {a, b, x, y}


def test_clone_and_equal_computations():
    x = pt.vector("x")
    y = pt.log(1 + x)
    (nx,), (ny,) = clone([x], [y])
    assert nx is not x and ny is not y
    assert equal_computations([y], [ny], [x], [nx])
    assert not equal_computations([y], [pt.log(2 + x)])
    assert equal_computations([pt.exp(x)], [pt.exp(x)])


def test_chain_of_100k_nodes_builds_traverses_and_evaluates():
    x = pt.dscalar("x")
    y = x
    n = 100_000
    for _ in range(n):
        y = y + 1.0
    order = io_toposort([x], [y])
    assert len(order) == n  # 0-d + 0-d needs no ExpandDims: one Add per step
    assert len(ancestors([y])) > n
    (nx,), (ny,) = clone([x], [y])
    assert equal_computations([y], [ny], [x], [nx])
    np.testing.assert_allclose(y.eval({x: 0.0}), float(n))
    text = y.dprint(file="str", depth=3)
    assert text.startswith("Add [id A]")

"""Traversals are iterative: they handle 10^5-node graphs."""

import numpy as np
import pytest

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


CHAIN_LENGTH = 100_000


@pytest.fixture(scope="module")
def chain_100k():
    """(x, y): y = x + 1.0 + 1.0 + ... (10^5 Adds), built once for the tests
    below, which only read it (building it is most of their cost)."""
    x = pt.dscalar("x")
    y = x
    for _ in range(CHAIN_LENGTH):
        y = y + 1.0
    return x, y


def test_chain_of_100k_nodes_builds_traverses_and_evaluates(chain_100k):
    x, y = chain_100k
    n = CHAIN_LENGTH
    order = io_toposort([x], [y])
    assert len(order) == n  # 0-d + 0-d needs no ExpandDims: one Add per step
    assert len(ancestors([y])) > n
    (nx,), (ny,) = clone([x], [y])
    assert equal_computations([y], [ny], [x], [nx])
    np.testing.assert_allclose(y.eval({x: 0.0}), float(n))
    text = y.dprint(file="str", depth=3)
    assert text.startswith("Add [id A]")


# -- PyTensor's traversal API (opgraph.graph.traversal) ---------------------------------------
def test_pytensor_traversal_names_and_signatures():
    from opgraph.graph import traversal as tr

    x, y = pt.dvector("x"), pt.dvector("y")
    c = pt.constant(np.array([1.0, 2.0]))
    a = pt.exp(x)
    b = a * y + c
    assert tr.vars_between([a], [b])[0] is a and b in tr.vars_between([a], [b])
    assert x not in tr.vars_between([a], [b])
    orphans = tr.orphans_between([a], [b])
    assert y in orphans and c in orphans and a not in orphans and x not in orphans
    assert tr.applys_between([x, y], [b]) == tr.io_toposort([x, y], [b])
    assert tr.toposort([b]) == tr.io_toposort([], [b])
    assert a.owner not in tr.toposort([b], blockers=[a])
    assert tr.ancestors([b], blockers=None)[0] is b
    assert set(tr.graph_inputs([b])) == {x, y, c}
    assert set(tr.explicit_graph_inputs(b)) == {x, y}
    # orderings add dependencies: b's node after an unrelated node
    z = pt.dvector("z")
    other = pt.log(z)
    order = tr.io_toposort([x, y, z], [b, other], orderings={b.owner: [other.owner]})
    assert order.index(other.owner) < order.index(b.owner)


def test_explicit_graph_inputs_leaves_out_shared_variables():
    import opgraph
    from opgraph.graph.traversal import explicit_graph_inputs

    x = pt.dvector("x")
    w = opgraph.shared(np.ones(2), name="w")
    assert explicit_graph_inputs([x * w]) == [x]


def test_walk_bfs_dfs_children_and_hash_fn():
    from opgraph.graph.traversal import walk

    tree = {1: [2, 3], 2: [4], 3: [4], 4: []}
    assert list(walk([1], tree.__getitem__)) == [1, 2, 3, 4]
    assert list(walk([1], tree.__getitem__, bfs=False)) == [1, 2, 4, 3]
    assert list(walk([1], tree.__getitem__, return_children=True))[0] == (1, [2, 3])
    assert list(walk([1, 5], tree.__getitem__, hash_fn=lambda n: n % 4)) == [1, 2, 3, 4]   # 5 is "1" again


def test_walk_and_orphans_are_iterative_on_100k_nodes(chain_100k):
    from opgraph.graph.traversal import orphans_between, walk

    x, y = chain_100k
    seen = sum(1 for _ in walk([y], lambda v: v.owner.inputs if v.owner is not None else None, bfs=False))
    assert seen > CHAIN_LENGTH
    assert len(orphans_between([x], [y])) >= 1

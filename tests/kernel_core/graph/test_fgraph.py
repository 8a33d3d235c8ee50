"""FunctionGraph clients map: ordered (node, i) pairs, O(1) removal, list-like reading."""

import opgraph.tensor as pt
from opgraph.kernel_core.graph.fgraph import Clients, FunctionGraph


def test_clients_are_node_index_pairs_in_insertion_order():
    x = pt.vector("x")
    a = pt.exp(x)
    b = x + a
    fg = FunctionGraph([x], [b, a], clone=False)
    cl = fg.clients[x]
    assert list(cl) == [(a.owner, 0), (b.owner, 0)]
    assert len(cl) == 2
    assert cl == [(a.owner, 0), (b.owner, 0)]
    assert cl[0] == (a.owner, 0) and cl[-1] == (b.owner, 0)
    assert (b.owner, 0) in cl
    # graph outputs are ("output", position) clients
    assert list(fg.clients[a]) == [(b.owner, 1), ("output", 1)]
    assert list(fg.get_clients(b)) == [("output", 0)]
    assert list(fg.get_clients(pt.vector("unknown"))) == []
    assert repr(cl).startswith("[(")


def test_replace_moves_clients_and_prunes():
    x = pt.vector("x")
    a = pt.exp(x)
    out = pt.sin(a) + pt.cos(a)
    fg = FunctionGraph([x], [out], clone=False)
    new = pt.log(x)
    fg.replace(a, new)
    assert a not in fg.clients and a.owner not in fg.apply_nodes
    assert len(fg.clients[new]) == 2
    assert all(node.inputs[i] is new for node, i in fg.clients[new])
    # x lost exp as a client and gained log
    assert [n.op for n, _ in fg.clients[x]] == [new.owner.op]
    fg.check_integrity()


def test_shared_constant_with_many_clients_is_cheap_to_detach():
    # A constant used by every node of a long chain: replacing each node must
    # not scan the constant's whole client list (the clients map is a dict).
    x = pt.vector("x")
    c = pt.constant(2.0)
    y = x
    for _ in range(3000):
        y = y * c
    fg = FunctionGraph([x], [y], clone=False)
    clients_of_c = fg.clients[c]
    assert isinstance(clients_of_c, Clients) and len(clients_of_c) == 3000
    first = next(iter(clients_of_c))[0]
    fg.replace(first.outputs[0], x)  # the second multiplication now reads x directly
    assert len(fg.clients[c]) == 2999
    assert (first, 1) not in fg.clients[c]
    fg.check_integrity()


def test_clients_compare_with_lists_and_other_clients():
    c1, c2 = Clients(), Clients()
    c1.append(("output", 0))
    c2.append(("output", 0))
    assert c1 == c2 == [("output", 0)]
    assert c1 != [("output", 1)]
    c1.remove(("output", 0))
    assert not c1 and c1 == []


def test_clone_fills_the_callers_memo():
    import opgraph.tensor as pt
    from opgraph.graph.fg import FunctionGraph

    x, y = pt.dvector("x"), pt.dvector("y")
    out = pt.exp(x) + y
    memo = {}
    fg = FunctionGraph([x, y], [out], clone=True, memo=memo)
    assert memo[x] is fg.inputs[0] and memo[y] is fg.inputs[1] and memo[out] is fg.outputs[0]
    assert memo[out.owner] is fg.outputs[0].owner and memo[out] is not out
    # Entries given beforehand are used as they are (PyTensor's memo semantics).
    x2 = pt.dvector("x2")
    memo2 = {x: x2}
    fg2 = FunctionGraph([x, y], [out], clone=True, memo=memo2)
    assert fg2.inputs[0] is x2 and memo2[x] is x2
    # clone=False leaves the memo alone.
    untouched = {}
    FunctionGraph([x, y], [out], clone=False, memo=untouched)
    assert untouched == {}

"""GraphExplorer's Python side: the model (items, edges, source lines), clusters (op family, name
scope, inner graph, parts), the layered layout, search, details and the path between two nodes; a
10^4-node graph builds with work growing linearly (counted, never timed)."""

import json

import pytest
import traitlets

import opgraph.tensor as pt
from opgraph import OpFromGraph
from opgraph.gradient import grad
from opgraph.scan import scan
from opgraph.widgets import GraphExplorer
from opgraph.widgets.graph_layout import LAYER_GAP, NODE_GAP
from opgraph.widgets.graph_model import ClusterTree, GraphModel


def small():
    x, y = pt.vector("x"), pt.vector("y")
    a = pt.exp(x)
    b = a * y
    c = pt.log(b) + a
    return x, y, a, b, c


def item_of(model, var):
    """The item number of a variable (its Apply node, or the root variable itself)."""
    for i in range(len(model)):
        if any(v is var for v in model.variables[i]):
            return i
    raise AssertionError(f"{var} is not in the model")


def chain(n, op=pt.exp, name="x"):
    x = pt.vector(name)
    y = x
    for _ in range(n):
        y = op(y)
    return x, y


def hierarchical_gradient(groups):
    """A W5-like hierarchical model (one scope per group) and its gradient: ~60 nodes per group."""
    mu, log_tau = pt.scalar("mu"), pt.scalar("log_tau")
    tau = pt.exp(log_tau)
    logp = -0.5 * mu ** 2 / 25 + log_tau
    params = [mu, log_tau]
    for k in range(groups):
        theta, y, sigma = (pt.vector(f"group_{k}/{v}") for v in ("theta", "y", "sigma"))
        lp = (-0.5 * ((theta - mu) / tau) ** 2 - log_tau * theta.shape[0]
              - 0.5 * ((y - theta) / sigma) ** 2).sum()
        lp.name = f"group_{k}/logp"
        logp = logp + lp
        params.append(theta)
    return [logp, *grad(logp, params)]


# -- the model ---------------------------------------------------------------------------------
def test_model_of_a_small_graph_items_edges_and_json():
    x, y, a, b, c = small()
    m = GraphModel(c)
    assert len(m) == 6 and m.n_edges == 6            # x, y, Exp, Mul, Log, Add
    pairs = {(m.label[j], m.label[i]) for i in range(len(m)) for j in m.preds[i]}
    assert pairs == {("x", "Exp"), ("Exp", "Mul"), ("y", "Mul"), ("Mul", "Log"), ("Log", "Add"), ("Exp", "Add")}
    assert [m.family[item_of(m, v)] for v in (x, a, c)] == ["input", "elementwise", "elementwise"]
    assert [i for i in range(len(m)) if m.is_output[i]] == [item_of(m, c)]
    data = json.loads(json.dumps(m.to_json()))
    assert len(data["nodes"]) == 6 and len(data["edges"]) == 6
    row = data["nodes"][item_of(m, a)]
    assert row["op"] == "Exp" and row["type"] == ["Vector(float64, shape=(?,))"] and row["shape"] == ["(?,)"]
    assert sorted(row["clients"]) == sorted(f"n{item_of(m, v)}" for v in (b, c))


def test_details_carry_type_static_shape_source_line_and_clients():
    x = pt.matrix("x", shape=(3, 4))
    e = pt.exp(x)                                   # the line the details point at
    s = e.sum(axis=1)
    m = GraphModel([s, e])
    d = m.details(item_of(m, e))
    assert d["op"] == "Exp" and d["types"] == [e.type.short_str()] and d["shapes"] == ["(3, 4)"]
    assert d["source"].startswith(__file__) and d["source"].endswith("e = pt.exp(x)                                   # the line the details point at")
    assert [c["label"] for c in d["clients"]] == [str(s.owner.op)]
    assert d["inputs"] == [{"id": f"n{item_of(m, x)}", "label": "x"}] and d["output"]
    assert m.details(item_of(m, x))["op"] is None and m.details(item_of(m, x))["names"] == ["x"]


def test_constants_are_listed_with_their_client_not_as_items():
    x = pt.vector("x")
    y = pt.exp(x) + 2.5
    m = GraphModel(y)
    assert all(m.label[i] != "2.5" for i in range(len(m)))
    assert any("2.5" in c for i in range(len(m)) for c in m.constants[i])


# -- clusters -------------------------------------------------------------------------------
def test_a_run_of_one_op_family_is_one_cluster_that_expands_and_collapses():
    x, y = chain(10)
    g = GraphExplorer(y, budget=1)
    assert g.view["ids"][0] == "n0" and len(g.view["ids"]) == 2      # x, then one cluster of 10
    [cluster] = [i for i in g.view["ids"] if i.startswith("c")]
    k = g.view["ids"].index(cluster)
    assert g.view["sizes"][k] == 10 and g.view["families"][k] == "elementwise"
    assert g.view["labels"][k] == "elementwise: Exp (10)"          # family, commonest ops, size
    assert list(zip(g.view["src"], g.view["dst"])) == [(0, 1)]
    g.expand(cluster)
    assert len(g.view["ids"]) == 11 and all(s == 0 for s in g.view["sizes"])
    assert len(g.view["src"]) == 10
    g.collapse(cluster)
    assert len(g.view["ids"]) == 2
    assert len(GraphExplorer(y).view["ids"]) == 11       # the default budget opens what fits


def test_name_scopes_group_named_nodes_and_what_only_they_use():
    x = pt.vector("x")
    h1 = pt.tanh(x * 2.0)
    h1.name = "layer1/h"
    h2 = pt.tanh(h1 * 3.0)
    h2.name = "layer2/h"
    m = GraphModel(h2)
    tree = ClusterTree(m)
    scopes = {tree.title[c]: sorted(m.label[i] for i in tree.leaves(tree.n_items + c))
              for c in range(len(tree.kind)) if tree.kind[c] == "scope"}
    assert set(scopes) == {"layer1", "layer2"}
    # Tanh, its Mul and the ExpandDims broadcasting the constant 3.0: nothing else uses them
    assert scopes["layer2"] == ["ExpandDims{axis=0}", "Mul", "Tanh"]
    assert m.scope(item_of(m, h1)) == "layer1" and m.scope(item_of(m, x)) is None
    mul = item_of(m, h2.owner.inputs[0])
    assert m.scope(mul) is None and tree.scopes[mul] == "layer2"        # inferred from its client
    assert GraphExplorer(h2).select(f"n{mul}").details[0]["scope"] == "layer2"


def test_inner_graph_items_sit_in_a_cluster_beside_their_outer_node():
    a = pt.vector("a")
    ofg = OpFromGraph([a], [pt.exp(a) * 2.0 + 1.0])
    x = pt.vector("x")
    out = pt.log(ofg(x))
    m = GraphModel(out)
    outer = item_of(m, out.owner.inputs[0])
    assert len(m.inner_graphs) == 2 and m.inner_graphs[1][0] == outer
    inner = m.inner_graphs[1][1]
    assert {m.graph[i] for i in inner} == {1} and "Exp" in [m.label[i] for i in inner]
    tree = ClusterTree(m, min_family_run=99)
    [c] = [c for c in range(len(tree.kind)) if tree.kind[c] == "inner"]
    assert sorted(tree.leaves(tree.n_items + c)) == sorted(inner)
    assert tree.parent[tree.n_items + c] == tree.parent[outer]
    [inner_input] = out.owner.inputs[0].owner.op.inner_graphs()[0]
    assert (outer, item_of(m, inner_input)) in m.virtual_edges
    assert m.details(inner[-1])["inner_graph_of"]["id"] == f"n{outer}"
    g = GraphExplorer(out, budget=4)
    [cid] = [f"c{c}" for c in range(len(g.tree.kind)) if g.tree.kind[c] == "inner"]
    assert cid in g.view["ids"] and g.view["counts"][g.view["dst"].index(g.view["ids"].index(cid))] == 0
    g.expand(cid)
    assert cid not in g.view["ids"] and all(g.visible(f"n{i}") != cid for i in inner)
    g.reveal(f"n{inner[-1]}")                       # the run of elementwise ops inside opens too
    assert {f"n{i}" for i in inner} <= set(g.view["ids"])


def test_a_scan_inner_graph_is_explored():
    s = pt.vector("s")
    res = scan(lambda v, acc: acc + pt.exp(v) * pt.sin(v), sequences=[s], outputs_info=[pt.zeros(())],
               return_updates=False)
    g = GraphExplorer(res)
    assert len(g.model.inner_graphs) >= 2
    labels = {g.model.label[i] for _, items in g.model.inner_graphs[1:] for i in items}
    assert {"Exp", "Sin"} <= labels
    found = g.search("Sin").matches
    assert found["count"] >= 1 and found["visible"][0] == found["items"][0]["id"]   # opened and shown


def test_a_scan_with_a_large_inner_graph_opens_in_parts():
    def step(v, acc):
        h = acc
        for k in range(1500):                      # 1500 elementwise ops: one run of one family
            h = pt.tanh(h * 0.5 + v) if k % 2 else pt.sin(h) + v
        return h

    s = pt.vector("s")
    res = scan(step, sequences=[s], outputs_info=[pt.zeros(())], return_updates=False)
    g = GraphExplorer(res)
    inner = g.model.inner_graphs[1][1]
    assert len(inner) > 3000 and len(g.view["ids"]) <= 150
    [c] = [c for c in range(len(g.tree.kind)) if g.tree.kind[c] == "inner"]
    assert f"c{c}" in g.expanded                     # it fits the budget: opened, its parts shown
    assert any(label.startswith("part ") for label in g.view["labels"])
    last = max(inner)
    g.reveal(f"n{last}")
    assert f"n{last}" in g.view["ids"] and len(g.view["ids"]) <= 2 * 150 + 10
    outer = g.model.inner_graphs[1][0]
    g.select(f"n{outer}", f"n{last}")               # the path enters the inner graph
    assert g.path["found"] and g.path["items"][0] == f"n{outer}" and g.path["items"][-1] == f"n{last}"


def test_many_children_are_split_into_parts():
    x = pt.vector("x")
    y = pt.add(*[pt.exp(x * float(k)) for k in range(40)])      # 40 x (mul, exp), never one family run
    tree = ClusterTree(GraphModel(y), max_children=10, min_family_run=1000)
    assert len(tree.top) <= 10
    assert all(len(ch) <= 10 for ch in tree.children)
    parts = [c for c in range(len(tree.kind)) if tree.kind[c] == "part"]
    assert parts and sum(tree.size[c] for c in parts if tree.parent[tree.n_items + c] == -1) <= len(tree.model)
    assert sorted(i for e in tree.top for i in tree.leaves(e)) == list(range(len(tree.model)))


# -- layout -----------------------------------------------------------------------------------
def test_layout_puts_producers_above_consumers_and_boxes_of_a_layer_apart():
    x, y, a, b, c = small()
    g = GraphExplorer(c)
    v = g.view
    for s, d in zip(v["src"], v["dst"]):
        assert v["y"][s] < v["y"][d]
    assert set(v["y"]) == {0, LAYER_GAP, 2 * LAYER_GAP, 3 * LAYER_GAP, 4 * LAYER_GAP}  # x,y | Exp | Mul | Log | Add
    rows = {}
    for k, yy in enumerate(v["y"]):
        rows.setdefault(yy, []).append(k)
    for row in rows.values():
        row.sort(key=lambda k: v["x"][k])
        for p, q in zip(row, row[1:]):
            assert v["x"][q] - v["x"][p] >= (v["w"][p] + v["w"][q]) / 2 + NODE_GAP - 0.2


# -- search, selection, path -------------------------------------------------------------------
def test_search_by_name_and_by_op_opens_and_focuses_the_match():
    outs = hierarchical_gradient(8)
    g = GraphExplorer(outs, budget=5)
    g.search("group_3/theta")
    m = g.matches
    assert m["count"] == 1 and m["items"][0]["label"] == "group_3/theta"
    target = m["items"][0]["id"]
    assert g.focus == target and target in g.view["ids"] and m["visible"] == [target]
    assert g.search("Log").matches["count"] == sum(1 for i in range(len(g.model)) if "log" in g.model.label[i].lower()
                                                   and g.model.apply[i] is not None) + \
        sum(1 for i in range(len(g.model)) if any("log" in n.lower() for n in g.model.names(i)))
    assert g.search("no such thing").matches["count"] == 0
    g.query = "mu"                                  # the search box sets ``query``
    assert g.matches["query"] == "mu" and g.matches["items"][0]["label"] == "mu"


def test_path_between_two_selected_nodes_and_no_path():
    x, y, a, b, c = small()
    g = GraphExplorer(c)
    m = g.model
    ix, iy, ic = item_of(m, x), item_of(m, y), item_of(m, c)
    g.select(f"n{ic}", f"n{ix}")                    # either direction
    assert g.path["found"] and g.path["labels"] == ["x", "Exp", "Add"]
    assert g.path["visible"] == g.path["items"]
    assert [d["label"] for d in g.details] == ["Add", "x"]
    g.select(f"n{ix}", f"n{iy}")
    assert g.path == {"items": [], "labels": [], "visible": [], "found": False}
    g.select(f"n{ix}")
    assert g.path == {} and g.details[0]["names"] == ["x"]


def test_path_marks_the_collapsed_clusters_it_runs_through():
    x, y = chain(20)
    g = GraphExplorer(y, budget=1)
    g.select("n0", f"n{len(g.model) - 1}")
    assert len(g.path["items"]) == 21 and g.path["visible"] == ["n0", g.view["ids"][1]]


def test_bad_ids_and_options_name_the_culprit():
    x, y, a, b, c = small()
    g = GraphExplorer(c)
    with pytest.raises(ValueError, match="'zz' is not a node id"):
        g.expand("zz")
    with pytest.raises(ValueError, match="no node n99"):
        g.select("n99")
    with pytest.raises(traitlets.TraitError, match="n0 is a node, not a cluster"):
        g.expanded = ["n0"]
    with pytest.raises(ValueError, match="budget must be a positive int"):
        GraphExplorer(c, budget=0)
    with pytest.raises(TypeError, match="cannot draw a int"):
        GraphExplorer(3)


def test_messages_from_the_browser_reveal_and_collapse():
    x, y = chain(10)
    g = GraphExplorer(y, budget=1)
    last = f"n{len(g.model) - 1}"
    g._on_message(g, {"action": "reveal", "id": last}, [])
    assert last in g.view["ids"] and g.selected == [last] and g.focus == last
    g._on_message(g, {"action": "reveal", "id": "n0", "add": True}, [])      # shift: a second node
    assert g.selected == [last, "n0"] and g.path["found"] and len(g.path["items"]) == len(g.model)
    g._on_message(g, {"action": "reveal", "id": last}, [])
    [cluster] = g.details[0]["clusters"]
    g._on_message(g, {"action": "collapse", "id": cluster["id"]}, [])
    assert last not in g.view["ids"] and g.details[0]["visible"] == cluster["id"]


# -- 10^4 nodes ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def big():
    outs = hierarchical_gradient(170)
    return outs, GraphExplorer(outs)


def test_a_hierarchical_gradient_of_ten_thousand_nodes_opens_small(big):
    outs, g = big
    assert len(g.model) > 10_000
    assert len(g.view["ids"]) <= 150               # a first view of clusters, not 10^4 boxes
    assert len(json.dumps(g.view)) < 60_000
    scopes = {g.tree.title[c] for c in range(len(g.tree.kind)) if g.tree.kind[c] == "scope"}
    assert {"group_0", "group_169"} <= scopes
    assert repr(g).startswith(f"<GraphExplorer {len(g.model):,} nodes, {g.model.n_edges:,} edges")
    first = dict(g.view)
    g.expand_all()
    assert len(g.view["ids"]) == len(g.model) and not any(g.view["sizes"])
    assert len(g.view["src"]) == g.model.n_edges                    # every data edge, once
    g.collapse_all()
    assert len(g.view["ids"]) == len(g.tree.top) <= len(first["ids"])
    g.search("group_150/theta")
    assert g.matches["count"] == 1 and g.focus in g.view["ids"]


def work(outs):
    m = GraphModel(outs)
    tree = ClusterTree(m)
    return len(m), m.work + tree.work


def test_work_grows_linearly_with_the_graph():
    n1, w1 = work(hierarchical_gradient(40))
    n2, w2 = work(hierarchical_gradient(80))
    assert 1.9 < n2 / n1 < 2.1
    assert w2 / w1 < 1.15 * n2 / n1
    n1, w1 = work(chain(2500)[1])
    n2, w2 = work(chain(5000)[1])
    assert w2 / w1 < 1.15 * n2 / n1


def test_a_compiled_function_and_a_function_graph_are_explored_like_their_outputs():
    import opgraph
    from opgraph.graph import FunctionGraph

    x = pt.vector("x")
    y = pt.exp(x).sum() * 2.0
    fn = opgraph.function([x], y, mode="PYTHON")
    explored = GraphExplorer(fn)
    assert len(explored.model) == len(fn.maker.fgraph.apply_nodes) + 1       # its nodes and x
    assert repr(GraphExplorer(FunctionGraph([x], [y]))) == repr(GraphExplorer(y))

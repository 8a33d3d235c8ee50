"""ProfileView's Python side: the data it sends (rows per node and per op class, compile phases,
two profiles side by side) and sorting.  The profiles come from small PYTHON-mode functions (the VM
times every node; no Numba compilation) or are filled in by hand with known times."""

import numpy as np
import pytest
import traitlets

import opgraph
import opgraph.tensor as pt
from opgraph.graph import FunctionGraph
from opgraph.kernel_core.compile.profiling import ProfileStats
from opgraph.widgets import ProfileView


def hand_profile(times, calls=2, name=None):
    """A ProfileStats over exp(x) + log(x) * x with the given seconds per node (in execution order)."""
    x = pt.vector("x")
    fg = FunctionGraph([x], [pt.exp(x) + pt.log(x) * x])
    order = fg.toposort()
    assert len(order) == len(times)
    prof = ProfileStats(name=name)
    prof.set_graph(fg, order)
    for node, t in zip(order, times):
        for _ in range(calls):
            prof.add_node_time(node, t / calls, [np.ones(3)])
    prof.graph_time, prof.rewrite_time, prof.link_time = 0.001, 0.002, 0.5
    prof.add_compile_phase("numba_jit", 0.3)
    prof.add_compile_phase("cache_load", 0.1)
    prof.compile_time = 0.503
    for _ in range(calls):
        prof.add_call(sum(times) / calls + 1e-6)
    return prof, order


@pytest.fixture(scope="module")
def profiled_fn():
    x = pt.vector("x")
    f = opgraph.function([x], pt.exp(x).sum() + pt.log(x).sum(), mode="PYTHON", profile=True)
    for _ in range(3):
        f(np.arange(1.0, 5.0))
    return f


def test_data_of_a_compiled_function(profiled_fn):
    view = ProfileView(profiled_fn)
    [data] = view.profiles
    prof = profiled_fn.profile
    assert data["calls"] == 3 and data["label"] == "profile"
    nodes = data["nodes"]
    assert len(nodes) == len(profiled_fn.maker.fgraph.apply_nodes)
    assert all(r["calls"] == 3 for r in nodes)
    assert sum(r["percent"] for r in nodes) == pytest.approx(100.0)
    assert sorted(r["index"] for r in nodes) == list(range(len(nodes)))
    times = [r["time"] for r in nodes]
    assert times == sorted(times, reverse=True)             # default: slowest first
    assert {r["name"] for r in data["op_classes"]} == {r.op_class for r in prof.node_table()}
    phases = data["compile"]["phases"]
    assert [p["key"] for p in phases] == ["graph", "rewrite", "codegen", "numba_jit", "cache_load"]
    assert [p["seconds"] for p in phases] == [prof.graph_time, prof.rewrite_time, prof.codegen_time,
                                              prof.jit_time, prof.cache_load_time]
    assert data["compile"]["total"] == prof.compile_time
    assert ProfileView(profiled_fn.profile).profiles == view.profiles   # a ProfileStats works the same


def test_rows_and_compile_phases_of_a_known_profile():
    prof, order = hand_profile([0.004, 0.001, 0.003, 0.002])
    [data] = ProfileView(prof).profiles
    assert [r["time"] for r in data["nodes"]] == pytest.approx([0.004, 0.003, 0.002, 0.001])
    assert [r["index"] for r in data["nodes"]] == [0, 2, 3, 1]
    assert data["nodes"][0]["name"] == str(order[0].op) and data["nodes"][0]["shapes"] == "(3,)"
    assert data["nodes"][0]["percent"] == pytest.approx(40.0)
    assert data["nodes"][0]["per_call"] == pytest.approx(0.002)
    phases = {p["key"]: p["seconds"] for p in data["compile"]["phases"]}
    assert phases["numba_jit"] == 0.3 and phases["cache_load"] == 0.1
    assert phases["codegen"] == pytest.approx(0.1)    # link time less jit and cache load
    assert data["per_call"] == pytest.approx(0.005 + 1e-6)


def test_sorting_by_each_key_and_direction():
    prof, _ = hand_profile([0.004, 0.001, 0.003, 0.002])
    view = ProfileView(prof)
    view.sort("time", descending=False)
    assert [r["time"] for r in view.rows()] == pytest.approx([0.001, 0.002, 0.003, 0.004])
    view.sort("name", descending=False)
    names = [r["name"] for r in view.rows()]
    assert names == sorted(names)
    view.sort("calls")
    assert [r["calls"] for r in view.rows()] == [2, 2, 2, 2]
    assert [r["index"] for r in view.rows()] == [0, 1, 2, 3]   # ties keep execution order
    view.sort("index", descending=False)
    assert [r["index"] for r in view.rows()] == [0, 1, 2, 3]
    view.sort("index")
    assert [r["index"] for r in view.rows()] == [3, 2, 1, 0]
    view.sort("percent", table="op_classes")
    assert view.table == "op_classes"
    pct = [r["percent"] for r in view.rows()]
    assert pct == sorted(pct, reverse=True) and view.rows() is view.profiles[0]["op_classes"]
    # what a click in the browser does: set the traits; Python re-sorts and syncs the rows
    view.descending = False
    assert [r["percent"] for r in view.rows()] == sorted(pct)


def test_bad_sort_key_or_table_names_the_choices():
    view = ProfileView(hand_profile([0.004, 0.001, 0.003, 0.002])[0])
    with pytest.raises(traitlets.TraitError, match="sort_by must be one of time, per_call, calls, percent, name, index"):
        view.sort("speed")
    with pytest.raises(traitlets.TraitError, match="table must be one of nodes, op_classes, got 'apply'"):
        view.table = "apply"


def test_two_profiles_side_by_side_with_an_op_class_comparison():
    before, _ = hand_profile([0.004, 0.001, 0.003, 0.002], name="before")
    after, _ = hand_profile([0.002, 0.001, 0.006, 0.002], name="after")
    view = ProfileView(before, after)
    assert [p["label"] for p in view.profiles] == ["before", "after"]
    a_classes = {r["name"]: r["time"] for r in view.profiles[0]["op_classes"]}
    b_classes = {r["name"]: r["time"] for r in view.profiles[1]["op_classes"]}
    rows = {r["name"]: r for r in view.comparison}
    assert set(rows) == set(a_classes) | set(b_classes)
    for name, r in rows.items():
        assert r["time_a"] == pytest.approx(a_classes[name]) and r["time_b"] == pytest.approx(b_classes[name])
        assert r["ratio"] == pytest.approx(b_classes[name] / a_classes[name])
    assert ProfileView(before, after, labels=["NUMBA", "PYTHON"]).profiles[1]["label"] == "PYTHON"
    unnamed = ProfileView(hand_profile([1, 1, 1, 1])[0], hand_profile([1, 2, 1, 1])[0])
    assert [p["label"] for p in unnamed.profiles] == ["A", "B"]
    with pytest.raises(ValueError, match="labels must be 2 string"):
        ProfileView(before, after, labels=["only one"])


def test_inputs_that_are_not_profiles_are_refused():
    x = pt.vector("x")
    f = opgraph.function([x], pt.exp(x), mode="PYTHON")
    with pytest.raises(ValueError, match=r"compiled without a profile.*profile=True"):
        ProfileView(f)
    with pytest.raises(TypeError, match="other must be a ProfileStats or a Function.*got int"):
        ProfileView(ProfileStats(), 42)


def test_object_mode_nodes_are_marked():
    prof, order = hand_profile([0.004, 0.001, 0.003, 0.002])
    prof.object_mode_nodes.add(order[1])
    rows = {r["index"]: r for r in ProfileView(prof).profiles[0]["nodes"]}
    assert rows[1]["object_mode"] and not rows[0]["object_mode"]


def test_widget_ships_its_javascript_and_displays(shell):
    from IPython.display import display
    from IPython.utils.capture import capture_output

    view = ProfileView(hand_profile([0.004, 0.001, 0.003, 0.002])[0])
    esm, css = view._esm, view._css
    assert "export default" in esm and "render" in esm
    assert "http" not in esm and "import " not in esm and "http" not in css   # no CDN, no dependencies
    with capture_output() as cap:
        display(view)
    assert any("application/vnd.jupyter.widget-view+json" in o.data for o in cap.outputs)
    assert "4 nodes" in repr(view) and "sorted by time" in repr(view)

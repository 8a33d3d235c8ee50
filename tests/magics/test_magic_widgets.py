"""The widgets %%pytensor and the rich display choose: a GraphExplorer above the size threshold
(beside the summary, text/plain kept), a ProfileView for ``-p``."""

import numpy as np
import pytest

from opgraph.extension.explorer_display import EXPLORER_NODES, WIDGET_MIME
from opgraph.widgets import GraphExplorer, ProfileView

from test_pytensor_magic import htmls, run_magic


def chain_cell(n):
    return f"x = pt.vector('x')\ny = x\nfor _ in range({n}):\n    y = pt.exp(y)\n"


def widget_outputs(cap):
    return [o.data for o in cap.outputs if WIDGET_MIME in o.data]


def test_a_graph_above_the_threshold_gets_an_explorer_beside_its_summary(shell):
    cap = run_magic(shell, "", chain_cell(EXPLORER_NODES + 1))
    assert cap.stderr == ""
    [html] = htmls(cap)
    assert f"Large graph: {EXPLORER_NODES + 1:,} nodes" in html      # the summary stays
    [widget] = widget_outputs(cap)
    explorer = shell.user_ns["_pytensor"].explorer
    assert isinstance(explorer, GraphExplorer) and widget[WIDGET_MIME]["model_id"] == explorer.model_id
    # one run of Exp nodes, in 3 parts of at most 150 (the ClusterTree's max_children)
    assert widget["text/plain"] == repr(explorer) == (
        f"<GraphExplorer {EXPLORER_NODES + 2:,} nodes, {EXPLORER_NODES + 1:,} edges, 0 inner graph(s), 4 clusters>")


def test_a_graph_at_the_threshold_gets_no_explorer(shell):
    cap = run_magic(shell, "", chain_cell(EXPLORER_NODES))
    assert widget_outputs(cap) == [] and shell.user_ns["_pytensor"].explorer is None
    assert len(htmls(cap)) == 1


def test_the_rich_display_of_a_large_variable_carries_the_explorer_and_keeps_its_text(shell):
    shell.run_cell(chain_cell(EXPLORER_NODES + 1))
    y = shell.user_ns["y"]
    data, _ = shell.display_formatter.format(y)
    assert data["text/plain"] == repr(y) == "Exp.0"            # what nbval compares
    assert "Large graph" in data["text/html"]
    assert set(data[WIDGET_MIME]) >= {"model_id", "version_major"}
    small, _ = shell.display_formatter.format(shell.user_ns["x"])
    assert WIDGET_MIME not in small and "text/html" in small


def test_unloading_the_extension_removes_the_explorer(shell):
    shell.run_cell(chain_cell(EXPLORER_NODES + 1))
    y = shell.user_ns["y"]
    shell.run_line_magic("unload_ext", "opgraph")
    try:
        data, _ = shell.display_formatter.format(y)
        assert WIDGET_MIME not in data and "text/html" not in data
    finally:
        shell.run_line_magic("load_ext", "opgraph")
    assert WIDGET_MIME in shell.display_formatter.format(y)[0]


def test_profile_option_displays_a_profile_view(shell):
    cap = run_magic(shell, "-c PYTHON -p -i 'x=np.arange(1.0, 5.0)'",
                    "x = pt.vector('x')\ny = pt.exp(x).sum() + pt.log(x).sum()\n")
    assert cap.stderr == ""
    res = shell.user_ns["_pytensor"]
    view = res.profile_view
    assert isinstance(view, ProfileView)
    [widget] = widget_outputs(cap)
    assert widget[WIDGET_MIME]["model_id"] == view.model_id and widget["text/plain"] == repr(view)
    [data] = view.profiles
    assert data["calls"] == 1 and len(data["nodes"]) == len(res.function.maker.fgraph.apply_nodes)
    assert {p["key"] for p in data["compile"]["phases"]} == {"graph", "rewrite", "codegen", "numba_jit", "cache_load"}
    np.testing.assert_allclose(res.values, np.exp(np.arange(1.0, 5.0)).sum() + np.log(np.arange(1.0, 5.0)).sum())


@pytest.mark.parametrize("line", ["-c PYTHON", ""])
def test_no_profile_view_without_p(shell, line):
    cap = run_magic(shell, line, "x = pt.vector('x')\ny = pt.exp(x).sum()\n")
    assert widget_outputs(cap) == [] and shell.user_ns["_pytensor"].profile_view is None

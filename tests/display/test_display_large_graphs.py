"""Displays of large graphs are summaries: node count, the top levels, how to see everything; small and bounded."""

import shutil

import numpy as np

import opgraph
import opgraph.tensor as pt
from opgraph.display import function_html, graph_html
from opgraph.display.graph_panel import SEE_ALL, SUMMARY_DEPTH, SUMMARY_LINES, SUMMARY_NODES, graph_text
from opgraph.display.step_view import marked_dprint_html


def chain(n, op=pt.exp):
    x = pt.vector("x")
    y = x
    for _ in range(n):
        y = op(y)
    return x, y


def wide(n):
    x = pt.vector("x")
    return x, pt.add(*[pt.exp(x * (k / n)) for k in range(n)])


def test_small_graphs_print_in_full():
    x, y = chain(SUMMARY_NODES)
    assert graph_text(y) == y.dprint(file="str")


def test_deep_graph_text_is_a_summary():
    _, y = chain(10_000)
    text = graph_text(y)
    lines = text.splitlines()
    assert lines[0] == f"Large graph: 10,000 nodes; showing the top {SUMMARY_DEPTH} levels."
    assert lines[-1] == SEE_ALL
    assert len(lines) == SUMMARY_DEPTH + 3  # header, the levels, the cut marker, the note
    assert lines[-2].endswith("└─ …")


def test_wide_graph_text_stops_after_the_line_limit():
    _, y = wide(3000)
    lines = graph_text(y).splitlines()
    assert lines[0].startswith("Large graph: 9,001 nodes; showing the top")
    assert f"first {SUMMARY_LINES} lines" in lines[0]
    assert len(lines) <= SUMMARY_LINES + 5


def test_panels_of_large_graphs_are_small_and_do_not_grow_with_the_graph():
    sizes = {}
    for n in (10_000, 20_000):
        _, y = chain(n)
        html = graph_html(y)
        assert f"Large graph: {n:,} nodes" in html and "max_nodes=None" in html
        if shutil.which("dot"):
            assert "<svg" in html and "more nodes" in html and "nodes nearest the outputs" in html
        sizes[n] = len(html)
    assert sizes[20_000] < 1.1 * sizes[10_000]
    assert sizes[20_000] < 50_000
    _, y = wide(3000)
    assert len(graph_html(y)) < 200_000  # 9,001 nodes; the full text alone is ~1 MB


def test_function_display_of_a_large_graph_is_a_summary():
    x, y = chain(10_000, pt.sin)
    f = opgraph.function([x], y, mode="PYTHON")
    html = function_html(f)
    assert "Large graph: 10,000 nodes" in html and "Compiled function" in html
    assert len(html) < 50_000
    expected = np.array([0.5, 1.0])
    for _ in range(10_000):
        expected = np.sin(expected)
    np.testing.assert_allclose(f(np.array([0.5, 1.0])), expected)


def test_step_view_text_of_a_large_graph_is_a_summary():
    _, y = chain(10_000)
    html = marked_dprint_html([y], [y.owner], "opg-new")
    assert "Large graph: 10,000 nodes" in html and '<span class="opg-new">Exp [id A]</span>' in html
    assert len(html) < 5_000


def test_rules_text_lists_at_most_max_rows():
    from types import SimpleNamespace

    from opgraph.display.rewrite_panel import rules_text

    x = pt.vector("x")
    records = [SimpleNamespace(rule=f"r{k}", tags=("canonicalize",), replaced=[x * 1], new=[x]) for k in range(500)]
    lines = rules_text(records, max_rows=200).splitlines()
    assert len(lines) == 201 and lines[0].startswith("1. r0 [canonicalize]") and lines[-1].startswith("… 300 more")
    assert len(rules_text(records[:3]).splitlines()) == 3

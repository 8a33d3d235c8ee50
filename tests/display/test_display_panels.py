"""HTML panels: graph (text + SVG or hint), compiled function, profile tables with bars, rewrite panel."""

import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import opgraph.tensor as pt
from opgraph.display import function_html, graph_html, profile_html
from opgraph.display.expr_text import expr_text
from opgraph.display.profile_panel import fmt_time
from opgraph.display.rewrite_panel import rewrite_html
from opgraph.display.rewrite_record import rewrite_with_history
from opgraph.kernel_core.compile import function


def test_graph_panel_both():
    x = pt.vector("x")
    html = graph_html(pt.exp(x) + x)
    assert "Add [id A]" in html and "Exp [id B]" in html and "Vector(float64, shape=(?,))" in html
    if shutil.which("dot"):
        svg = html[html.index("<svg"): html.index("</svg>") + 6]
        ET.fromstring(svg)
        assert "elementwise" in html  # the colour legend


def test_graph_panel_formats_and_fallback(no_dot):
    x = pt.vector("x")
    assert "<pre" in graph_html(pt.exp(x), format="text")
    html = graph_html(pt.exp(x), format="svg")
    assert "Exp [id A]" in html and "conda install graphviz" in html
    with pytest.raises(ValueError, match="format must be one of"):
        graph_html(pt.exp(x), format="png")


def test_html_escapes_names():
    x = pt.vector("<b>x</b>")
    html = graph_html(pt.exp(x), format="text")
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_function_and_profile_panels():
    x = pt.vector("x")
    f = function([x], (pt.exp(x) * 2).sum(), mode="PYTHON", profile=True)
    f(np.arange(3.0))
    html = function_html(f)
    assert "Compiled function" in html and "Compile time" in html and "Sum{axes=None}" in html
    assert "Time per Op class" in html and "Time per node" in html
    p = profile_html(f.profile)
    # one bar per op class and per node (the precedence of the old ``a and b or c`` made this always true)
    prof = f.profile
    assert p.count('class="opg-bar"') == len(prof.op_class_table()) + len(prof.node_table()) >= 2
    assert "Elemwise{Exp}" in p and "#0 Exp" in p
    assert "Calls: 1" in p


def test_profile_panel_before_any_call():
    x = pt.vector("x")
    f = function([x], pt.exp(x), mode="PYTHON", profile=True)
    assert "No per-node timings" in profile_html(f.profile)


def test_fmt_time_units():
    assert fmt_time(2e-6) == "2.0 µs" and fmt_time(0.0125) == "12.50 ms" and fmt_time(2) == "2.000 s"


def test_expr_text():
    x = pt.vector("x")
    assert expr_text(pt.log(1 + x)) == "Log(Add(ExpandDims{axis=0}(1), x))"
    assert expr_text(pt.exp(pt.exp(pt.exp(pt.exp(x)))), max_depth=2) == "Exp(Exp(…))"


def test_rewrite_panel():
    x = pt.vector("x")
    y = x * 1
    new, records = rewrite_with_history([y], include=("canonicalize",))
    html = rewrite_html([y], new, records, ["canonicalize"], format="text")
    assert "Before" in html and "After" in html and "mul_canonical" in html
    empty = rewrite_html([x], [x], [], ["canonicalize"], format="text")
    assert "No rewrite applied" in empty


def test_profile_panel_shows_the_numba_compile_phases():
    from opgraph.display import profile_html
    from opgraph.kernel_core.compile.profiling import ProfileStats

    prof = ProfileStats()
    prof.link_time = 0.5
    prof.add_compile_phase("numba_jit", 0.3)
    prof.add_compile_phase("cache_load", 0.05)
    html = profile_html(prof)
    for head, value in (("codegen", "150.00 ms"), ("Numba jit", "300.00 ms"), ("cache load", "50.00 ms")):
        assert f"<th>{head}</th>" in html and f"<td>{value}</td>" in html

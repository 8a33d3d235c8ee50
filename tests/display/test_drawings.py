"""Drawings in the panels: tall ones fit (scaled, never clipped behind an inner scrollbar) or zoom;
unnamed inputs are labelled by their type once."""

import re
import shutil

import pytest

import opgraph.tensor as pt
from opgraph.display import graph_html
from opgraph.display.html_parts import STYLE
from opgraph.kernel_core.printing.graphviz import graph_to_dot


def _rule(selector):
    m = re.search(re.escape(selector) + r"\{([^}]*)\}", STYLE)
    assert m, selector
    return dict(p.split(":", 1) for p in m.group(1).replace("\n", "").split(";") if p.strip())


def test_drawing_box_scales_the_svg_instead_of_clipping_it():
    box = _rule(".opg-svg")
    assert "overflow" not in box and "max-height" not in box   # no 620 px box with a scrollbar
    svg = _rule(".opg-svg svg.opg-drawing")
    assert svg["max-height"] == "620px" and svg["max-width"] == "100%" and svg["height"] == "auto"
    zoomed_box = _rule(".opg-zoom:checked ~ .opg-drawing-box")
    assert zoomed_box["overflow"] == "auto"
    zoomed_svg = _rule(".opg-zoom:checked ~ .opg-drawing-box svg.opg-drawing")
    assert zoomed_svg["max-height"] == "none" and zoomed_svg["max-width"] == "none"


@pytest.mark.skipif(not shutil.which("dot"), reason="graphviz `dot` not installed (apt-get install graphviz)")
def test_tall_drawing_has_a_viewbox_and_a_zoom_toggle():
    x = pt.vector("x")
    y = x
    for _ in range(40):   # ~40 boxes high: far taller than 620 px at natural size
        y = pt.exp(y) if len(str(y)) % 2 else pt.sin(y)
    html = graph_html([y, pt.cos(x)])
    svg_tag = re.search(r"<svg[^>]*>", html).group(0)
    assert 'class="opg-drawing"' in svg_tag and "viewBox=" in svg_tag   # scalable
    height_pt = float(re.search(r'height="([\d.]+)pt"', svg_tag).group(1))
    assert height_pt * 96 / 72 > 620
    ids = re.findall(r'<input type="checkbox" class="opg-zoom" id="([^"]+)">', html)
    assert len(ids) == 1 and f'<label class="opg-zoom-label" for="{ids[0]}"' in html
    other = re.findall(r'class="opg-zoom" id="([^"]+)"', graph_html(pt.exp(x)))
    assert other and other[0] != ids[0]   # two drawings on a page toggle separately


def _labels(dot):
    return re.findall(r'\blabel="([^"]*)"', dot)


def test_unnamed_input_is_labelled_by_its_type_once():
    v = pt.tensor(shape=(3,))
    x = pt.vector("x")
    dot = graph_to_dot(pt.exp(v) + x)
    labels = _labels(dot)
    assert "Vector(float64, shape=(3,))" in labels
    assert not any("<" in lab for lab in labels), labels
    assert "x\\nVector(float64, shape=(?,))" in labels   # a named input: name, then type
    # a bare unnamed input as the output: the same, once
    assert not any("<" in lab or lab.count("Vector") > 1 for lab in _labels(graph_to_dot(v)))

"""graph_to_dot / pydotprint: colours by kind, shared nodes once, large graphs, fallback without dot."""

import re
import shutil
import xml.etree.ElementTree as ET

import pytest

import opgraph.tensor as pt
from opgraph.kernel_core.compile import function
from opgraph.kernel_core.graph.fgraph import FunctionGraph
from opgraph.kernel_core.printing import graphviz as gv

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="graphviz `dot` not installed (apt-get install graphviz)")


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: `dot` cannot be found
    assert shutil.which("dot") is None


def box_lines(dot):
    return [line for line in dot.splitlines() if "shape=box, style=\"rounded,filled\"" in line]


def box_labels(dot):
    return [re.search(r'label="([^"]*)"', line).group(1) for line in box_lines(dot)]


def test_kinds_of_ops():
    x = pt.matrix("x")
    assert gv.op_kind(pt.log(x).owner.op) == "elementwise"
    assert gv.op_kind(x.T.owner.op) == "shape"
    assert gv.op_kind(x.sum().owner.op) == "reduction"
    assert gv.op_kind(x[0].owner.op) == "shape"
    assert gv.op_kind(x.reshape((4,)).owner.op) == "shape"


def test_inner_graph_ops_are_coloured_as_such():
    from opgraph.kernel_core.scalar.composite import Composite
    from opgraph.kernel_core.scalar.type import ScalarType
    from opgraph.kernel_core.tensor.elemwise import Elemwise
    import opgraph.kernel_core.scalar.basic as ps

    a = ScalarType("float64").make_variable(name="a")
    comp = Composite([a], [ps.exp(ps.sin(a))])
    x = pt.vector("x")
    y = Elemwise(comp)(x)
    assert gv.op_kind(y.owner.op) == "inner"
    assert gv.KIND_COLORS["inner"] in gv.graph_to_dot(y)


def test_dot_colours_names_and_types():
    x = pt.vector("x")
    y = pt.log(1 + x)
    y.name = "y"
    dot = gv.graph_to_dot(y)
    assert dot.startswith("digraph")
    assert f'fillcolor="{gv.KIND_COLORS["input"]}", label="x\\nVector(float64, shape=(?,))"' in dot
    assert gv.KIND_COLORS["constant"] in dot
    assert gv.KIND_COLORS["elementwise"] in dot
    assert gv.KIND_COLORS["shape"] in dot  # the ExpandDims of the constant
    assert 'label="y\\nVector(float64, shape=(?,))"' in dot  # named output
    assert 'tooltip="Log: Vector(float64, shape=(?,))"' in dot
    assert "Vector(float64" not in "".join(box_labels(gv.graph_to_dot(y)))
    assert "Vector(float64" in "".join(box_labels(gv.graph_to_dot(y, print_type=True)))


def test_shared_subgraph_drawn_once():
    x = pt.vector("x")
    s = pt.exp(x)
    y = s * s + pt.log(s)
    dot = gv.graph_to_dot(y)
    assert box_labels(dot).count("Exp") == 1
    assert sum(line.strip().startswith("v") and 'label="x' in line for line in dot.splitlines()) == 1


def test_multiple_outputs_and_fgraph_and_function():
    x = pt.vector("x")
    a, b = pt.exp(x), pt.sin(x)
    dot = gv.graph_to_dot([a, b])
    assert "o0" in dot and "o1" in dot
    fg = FunctionGraph([x], [a, b])
    assert gv.graph_to_dot(fg).count("-> o") == 2
    f = function([x], pt.exp(x).sum(), mode="PYTHON")
    fdot = gv.graph_to_dot(f)
    assert "#0" in fdot and "Sum{axes=None}" in fdot  # compiled: toposort index shown


def test_bad_object_is_a_short_type_error():
    with pytest.raises(TypeError, match="cannot draw a int"):
        gv.graph_to_dot(3)


def chain_graph(n):
    x = pt.vector("x")
    y = x
    for i in range(n):
        y = pt.exp(y) if i % 2 else pt.sin(y)
    return y


def test_long_chains_collapse():
    dot = gv.graph_to_dot(chain_graph(300))
    boxes = box_lines(dot)
    assert len(boxes) < 10
    assert "(300 elementwise ops)" in dot


def test_small_graphs_do_not_collapse():
    assert len(box_lines(gv.graph_to_dot(chain_graph(20)))) == 20


def test_huge_graphs_truncate_and_stay_iterative():
    x = pt.vector("x")
    y = x
    for i in range(5000):  # alternate kinds so chains cannot merge
        y = pt.exp(y) if i % 2 else y.T
    dot = gv.graph_to_dot(y, max_nodes=200)
    assert "more nodes" in dot
    assert len(box_lines(dot)) <= 200


def test_truncated_wide_graph_draws_one_edge_from_the_summary_node_per_box():
    x = pt.vector("x")
    y = pt.add(*[pt.exp(x * (k / 2000)) for k in range(2000)])
    dot = gv.graph_to_dot(y, max_nodes=50)
    assert "more nodes" in dot and "max_nodes=None" in dot
    # 49 Exp boxes lose their inputs to the summary node, the Add box 1951 of its inputs:
    # one dashed edge per box, not one per dropped input.
    assert dot.count("more -> ") == 50
    assert len(dot) < 20_000


@needs_dot
def test_svg_parses_and_highlight():
    x = pt.vector("x")
    y = pt.log(1 + x)
    svg = gv.render_svg(y, highlight={y.owner: "#ff0000"})
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "Log" in svg and "#ff0000" in svg


@needs_dot
def test_hundreds_of_nodes_render():
    x = pt.vector("x")
    terms = [pt.exp(x * i) + pt.sin(x) for i in range(150)]
    y = terms[0]
    for t in terms[1:]:
        y = y + t
    ET.fromstring(gv.render_svg(y))


@needs_dot
def test_pydotprint_image_and_file(tmp_path, capsys):
    x = pt.vector("x")
    y = pt.exp(x)
    svg = gv.pydotprint(y, return_image=True, format="svg")
    ET.fromstring(svg[svg.index("<svg"):])
    png = gv.pydotprint(y, return_image=True, format="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    out = tmp_path / "g.svg"
    assert gv.pydotprint(y, outfile=str(out)) == str(out)
    assert out.read_text().count("Exp") >= 1
    assert f"The output file is available at {out}" in capsys.readouterr().out


def test_pydotprint_without_dot_never_raises(no_dot, tmp_path, capsys):
    x = pt.vector("x")
    y = pt.log(1 + x)
    assert gv.render_svg(y) is None
    svg = gv.pydotprint(y, return_image=True, format="svg")
    root = ET.fromstring(svg)  # still an image IPython's SVG() accepts
    text = "".join(root.itertext())
    assert "Log [id A]" in text and "apt-get install graphviz" in text
    png = gv.pydotprint(y, return_image=True, format="png")
    assert "Log [id A]" in png and "conda install graphviz" in png
    out = tmp_path / "g.png"
    assert gv.pydotprint(y, outfile=str(out)) is None
    printed = capsys.readouterr().out
    assert printed.startswith("Log [id A]")
    assert printed.strip().splitlines()[-1] == gv.INSTALL_HINT
    assert not out.exists()


def test_pydotprint_rejects_bad_format():
    with pytest.raises(ValueError, match="bad format"):
        gv.pydotprint(pt.vector("x"), return_image=True, format="s v g")


def test_public_printing_module_exports_pydotprint():
    from opgraph.printing import pydotprint

    assert pydotprint is gv.pydotprint

"""%load_ext opgraph: magics and text/html formatters; plain text reprs unchanged."""

import xml.etree.ElementTree as ET

import pytest
import shutil
from IPython.core.interactiveshell import InteractiveShell

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.compile import function
from opgraph.kernel_core.graph.fgraph import FunctionGraph


def fmt(ip, obj):
    data, _ = ip.display_formatter.format(obj)
    return data


def test_package_exposes_extension_entry_points():
    assert callable(opgraph.load_ipython_extension)
    assert callable(opgraph.unload_ipython_extension)


def test_magics_registered(shell):
    assert "pytensor" in shell.magics_manager.magics["cell"]
    assert "pytensor" in shell.magics_manager.magics["line"]


def test_variable_html_and_plain_text(shell):
    x = pt.vector("x")
    y = pt.log(1 + x)
    data = fmt(shell, y)
    assert data["text/plain"] == "Log.0"
    html = data["text/html"]
    assert "Log [id A]" in html and "Add [id B]" in html
    if shutil.which("dot"):
        svg = html[html.index("<svg"): html.index("</svg>") + 6]
        ET.fromstring(svg)


def test_html_without_dot_has_text_and_hint(shell, no_dot):
    x = pt.vector("x")
    html = fmt(shell, pt.exp(x))["text/html"]
    assert "Exp [id A]" in html
    assert "<svg" not in html
    assert "apt-get install graphviz" in html


def test_fgraph_function_and_profile_html(shell):
    x = pt.vector("x")
    y = pt.exp(x).sum()
    fg = FunctionGraph([x], [y])
    assert "Sum{axes=None}" in fmt(shell, fg)["text/html"]
    f = function([x], y, mode="PYTHON", profile=True)
    f([1.0, 2.0])
    fhtml = fmt(shell, f)["text/html"]
    assert "Compiled function" in fhtml and "Sum{axes=None}" in fhtml and "Compile time" in fhtml
    phtml = fmt(shell, f.profile)["text/html"]
    assert 'class="opg-bar"' in phtml and "Time per Op class" in phtml


def test_unload_and_reload(shell):
    shell.run_line_magic("unload_ext", "opgraph")
    x = pt.vector("x")
    assert "text/html" not in fmt(shell, pt.exp(x))
    assert "pytensor" not in shell.magics_manager.magics["cell"]
    shell.run_line_magic("load_ext", "opgraph")
    assert "text/html" in fmt(shell, pt.exp(x))


def test_formatter_failure_falls_back_to_text(shell):
    from opgraph.kernel_core.graph.basic import Variable

    class Broken(Variable):
        @property
        def owner(self):
            raise RuntimeError("boom")

        @owner.setter
        def owner(self, value):
            pass

    v = Broken.__new__(Broken)
    v.name = "b"
    data = fmt(shell, v)
    assert "text/html" not in data
    assert data["text/plain"] == "b"


def test_extensions_config_entry_loads():
    # What `c.InteractiveShellApp.extensions = ["opgraph"]` does: import and call the entry point.
    ip = InteractiveShell.instance()
    assert ip.extension_manager.load_extension("opgraph") in (None, "already loaded")
    assert "pytensor" in ip.magics_manager.magics["cell"]

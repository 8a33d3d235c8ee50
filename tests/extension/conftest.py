"""A real IPython shell with the opgraph extension loaded, and display capture helpers."""

import shutil

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

HAS_DOT = shutil.which("dot") is not None


@pytest.fixture
def shell():
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "opgraph")
    for name in [k for k in ip.user_ns if k in ("x", "y", "z", "w", "_pytensor", "res", "f")]:
        del ip.user_ns[name]
    yield ip


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # empty directory: graphviz's `dot` is not found
    assert shutil.which("dot") is None


def run_magic(ip, line, cell=None):
    """Run %%pytensor (cell) or %pytensor (line); returns the capture (stdout, stderr, outputs)."""
    with capture_output() as cap:
        if cell is None:
            ip.run_line_magic("pytensor", line)
        else:
            ip.run_cell_magic("pytensor", line, cell)
    return cap


def html_outputs(cap):
    return [o.data["text/html"] for o in cap.outputs if "text/html" in o.data]

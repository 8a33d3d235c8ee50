"""Shared test settings: hypothesis profile, a per-session Numba cache directory."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "opgraph", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("opgraph")

# Compiled-code cache shared by all tests of a run (and across runs on one machine).
os.environ.setdefault("OPGRAPH_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "opgraph-tests"))


# -- IPython fixtures for the notebook-layer tests (extension, magics, widgets, display) --
import shutil  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def shell():
    """A real IPython shell with the opgraph extension loaded and a clean namespace."""
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "opgraph")
    for name in [k for k in ip.user_ns if k in ("x", "y", "z", "w", "_pytensor", "res", "f")]:
        del ip.user_ns[name]
    yield ip


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    """A PATH without graphviz's `dot`."""
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("dot") is None

"""Shared test settings: hypothesis profile, a per-session Numba cache directory."""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "opgraph", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("opgraph")

# Compiled-code cache shared by all tests of a run (and across runs on one machine).
os.environ.setdefault("OPGRAPH_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "opgraph-tests"))

# Mode NUMBA's tiers (compile/tiered.py).  Tests under these directories exercise
# function() semantics, printing and the notebook layer, not the Numba backend: they
# run the generated-Python tier, and Numba compiles only where a test calls
# f.wait_compiled() ("on_wait": deterministic, and much less compiling).  Everywhere
# else mode NUMBA compiles before function() returns ("off"), so the op, gradient
# and backend tests keep testing Numba's code.  tests/kernel_core/compile/test_tiered.py
# tests the background switch itself.
# Processes the tests start inherit "off" too (a background compile could still be
# running when such a process exits, leaving the disk cache without its entry).
_flags = os.environ.get("OPGRAPH_FLAGS", "")
if "tiered_compile" not in _flags:
    os.environ["OPGRAPH_FLAGS"] = ",".join(filter(None, [_flags, "tiered_compile=off"]))
    import opgraph  # noqa: E402  (reads OPGRAPH_FLAGS; set it also if opgraph was imported before)

    opgraph.config.tiered_compile = "off"
_FAST_TIER_DIRS = ("kernel_core/compile", "kernel_core/graph", "kernel_core/printing", "display", "magics",
                   "widgets", "extension", "docs")
_TESTS_ROOT = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(autouse=True)
def _numba_tiers(request):
    import opgraph

    rel = os.path.relpath(str(request.path), _TESTS_ROOT).replace(os.sep, "/")
    strategy = "on_wait" if rel.startswith(tuple(d + "/" for d in _FAST_TIER_DIRS)) else "off"
    with opgraph.config.change(tiered_compile=strategy):
        yield


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

"""Shared test settings: hypothesis profile, a per-session Numba cache directory."""

import os

import pytest
from hypothesis import HealthCheck, settings
from stack_chunk_cache import install as _install_stack_chunk_cache

# Every test process (the xdist controller and each worker import this file): CPython
# 3.11/3.12 map and unmap a 16 KiB frame-stack chunk per call at a chunk's edge, which
# Numba's compiler hits hundreds of thousands of times (stack_chunk_cache.py, figures there).
_install_stack_chunk_cache()

settings.register_profile(
    "opgraph", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("opgraph")

# Compiled-code cache shared by all tests of a run (and across runs on one machine).
os.environ.setdefault("OPGRAPH_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "opgraph-tests"))

# Mode NUMBA's tiers (compile/tiered.py).  Most tests check what a graph computes
# (ops, gradients, rewrites, logprob, scan semantics, function() semantics, printing,
# the notebook layer), not the Numba backend: they run the generated-Python tier, and
# Numba compiles only where a test calls f.wait_compiled() ("on_wait": deterministic,
# and the Python tier runs under every such test).  It saves little time now: a whole
# cold-cache run took 248 s of tests (442 CPU-s) this way and 250 s (449 CPU-s) with every
# test "off" (2026-12-04, 2 cores): those tests' graphs are small and reuse the shared
# kernels.  The Numba backend is tested where Numba compiles before function() returns
# ("off"): every test under tests/kernel_core/backends/ (among them the dual-mode suite,
# test_dual_mode_*.py, which compiles every op of the library in mode NUMBA and compares
# it with mode PYTHON), and every test marked ``numba`` (a module's
# ``pytestmark = pytest.mark.numba`` or a test's ``@pytest.mark.numba``) or named for
# Numba (``test_numba_...``, the ``[NUMBA]`` case of a test parametrized by mode): a
# test of Numba's code (generated source, kernels, objmode, Numba-only errors).
# A module-scoped fixture compiles with Numba when a test of its module wants Numba.
# tests/kernel_core/compile/test_tiered.py tests the background switch itself.
# Processes the tests start inherit "off" (a background compile could still be
# running when such a process exits, leaving the disk cache without its entry);
# the notebooks' kernels get "on_wait" (notebooks/conftest.py).
_flags = os.environ.get("OPGRAPH_FLAGS", "")
if "tiered_compile" not in _flags:
    os.environ["OPGRAPH_FLAGS"] = ",".join(filter(None, [_flags, "tiered_compile=off"]))
    import opgraph  # noqa: E402  (reads OPGRAPH_FLAGS; set it also if opgraph was imported before)

    opgraph.config.tiered_compile = "off"
_NUMBA_DIRS = ("kernel_core/backends/",)
_TESTS_ROOT = os.path.dirname(os.path.abspath(__file__))


def _wants_numba(node):
    """Marked ``numba``, or named for Numba (test_numba_..., the [NUMBA] case of a dual-mode test)."""
    return node.get_closest_marker("numba") is not None or "numba" in node.name.lower()


_NUMBA_MODULES = set()   # modules with a test that wants Numba: their module-scoped fixtures compile


# The order xdist hands the files to its workers (pyproject: --dist loadfile with
# --no-loadscope-reorder, so xdist keeps this order): the files that take longest with a
# cold compiled-code cache start first, longest first, so that none of them starts last
# while the other worker runs out of files; then every other file, most tests first (what
# xdist's own reordering did), in collection order among equals.  The figures: each file's
# summed test durations in a whole cold-cache run (2 workers on 2 cores, otherwise idle,
# 4.1 min of tests, 2026-12-04).  A file not listed takes a few seconds to about nine.
# (Three workers on the same 2 cores: 266 s of tests instead of 248, 497 CPU-s instead of
# 442 -- each worker compiles the shared kernels the others have not cached yet.)
LONGEST_FIRST = (
    # 54 s, every notebook in JupyterLab; the other browser files join its work unit
    # (pytest_xdist_make_scheduler below): 61 s for the three since they share pages.
    "tests/browser/test_tutorial_notebooks_browser.py",
    "tests/kernel_core/backends/numba/test_special_values.py",             # 29 s
    "tests/kernel_core/backends/numba/test_dual_mode_random.py",           # 26 s (test_statistics' graphs)
    "tests/kernel_core/backends/numba/test_dual_mode_attention.py",        # 26 s
    "tests/kernel_core/backends/numba/test_dual_mode_linalg.py",           # 25 s
    "tests/kernel_core/backends/numba/test_dual_mode_extra_ops.py",        # 20 s
    "tests/kernel_core/backends/jax/test_jax_dual_mode.py",                # 19 s
    "tests/kernel_core/backends/numba/test_dual_mode_elemwise.py",         # 17 s
    "tests/kernel_core/backends/numba/test_numba_backend.py",              # 15 s
    "tests/kernel_core/backends/numba/test_dual_mode_factorizations.py",   # 15 s
    "tests/kernel_core/backends/numba/test_dual_mode_shape_indexing.py",   # 12 s
)
_ROOT = os.path.dirname(_TESTS_ROOT)


# The browser test files share one JupyterLab server and one browser per worker
# (tests/browser/conftest.py: session fixtures), and their pages: xdist's loadfile
# scheduling hands them to a worker as one unit, so that the second worker does not start
# a server, a chromium and JupyterLab pages of its own for two tests.
BROWSER_TESTS = "tests/browser/"


def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class BrowserFilesTogether(LoadFileScheduling):
        def _split_scope(self, nodeid):
            scope = super()._split_scope(nodeid)
            return BROWSER_TESTS if scope.startswith(BROWSER_TESTS) else scope

    return BrowserFilesTogether(config, log)


def _schedule_order(items):
    """Sort ``items`` file by file as LONGEST_FIRST says (a file's items keep their order)."""
    rank = {os.path.join(_ROOT, path): k for k, path in enumerate(LONGEST_FIRST)}
    count, first = {}, {}
    for k, item in enumerate(items):
        path = str(item.path)
        count[path] = count.get(path, 0) + 1
        first.setdefault(path, k)
    position = {id(item): k for k, item in enumerate(items)}

    def key(item):
        path = str(item.path)
        return (rank.get(path, len(rank)), -count[path], first[path], position[id(item)])

    items.sort(key=key)


def pytest_collection_modifyitems(items):
    _NUMBA_MODULES.update(str(item.path) for item in items if _wants_numba(item))
    _schedule_order(items)


def tier_strategy(node):
    """The tiered_compile value a test (or a module, for its module-scoped fixtures) runs with."""
    rel = os.path.relpath(str(node.path), _TESTS_ROOT).replace(os.sep, "/")
    if rel.startswith("..") or rel.startswith(_NUMBA_DIRS) or _wants_numba(node):
        return "off"
    if isinstance(node, pytest.Module) and str(node.path) in _NUMBA_MODULES:
        return "off"
    return "on_wait"


@pytest.fixture(autouse=True, scope="module")
def _numba_tiers_module(request):
    import opgraph

    with opgraph.config.change(tiered_compile=tier_strategy(request.node)):
        yield


@pytest.fixture(autouse=True)
def _numba_tiers(request, _numba_tiers_module):
    import opgraph

    with opgraph.config.change(tiered_compile=tier_strategy(request.node)):
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

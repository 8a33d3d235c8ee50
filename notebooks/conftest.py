"""nbval settings for the tutorial notebooks.

The rich displays (``text/html`` panels and ``image/svg+xml`` drawings) embed SVG made
by graphviz, whose bytes change with the graphviz version (or vanish when ``dot`` is
missing), so only their ``text/plain`` part is compared. Every rich opgraph display
carries a ``text/plain`` twin (the dprint text), so the graph itself is still checked.
"""

import os

# Compiled code cached on disk is shared with the unit tests (same machine, same graphs),
# so a notebook run after the tests compiles almost nothing. The kernels inherit this.
os.environ.setdefault("OPGRAPH_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "opgraph-tests"))
import pytest  # noqa: E402

# Mode NUMBA's tiers in the notebooks' kernels (compile/tiered.py): "on_wait", so a
# tutorial's functions run the generated-Python tier and Numba compiles only where a
# cell calls f.wait_compiled() (the cache demo, the profiles of the Numba tier).  What a
# cell prints is the same as with "background" (the stored outputs) or "off": the
# values, dprint's graph (the "running on the Python tier" note is sanitized), and
# profiles taken after wait_compiled().  The kernel starts in the first cell's setup and
# reads OPGRAPH_FLAGS from this process's environment; the variable is put back after,
# so the processes the unit tests start keep theirs.
KERNEL_FLAGS = "tiered_compile=on_wait"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    if item.path.suffix != ".ipynb":
        yield
        return
    saved = os.environ.get("OPGRAPH_FLAGS")
    others = [f for f in (saved or "").split(",") if f and not f.startswith("tiered_compile")]
    os.environ["OPGRAPH_FLAGS"] = ",".join(others + [KERNEL_FLAGS])
    try:
        yield
    finally:
        if saved is None:
            del os.environ["OPGRAPH_FLAGS"]
        else:
            os.environ["OPGRAPH_FLAGS"] = saved


def pytest_collectstart(collector):
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("text/html", "image/svg+xml")

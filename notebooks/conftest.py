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
# The stored outputs show Numba-compiled functions (dprint, profiles): compile before
# function() returns, as the tutorials describe, instead of running the fast tier first.
os.environ.setdefault("OPGRAPH_FLAGS", "tiered_compile=off")


def pytest_collectstart(collector):
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("text/html", "image/svg+xml")

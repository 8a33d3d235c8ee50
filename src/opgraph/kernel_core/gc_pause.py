"""Pausing Python's cyclic garbage collector around graph-sized work.

Building, rewriting and compiling graphs allocate many small objects that
stay alive; the cyclic GC would rescan them again and again (a third of the
rewrite time on 10^5-node graphs).  Nothing cyclic is leaked: collection
resumes, with everything still collectable, when the block ends.
"""

from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def paused_gc():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

"""Keep freed output buffers in the process heap (glibc) instead of unmapping them.

Compiled graphs allocate their outputs with ``malloc``.  glibc serves blocks
above its mmap threshold (128 KiB at start-up) with a fresh ``mmap`` and
returns them to the kernel on ``free``, and it trims the heap top back to the
kernel once more than twice that threshold is free there.  Either way the next
call's outputs are new pages: one page fault, and the kernel zeroing the page,
per 4 KiB -- for a loop over 10^5 floats that costs ten times the loop itself
(W2 in benchmarks/).

glibc raises both thresholds by itself the first time a large mmap'ed block is
freed (up to 32 MiB; "dynamic mmap threshold", see mallopt(3)), which any
program handling large arrays triggers sooner or later -- so whether a function
paid for page faults depended on what the process had freed before.
``settle_heap()`` frees one such block when the backend starts, so that
behaviour is there from the first call: blocks under 32 MiB are reused from
the heap.  Memory stays bounded (glibc still trims free heap beyond 64 MiB).
Other C libraries, or a glibc that refuses, are left alone.
"""

from __future__ import annotations

import sys

_BLOCK = 32 * 1024 * 1024 - 64 * 1024   # just under glibc's DEFAULT_MMAP_THRESHOLD_MAX (64-bit)
_done = False


def settle_heap():
    global _done
    if _done:
        return
    _done = True
    if not sys.platform.startswith("linux") or sys.maxsize <= 2 ** 32:
        return
    try:
        import ctypes
        import platform

        if platform.libc_ver()[0] != "glibc":
            return
        libc = ctypes.CDLL(None)
        libc.malloc.restype = ctypes.c_void_p
        libc.malloc.argtypes = [ctypes.c_size_t]
        libc.free.argtypes = [ctypes.c_void_p]
        block = libc.malloc(_BLOCK)
        if block:
            libc.free(block)
    except Exception:  # pragma: no cover - a best-effort tuning only
        return

"""The frame-stack chunk cache that tests/conftest.py installs (tests/stack_chunk_cache.py)."""

import ctypes
import threading

import pytest
import stack_chunk_cache as scc

pytestmark = pytest.mark.skipif(not scc.applies(), reason="only CPython 3.11/3.12 get the cache")

# PYFUNCTYPE: the call keeps the GIL, as CPython's own calls of the arena allocator do.
_ALLOC = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
_FREE = ctypes.PYFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)


def _current():
    allocator = scc._ArenaAllocator()
    ctypes.pythonapi.PyObject_GetArenaAllocator(ctypes.byref(allocator))
    return allocator


def test_installed_once_for_the_session():
    scc.install()   # a second call changes nothing
    engine, ours = scc._installed
    now = _current()
    assert (now.alloc, now.free) == (ours.alloc, ours.free)


def test_a_freed_chunk_is_handed_back_and_other_sizes_pass_through():
    now = _current()
    alloc, free = _ALLOC(now.alloc), _FREE(now.free)
    held = [alloc(now.ctx, scc.CHUNK_BYTES) for _ in range(scc.SLOTS)]   # empties the cache
    first = alloc(now.ctx, scc.CHUNK_BYTES)
    ctypes.memset(first, 0x5A, scc.CHUNK_BYTES)   # a real, writable block
    free(now.ctx, first, scc.CHUNK_BYTES)
    assert alloc(now.ctx, scc.CHUNK_BYTES) == first
    for block in held + [first]:   # the cache takes SLOTS back, the replaced allocator the rest
        free(now.ctx, block, scc.CHUNK_BYTES)
    other = alloc(now.ctx, 2 * scc.CHUNK_BYTES)   # not a chunk: the replaced allocator's
    ctypes.memset(other, 0, 2 * scc.CHUNK_BYTES)
    free(now.ctx, other, 2 * scc.CHUNK_BYTES)


def test_python_runs_across_chunk_edges_in_threads():
    def descend(depth):
        return 0 if depth == 0 else 1 + descend(depth - 1)

    # Depths 0..400 cross several 16 KiB chunk edges, in four threads at once.
    results = []
    threads = [threading.Thread(target=lambda: results.append([descend(d) for d in range(400)]))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [list(range(400))] * 4

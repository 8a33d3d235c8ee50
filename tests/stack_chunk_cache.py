"""Keep CPython 3.11/3.12 from mapping and unmapping a frame-stack chunk on every call.

CPython 3.11 and 3.12 keep Python frames in 16 KiB chunks that they get from the
"arena allocator" (mmap) and give back (munmap) as soon as the last frame in a chunk
returns.  A loop whose calls sit exactly at a chunk's end so maps and unmaps a chunk,
and page-faults it in, on every call (CPython gh-142183; fixed in 3.13 and 3.14 by
keeping one chunk per thread, not in 3.11 or 3.12, which take security fixes only).
Numba's compiler hits that boundary: a cold compile of
tests/kernel_core/backends/numba/test_dual_mode_extra_ops.py made 735,000
mmap/munmap pairs of 16 KiB (strace -c -f), nearly all of its 915,000 minor page
faults, and most of its 7.4 s of system time (51.5 s user).  With this cache, four
runs alternated with four without (empty OPGRAPH_CACHE_DIR and NUMBA_CACHE_DIR, -n 0,
load 0.3-7 on 2 cores): system time 0.8-1.0 s instead of 6.7-8.4 s, minor faults
170,000 instead of 929,000, same max RSS (717 MB); user time follows the load
(52.7-68.1 s with, 54.2-72.3 s without).

``install()`` wraps the arena allocator with a few cached chunks: a freed 16 KiB block
is kept (up to ``SLOTS`` of them) and handed back on the next 16 KiB request; every
other request, and every block beyond the cache, goes to the allocator it replaced,
which so still maps and unmaps everything (a cached block came from it too).  The two
functions are native code (LLVM IR compiled by llvmlite, already a dependency) because
CPython calls them for its own memory, where no Python code may run.  Both are called
with the GIL held (3.11/3.12 have no free-threaded build), so one cache needs no lock.

Process-global, so the test session installs it (tests/conftest.py); the library does not.
"""

from __future__ import annotations

import ctypes
import sys

CHUNK_BYTES = 16 * 1024   # CPython's DATA_STACK_CHUNK_SIZE (Python/pystate.c)
SLOTS = 4                 # a few threads at the boundary at once; 64 KiB kept at most

_installed = None         # (execution engine, allocator struct): alive as long as CPython uses them


class _ArenaAllocator(ctypes.Structure):   # PyObjectArenaAllocator (Include/cpython/objimpl.h)
    _fields_ = [("ctx", ctypes.c_void_p), ("alloc", ctypes.c_void_p), ("free", ctypes.c_void_p)]


_IR = """
@slots = internal global [{slots} x ptr] zeroinitializer
@count = internal global i64 0

define ptr @chunk_alloc(ptr %ctx, i64 %size) {{
entry:
  %is_chunk = icmp eq i64 %size, {chunk}
  br i1 %is_chunk, label %check, label %pass
check:
  %n = load i64, ptr @count
  %cached = icmp ugt i64 %n, 0
  br i1 %cached, label %pop, label %pass
pop:
  %m = sub i64 %n, 1
  store i64 %m, ptr @count
  %slot = getelementptr [{slots} x ptr], ptr @slots, i64 0, i64 %m
  %block = load ptr, ptr %slot
  ret ptr %block
pass:
  %fn = inttoptr i64 {alloc} to ptr
  %new = call ptr %fn(ptr %ctx, i64 %size)
  ret ptr %new
}}

define void @chunk_free(ptr %ctx, ptr %block, i64 %size) {{
entry:
  %is_chunk = icmp eq i64 %size, {chunk}
  br i1 %is_chunk, label %check, label %pass
check:
  %n = load i64, ptr @count
  %room = icmp ult i64 %n, {slots}
  br i1 %room, label %push, label %pass
push:
  %slot = getelementptr [{slots} x ptr], ptr @slots, i64 0, i64 %n
  store ptr %block, ptr %slot
  %m = add i64 %n, 1
  store i64 %m, ptr @count
  ret void
pass:
  %fn = inttoptr i64 {free} to ptr
  call void %fn(ptr %ctx, ptr %block, i64 %size)
  ret void
}}
"""


def applies():
    """CPython 3.11 or 3.12 (the versions with chunked frame stacks and no chunk cache)."""
    return sys.implementation.name == "cpython" and (3, 11) <= sys.version_info[:2] < (3, 13)


def install():
    """Wrap the arena allocator with the chunk cache, once per process; a no-op elsewhere."""
    global _installed
    if _installed is not None or not applies():
        return
    import llvmlite.binding as llvm

    api = ctypes.pythonapi
    api.PyObject_GetArenaAllocator.argtypes = [ctypes.POINTER(_ArenaAllocator)]
    api.PyObject_SetArenaAllocator.argtypes = [ctypes.POINTER(_ArenaAllocator)]
    old = _ArenaAllocator()
    api.PyObject_GetArenaAllocator(ctypes.byref(old))

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    module = llvm.parse_assembly(_IR.format(slots=SLOTS, chunk=CHUNK_BYTES, alloc=old.alloc, free=old.free))
    module.verify()
    machine = llvm.Target.from_default_triple().create_target_machine()
    engine = llvm.create_mcjit_compiler(module, machine)
    engine.finalize_object()
    new = _ArenaAllocator(old.ctx, engine.get_function_address("chunk_alloc"),
                          engine.get_function_address("chunk_free"))
    _installed = (engine, new)
    api.PyObject_SetArenaAllocator(ctypes.byref(new))

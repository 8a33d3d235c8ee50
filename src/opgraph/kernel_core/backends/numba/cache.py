"""On-disk cache of compiled graphs, shared by processes.

Layout (``OPGRAPH_CACHE_DIR``, default ``~/.cache/opgraph``)::

    numba/<key>/graph_<key>.py        the generated module (never rewritten)
    numba/<key>/__pycache__/...       numba's own cache of its machine code
    numba/<key>.lock                  serialises the first compilation

``key`` hashes the generated source together with the versions of numba,
NumPy, Python, numba's code-generation settings (``codegen_settings``) and
this backend's own source files, so a changed backend never reuses stale code.
Writing is atomic (a temporary directory renamed into place; a concurrent
writer that loses the race uses the winner's copy).
A corrupt entry -- a module whose text is not what we expect, or numba cache
files that do not unpickle -- is deleted and rebuilt.  Numba keys its own
cache on the module file's mtime and size, which never change once written.

Within one process, modules are memoised by key while a compiled function uses
them, so compiling the same graph twice reuses the already-compiled dispatcher.
The memo is weak: once every Function using a module is deleted, the module
leaves the memo and ``sys.modules`` and is freed (what numba itself keeps is
listed in linker.py's docstring).

Shared and read-only caches: an entry whose module is already there is read
without taking the lock (entries appear atomically and are never rewritten),
so a cache another user made, or a read-only one, serves every graph it has.
Entries and lock files get the umask's permissions (not ``mkdtemp``'s 0700),
so a cache can be shared.  When an entry has to be written and the cache
refuses (``PermissionError``, read-only file system), the graph is compiled in
memory instead, and one ``UnwritableCacheWarning`` per cache directory says so.
Whether the cache is writable is decided by attempting the write, never by
permission bits (root ignores those, ACLs and read-only mounts defeat them).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import importlib.util
import os
import pickle
import shutil
import sys
import tempfile
import warnings
import weakref

_ENV = "OPGRAPH_CACHE_DIR"
_modules = weakref.WeakValueDictionary()   # key -> CacheEntry, while some Function holds it
_backend_hash = None
_mem_counter = 0
_warned_roots = set()


class UnwritableCacheWarning(UserWarning):
    """The disk cache cannot be written: graphs are compiled in memory (not persisted)."""


def _refused(exc):
    """Whether ``exc`` is the file system refusing a write (not a bug to surface)."""
    return isinstance(exc, PermissionError) or (
        isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS))


def _warn_unwritable(root, exc):
    if root in _warned_roots:
        return
    _warned_roots.add(root)
    warnings.warn(f"opgraph: the compile cache {root} is not writable ({type(exc).__name__}: "
                  f"{exc.strerror or exc}); compiling in memory, without persisting "
                  f"(set {_ENV} to a writable directory)", UnwritableCacheWarning, stacklevel=4)


def cache_root():
    root = os.environ.get(_ENV)
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "opgraph")
    return os.path.join(root, "numba")


def codegen_settings():
    """Numba's process-wide settings that change the machine code of the same source
    (``NUMBA_OPT``, ``NUMBA_BOUNDSCHECK``, the loop and SLP vectorizers): part of every key, since
    numba's own cache index does not record them, so a process at another optimisation
    level (a debugging session at ``NUMBA_OPT=0``) never loads, nor leaves behind, code
    compiled under different settings."""
    from numba.core import config

    # Plain attribute reads: a setting numba renames fails here, loudly, instead of dropping out of the key.
    return "|".join(f"{name}={getattr(config, name)!r}"
                    for name in ("OPT", "BOUNDSCHECK", "LOOP_VECTORIZE", "SLP_VECTORIZE"))


def _backend_fingerprint():
    global _backend_hash
    if _backend_hash is None:
        import numba
        import numpy

        h = hashlib.sha256()
        h.update(f"{numba.__version__}|{numpy.__version__}|{sys.version}".encode())
        h.update(codegen_settings().encode())
        here = os.path.dirname(os.path.abspath(__file__))
        for fname in sorted(os.listdir(here)):
            if fname.endswith(".py"):
                with open(os.path.join(here, fname), "rb") as f:
                    h.update(fname.encode())
                    h.update(f.read())
        _backend_hash = h.hexdigest()
    return _backend_hash


def source_key(source):
    h = hashlib.sha256()
    h.update(_backend_fingerprint().encode())
    h.update(source.encode())
    return h.hexdigest()[:32]


@contextlib.contextmanager
def file_lock(path, optional=False):
    """An exclusive advisory lock (fcntl) on ``path``; a no-op where unsupported.

    Yields whether the lock is held.  With ``optional``, a lock file the file
    system refuses to open (another user's cache, a read-only one) yields False
    instead of raising."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield True
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)   # the umask decides who may share it
    except OSError as exc:
        if not (optional and _refused(exc)):
            raise
        yield False
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield True
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _numba_cache_ok(entry_dir):
    """Whether numba's index files unpickle (cheap: signatures and stamps only).

    The machine-code files (``.nbc``) are not unpickled here -- that costs as
    much as loading them; a corrupt one makes the first compile fail, and
    ``CacheEntry.drop_machine_code`` + a retry rebuilds it (see the linker)."""
    cache_dir = os.path.join(entry_dir, "__pycache__")
    if not os.path.isdir(cache_dir):
        return True
    for fname in os.listdir(cache_dir):
        path = os.path.join(cache_dir, fname)
        try:
            if fname.endswith(".nbi"):
                with open(path, "rb") as f:
                    pickle.load(f)
                    pickle.loads(f.read())
            elif fname.endswith(".nbc") and os.path.getsize(path) == 0:
                return False
        except Exception:
            return False
    return True


def _write_entry(root, key, source):
    """Atomically create ``root/key`` holding the module; returns its directory."""
    final = os.path.join(root, key)
    tmp = tempfile.mkdtemp(prefix=f".{key}.", dir=root)
    try:
        # mkdtemp makes 0700 directories: give the entry the umask's permissions,
        # so other users sharing the cache can read it.
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(tmp, 0o777 & ~mask)
        with open(os.path.join(tmp, f"graph_{key}.py"), "w") as f:
            f.write(source)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.rename(tmp, final)
        except OSError:
            # Another process won the race: keep its copy.
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _import_file(path, module_name):
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def _exec_in_memory(source, objects, key):
    import types

    global _mem_counter
    _mem_counter += 1
    module = types.ModuleType(f"_opgraph_numba_mem_{key}_{_mem_counter}")
    # numba resolves objmode globals through sys.modules[__name__].
    sys.modules[module.__name__] = module
    module.__dict__.update(objects)
    exec(compile(source, f"<opgraph-generated {key}>", "exec"), module.__dict__)
    return module


class CacheEntry:
    """A loaded generated module plus the lock guarding its first compilation."""

    def __init__(self, module, key, lock_path):
        self.module = module
        self.key = key
        self.lock_path = lock_path
        # The module is in sys.modules (numba resolves objmode globals there) only
        # while this entry -- so some compiled function -- is alive.
        weakref.finalize(self, _release_module, module.__name__, module).atexit = False

    def drop_machine_code(self):
        """Delete numba's cache files of this entry (they failed to load)."""
        path = getattr(self.module, "__file__", None)
        if path:
            shutil.rmtree(os.path.join(os.path.dirname(path), "__pycache__"), ignore_errors=True)

    def lock(self):
        """The entry's lock (serialises numba's first compilation across processes);
        nothing for an entry in a cache this process cannot write (another user's,
        or read-only): numba then only reads that cache."""
        if self.lock_path is None:
            return contextlib.nullcontext()
        return file_lock(self.lock_path, optional=True)


def _entry_matches(path, source):
    try:
        with open(path) as f:
            return f.read() == source
    except (OSError, UnicodeDecodeError):
        return False


def _in_memory_entry(source, key):
    entry = CacheEntry(_exec_in_memory(source.replace("_CACHE = True", "_CACHE = False"), {}, key), key, None)
    _modules[key] = entry
    return entry


def load_module(source, objects=None, cacheable=True):
    """The module for ``source``: from this process's memo, the disk cache, or freshly written."""
    key = source_key(source)
    if not cacheable or objects:
        return CacheEntry(_exec_in_memory(source, objects or {}, key), key, None)
    if key in _modules:
        return _modules[key]
    root = cache_root()
    lock_path = os.path.join(root, f"{key}.lock")
    entry_dir = os.path.join(root, key)
    path = os.path.join(entry_dir, f"graph_{key}.py")
    # An entry already there is read without the lock: it appeared atomically and
    # is never rewritten, and a shared or read-only cache must serve it.
    if not _entry_matches(path, source):
        try:
            os.makedirs(root, exist_ok=True)
            with file_lock(lock_path):
                if not _entry_matches(path, source):
                    if os.path.exists(entry_dir):
                        shutil.rmtree(entry_dir, ignore_errors=True)
                    _write_entry(root, key, source)
        except OSError as exc:
            if not _refused(exc):
                raise
            _warn_unwritable(root, exc)
            return _in_memory_entry(source, key)
    module = _import_file(path, f"_opgraph_numba_{key}")
    # numba's data files unpickle only once the module is importable; numba reads
    # them lazily (at compile), so removing corrupt ones now is safe.  (Not possible,
    # and not attempted, in a cache this process cannot write.)
    with file_lock(lock_path, optional=True) as locked:
        if locked and not _numba_cache_ok(entry_dir):
            shutil.rmtree(os.path.join(entry_dir, "__pycache__"), ignore_errors=True)
    entry = CacheEntry(module, key, lock_path)
    _modules[key] = entry
    return entry


def _forget_module(name, module):
    if sys.modules.get(name) is module:
        del sys.modules[name]


def _release_module(name, module):
    """Free a generated module no compiled function uses any more.

    Beyond ``sys.modules``, numba itself keeps it: every compiled overload's
    Environment holds its function's globals -- this module's dict, which holds
    the dispatchers -- and numba's target context keeps every overload until its
    dispatcher is collected.  That loop through a global registry never breaks on
    its own; emptying the module's namespace does (the dispatchers are collected,
    and numba's finalizer unregisters their overloads).  An objmode block is a
    dispatcher numba serialises into the machine code: numba keeps it in
    ``_MemoMixin._recent`` (the last 128) and in ``serialize._unpickled_memo``
    (forever); this module's are dropped from both (its machine code is never
    run again: no Function uses it)."""
    from numba.core import serialize
    from numba.core.dispatcher import _MemoMixin

    _forget_module(name, module)
    namespace = module.__dict__

    def ours(obj):
        return getattr(getattr(obj, "py_func", None), "__globals__", None) is namespace

    recent = _MemoMixin._recent
    for d in [d for d in recent if ours(d)]:
        recent.remove(d)
    memo = serialize._unpickled_memo
    for key in [k for k, v in memo.items() if isinstance(v, tuple) and v and ours(v[0])]:
        del memo[key]
    namespace.clear()


def clear_memory_cache():
    """Forget modules loaded in this process (tests use it to force a reload from disk)."""
    for entry in list(_modules.values()):
        _forget_module(entry.module.__name__, entry.module)
    _modules.clear()

"""The disk cache when it cannot be written: a shared read-only cache is read, an
unwritable one compiles in memory with one warning (issue 21).

Tests run as root, which ignores permission bits, so a read-only cache is
simulated honestly: every attempt to create or write a file below the cache
directory raises PermissionError (as the kernel would), reads are untouched.
The cache code decides by attempting the write, so this exercises its real path.
"""

import builtins
import errno
import os
import stat
import tempfile
import warnings

import numpy as np
import pytest

from opgraph.kernel_core.backends.numba import cache
from opgraph.kernel_core.backends.numba.linker import NumbaLinker
from opgraph.kernel_core.compile.mode import Mode

# The Numba linker itself (not whatever mode="NUMBA" selects first, e.g. a faster-to-start
# tier): these tests are about the compiled code.
NUMBA = Mode(linker=NumbaLinker(), optimizer="fast_run")

SOURCE = """import numba
_CACHE = True
# {tag}


@numba.njit(cache=_CACHE)
def opgraph_graph(i0):
    return (i0 + 1.0, )
"""


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("OPGRAPH_CACHE_DIR", str(tmp_path))
    cache.clear_memory_cache()
    yield tmp_path
    cache.clear_memory_cache()


def make_read_only(monkeypatch, root):
    """Refuse every write below ``root`` with EACCES."""
    root = str(root)
    below = lambda p: os.path.abspath(os.fspath(p)).startswith(root)  # noqa: E731
    denied = PermissionError(errno.EACCES, "Permission denied")
    real_open, real_os_open, real_mkdtemp, real_makedirs = builtins.open, os.open, tempfile.mkdtemp, os.makedirs
    writes = os.O_WRONLY | os.O_RDWR | os.O_CREAT

    def os_open(path, flags, *a, **k):
        if below(path) and flags & writes:
            raise denied
        return real_os_open(path, flags, *a, **k)

    def open_(file, mode="r", *a, **k):
        if isinstance(file, (str, os.PathLike)) and below(file) and any(c in mode for c in "wax+"):
            raise denied
        return real_open(file, mode, *a, **k)

    def mkdtemp(*a, dir=None, **k):
        if dir is not None and below(dir):
            raise denied
        return real_mkdtemp(*a, dir=dir, **k)

    def makedirs(path, *a, **k):
        if below(path) and not os.path.isdir(path):
            raise denied
        return real_makedirs(path, *a, **k)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    monkeypatch.setattr(os, "makedirs", makedirs)


def test_unwritable_cache_compiles_in_memory_with_one_warning(root, monkeypatch):
    import opgraph
    import opgraph.tensor as pt

    (root / "numba").mkdir()
    make_read_only(monkeypatch, root)
    x = pt.vector("x")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = opgraph.function([x], [pt.exp(x) * 2.5, pt.sin(x) - x], mode=NUMBA)
        other = cache.load_module(SOURCE.format(tag="another graph"))
    unwritable = [w for w in caught if issubclass(w.category, cache.UnwritableCacheWarning)]
    assert len(unwritable) == 1, [str(w.message) for w in caught]
    assert "not writable" in str(unwritable[0].message) and str(root) in str(unwritable[0].message)
    xv = np.array([0.0, 0.5, 1.0])
    a, b = f(xv)
    np.testing.assert_allclose(a, np.exp(xv) * 2.5)
    np.testing.assert_allclose(b, np.sin(xv) - xv)
    assert other.module._CACHE is False and other.lock_path is None
    assert os.listdir(root / "numba") == []


def test_read_only_cache_serves_its_entries_without_writing(root, monkeypatch):
    source = SOURCE.format(tag="shared")
    written = cache.load_module(source)
    entry_dir = os.path.dirname(written.module.__file__)
    cache.clear_memory_cache()
    make_read_only(monkeypatch, root)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no warning, no PermissionError
        entry = cache.load_module(source)
        with entry.lock() as held:
            assert held is False         # another user's lock file: no lock, no error
    assert os.path.dirname(entry.module.__file__) == entry_dir
    assert entry.module._CACHE is True
    assert entry.module.opgraph_graph.py_func(np.float64(1.0)) == (2.0,)


def test_entries_get_the_umask_permissions_not_0700(root):
    mask = os.umask(0o022)
    try:
        entry = cache.load_module(SOURCE.format(tag="permissions"))
    finally:
        os.umask(mask)
    mode = stat.S_IMODE(os.stat(os.path.dirname(entry.module.__file__)).st_mode)
    assert mode == 0o755
    lock = os.path.join(cache.cache_root(), f"{entry.key}.lock")
    assert stat.S_IMODE(os.stat(lock).st_mode) == 0o644


def test_other_os_errors_are_not_mistaken_for_an_unwritable_cache(root, monkeypatch):
    def broken(*a, **k):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(cache, "_write_entry", broken)
    with pytest.raises(OSError, match="Input/output"):
        cache.load_module(SOURCE.format(tag="io error"))

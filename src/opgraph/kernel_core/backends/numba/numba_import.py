"""Importing numba without importing all of ``scipy.linalg``.

Numba's implementation registry (loaded on the first compile, and on the first
load from its disk cache) runs ``import scipy.linalg.cython_blas`` to check that
BLAS exists.  Importing that submodule runs ``scipy/linalg/__init__.py`` first,
which imports most of SciPy (array-API compat layer, numpy.f2py, ...): about a
third of a second, more than half the cost of loading a cached graph in a new
process, for a graph that may not use linear algebra at all.

``preload_blas()`` imports the ``cython_blas`` extension alone -- with a
placeholder ``scipy.linalg`` package in ``sys.modules`` only while it loads --
then removes the placeholder, so a later ``import scipy.linalg`` runs the real
package, which then finds ``cython_blas`` already loaded (a one-shot import
hook re-attaches it as an attribute of the real package).  Numba's BLAS calls
look the functions up in ``sys.modules['scipy.linalg.cython_blas']``, which is
the real extension module.  Any failure leaves things as they were: numba then
imports scipy.linalg itself, as usual.

The preload itself costs a hundredth of a second, so it happens only when it
is needed: before numba compiles anything (its registries then load), and
before machine code calling BLAS / LAPACK runs (``needs_blas``).  Loading a
cached graph without linear algebra imports no SciPy at all.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
import types

_BLAS = "scipy.linalg.cython_blas"


class _ReattachBlas(importlib.abc.MetaPathFinder):
    """When the real ``scipy.linalg`` is imported, give it its ``cython_blas`` attribute back."""

    def find_spec(self, name, path=None, target=None):
        if name != "scipy.linalg":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_and_reattach(module):
            blas = sys.modules.get(_BLAS)
            if blas is not None:
                module.cython_blas = blas
            exec_module(module)

        spec.loader = _LoaderProxy(loader, exec_and_reattach)
        return spec


class _LoaderProxy(importlib.abc.Loader):
    def __init__(self, loader, exec_module):
        self._loader = loader
        self.exec_module = exec_module

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def __getattr__(self, name):
        return getattr(self._loader, name)


def _preload_cython_blas():
    if "scipy.linalg" in sys.modules or _BLAS in sys.modules:
        return
    import scipy  # noqa: F401  (a dependency: its absence is an install error, not a quiet skip)
    spec = importlib.util.find_spec("scipy.linalg")
    if spec is None or not spec.submodule_search_locations:
        return
    placeholder = types.ModuleType("scipy.linalg")
    placeholder.__path__ = list(spec.submodule_search_locations)
    had_attr = "linalg" in scipy.__dict__
    sys.modules["scipy.linalg"] = placeholder
    try:
        importlib.import_module(_BLAS)
    except Exception:
        sys.modules.pop(_BLAS, None)
        return
    finally:
        if sys.modules.get("scipy.linalg") is placeholder:
            del sys.modules["scipy.linalg"]
        if not had_attr and scipy.__dict__.get("linalg") is placeholder:
            del scipy.linalg
    sys.meta_path.insert(0, _ReattachBlas())


def _modules_numba_need_not_see():
    """Optional modules numba imports at import time that this process cannot need.

    ``coverage``: numba reports the lines of jitted code to an active coverage
    run, and none can be active unless ``coverage`` is already imported.
    ``yaml``: numba reads ``.numba_config.yaml`` from the working directory, and
    there is none.  Each is a few hundredths of a second of loading a cached graph."""
    hidden = []
    if "coverage" not in sys.modules:
        hidden.append("coverage")
    if "yaml" not in sys.modules and not os.path.isfile(".numba_config.yaml"):
        hidden.append("yaml")
    return hidden


_blas_preload_tried = False


def preload_blas():
    """Make ``scipy.linalg.cython_blas`` importable without importing scipy.linalg.

    Tried once per process: callers sit on per-run paths (profiling), and without
    SciPy a repeated attempt would search the import path every time."""
    global _blas_preload_tried
    if not _blas_preload_tried:
        _blas_preload_tried = True
        _preload_cython_blas()


def needs_blas(source):
    """Whether generated source calls numba's BLAS / LAPACK-backed functions."""
    return any(marker in source for marker in _BLAS_MARKERS)


# Source text of calls reaching numba's BLAS: its own functions, and kernels using them.
_BLAS_MARKERS = ("np.dot(", "np.linalg.", "blas_threads import blas_dot ", "scan_kernels import matvec ")


def import_numba():
    """``import numba``, showing it the optional modules it cannot need as missing while it imports."""
    if "numba" not in sys.modules:
        hidden = _modules_numba_need_not_see()
        for name in hidden:
            sys.modules[name] = None  # makes ``import name`` raise ImportError
        try:
            import numba
        finally:
            for name in hidden:
                if name in sys.modules and sys.modules[name] is None:
                    del sys.modules[name]
    import numba

    return numba

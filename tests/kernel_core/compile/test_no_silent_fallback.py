"""A missing piece of opgraph fails loudly: no quiet fallback to a slower or smaller path."""

import sys

import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.backends.numba.linker import NumbaLinker
from opgraph.kernel_core.compile.mode import get_mode


def test_numba_mode_links_with_numba():
    linker = get_mode("NUMBA").get_linker()
    # Tiered (compile/tiered.py): the Python tier first, then this Numba linker.
    assert isinstance(getattr(linker, "numba_linker", linker), NumbaLinker)
    with opgraph.config.change(tiered_compile="off"):
        assert isinstance(get_mode("NUMBA").get_linker(), NumbaLinker)


def test_numba_mode_without_the_backend_raises(monkeypatch):
    # None in sys.modules makes the import fail, as a broken backend module would.
    monkeypatch.setitem(sys.modules, "opgraph.kernel_core.backends.numba.linker", None)
    with pytest.raises(ImportError):
        get_mode("NUMBA").get_linker()


def test_compiling_without_the_rewrite_system_raises(monkeypatch):
    x = pt.dvector("x")
    monkeypatch.setitem(sys.modules, "opgraph.kernel_core.rewriting.api", None)
    with pytest.raises(ImportError):
        opgraph.function([x], pt.exp(x), mode="PYTHON")


def test_a_numba_op_family_that_fails_to_import_raises(monkeypatch):
    from opgraph.kernel_core.backends.numba.dispatch import load_op_implementations

    monkeypatch.setitem(sys.modules, "opgraph.kernel_core.backends.numba.join", None)
    with pytest.raises(ImportError):
        load_op_implementations()

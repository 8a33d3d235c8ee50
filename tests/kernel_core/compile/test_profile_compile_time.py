"""Profiles never charge Numba's compilation to a node: it is reported as jit / cache-load time.

The linker's clock is replaced by a fake one that only advances while numba
compiles (100 "seconds" per compilation), so the test needs no wall-clock
threshold: every node time must be 0 and the jit + cache-load time a multiple of 100.
"""

import types

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.backends.numba import linker as numba_linker
from opgraph.kernel_core.backends.numba.linker import NumbaLinker
from opgraph.kernel_core.compile.mode import Mode
from opgraph.kernel_core.compile.profiling import ProfileStats


@pytest.fixture
def compile_clock(monkeypatch):
    from numba.core.dispatcher import Dispatcher

    state = types.SimpleNamespace(t=0.0, compiles=0)
    original = Dispatcher.compile

    def compile(self, sig):
        already = tuple(sig) in self.overloads if isinstance(sig, tuple) else False
        result = original(self, sig)
        if not already:
            state.t += 100.0
            state.compiles += 1
        return result

    monkeypatch.setattr(Dispatcher, "compile", compile)
    monkeypatch.setattr(numba_linker, "time", types.SimpleNamespace(perf_counter=lambda: state.t))
    return state


def test_lazily_compiled_kernel_is_jit_time_not_node_time(compile_clock):
    x = pt.matrix("x")
    f = opgraph.function([x], (pt.exp(x) * x.shape[0]).sum(),
                         mode=Mode(linker=NumbaLinker(), optimizer="fast_run"), profile=True)
    prof = f.profile
    at_link = prof.jit_time + prof.cache_load_time
    assert at_link == 100.0 * compile_clock.compiles and compile_clock.compiles >= 1
    view = np.ones((4, 6))[:, ::2]   # strided: the kernels compile lazily, inside the first calls
    before = compile_clock.compiles
    for _ in range(3):
        assert f(view) == pytest.approx(np.exp(view).sum() * 4)
    assert compile_clock.compiles > before
    assert prof.jit_time + prof.cache_load_time == 100.0 * compile_clock.compiles
    rows = prof.node_table()
    assert rows and all(r.calls == 3 for r in rows)
    assert all(r.time == 0.0 for r in rows), [(r.op, r.time) for r in rows]
    assert prof.fct_call_time < 100.0   # the lazy compile is left out of the call time too
    text = prof.summary_text()
    assert "numba: jit" in text and "cache load" in text
    d = prof.as_dict()["compile"]
    assert d["numba_jit"] == prof.jit_time and d["cache_load"] == prof.cache_load_time
    assert d["codegen"] == prof.codegen_time == max(0.0, prof.link_time - prof.jit_time - prof.cache_load_time)


def test_add_compile_phase_names_the_phase():
    p = ProfileStats()
    p.add_compile_phase("numba_jit", 2.0)
    p.add_compile_phase("cache_load", 0.5, during_call=True)
    p.add_call(3.0)
    assert (p.jit_time, p.cache_load_time, p.fct_call_time) == (2.0, 0.5, 2.5)
    with pytest.raises(ValueError, match="unknown phase 'jit'.*numba_jit, cache_load"):
        p.add_compile_phase("jit", 1.0)

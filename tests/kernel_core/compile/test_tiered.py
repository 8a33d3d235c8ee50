"""Tiered execution of mode NUMBA: the Python tier first, Numba after the switch.

The switch is tested through ``wait_compiled()`` (deterministic); one small graph
with several outputs is compiled per test that needs Numba.
"""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.compile.mode import Mode
from opgraph.kernel_core.compile.tiered import TieredThunk


def _graph():
    x = pt.vector("x")
    s = pt.scalar("s")
    outs = [pt.exp(x) * s + x, (x ** 2).sum(), pt.log1p(pt.abs(x)).mean(), x.shape[0] * s]
    return [x, s], outs


ARGS = (np.linspace(-1.0, 2.0, 7), np.array(0.5))


def _check_same(a, b):
    for u, v in zip(a, b):
        assert u.dtype == v.dtype and u.shape == v.shape
        np.testing.assert_allclose(u, v, rtol=1e-13, atol=0)


def test_python_tier_then_numba_after_wait_compiled():
    inputs, outputs = _graph()
    with opgraph.config.change(tiered_compile="on_wait"):
        f = opgraph.function(inputs, outputs, mode="NUMBA")
    assert isinstance(f.maker.thunk, TieredThunk)
    assert f.backend == "python"
    before = f(*ARGS)
    assert f.backend == "python" and "def opgraph_py" in f.maker.thunk.source
    copy = f.copy()
    assert f.wait_compiled() is True
    assert f.backend == "numba" and copy.backend == "numba"
    assert "@numba.njit" in f.maker.thunk.source   # the maker now holds the Numba thunk
    after = f(*ARGS)
    _check_same(before, after)
    _check_same(before, copy(*ARGS))
    # The call path is the Numba backend's own after the switch (its direct entry).
    assert f._direct is not None
    assert f.wait_compiled() is True   # idempotent


def test_background_compile_switches_between_calls():
    inputs, outputs = _graph()
    with opgraph.config.change(tiered_compile="background"):   # the test suite's default is on_wait
        f = opgraph.function(inputs, outputs, mode=Mode("NUMBA", tiered=True))
    first = f(*ARGS)
    assert f.wait_compiled(timeout=600)
    assert f.backend == "numba"
    _check_same(first, f(*ARGS))


def test_background_compile_shortens_the_switch_interval_then_restores_it(monkeypatch):
    import sys

    from opgraph.kernel_core.compile import tiered

    seen = []
    compile_in_thread = tiered._compile_in_thread

    def spy(*args):
        seen.append(sys.getswitchinterval())
        return compile_in_thread(*args)

    monkeypatch.setattr(tiered, "_compile_in_thread", spy)
    inputs, outputs = _graph()
    before = sys.getswitchinterval()
    with opgraph.config.change(tiered_compile="background"):
        f = opgraph.function(inputs, outputs, mode=Mode("NUMBA", tiered=True))
    f(*ARGS)
    assert f.wait_compiled(timeout=600)
    assert seen == [tiered._ShortSwitchInterval.INTERVAL]
    assert sys.getswitchinterval() == before


def test_short_switch_interval_leaves_a_user_change_alone():
    import sys

    from opgraph.kernel_core.compile.tiered import _ShortSwitchInterval

    before = sys.getswitchinterval()
    scope = _ShortSwitchInterval()
    try:
        assert scope.enter() and scope.enter()      # nested compilations
        scope.exit()
        assert sys.getswitchinterval() == scope.INTERVAL
        sys.setswitchinterval(0.01)                 # the user's own setting, meanwhile
        scope.exit()
        assert sys.getswitchinterval() == 0.01
    finally:
        sys.setswitchinterval(before)


def test_opt_outs_compile_before_returning():
    inputs, outputs = _graph()
    f = opgraph.function(inputs, outputs, mode=Mode("NUMBA", tiered=False))
    assert f.backend == "numba" and not isinstance(f.maker.thunk, TieredThunk)
    assert f.maker.mode.optimizer == "fast_run"   # Mode("NUMBA") keeps NUMBA's rewrites
    assert f.wait_compiled() is True
    with opgraph.config.change(tiered_compile="off"):
        g = opgraph.function(inputs, outputs, mode="NUMBA")
    assert g.backend == "numba" and not isinstance(g.maker.thunk, TieredThunk)
    _check_same(f(*ARGS), g(*ARGS))
    assert Mode("NUMBA", tiered=False) != Mode("NUMBA")
    with pytest.raises(TypeError, match="tiered"):
        Mode("NUMBA", tiered="yes")
    with pytest.raises(ValueError, match="tiered_compile"):
        opgraph.config.tiered_compile = "sometimes"


def test_profile_counts_the_calls_of_each_tier():
    x = pt.vector("x")   # one node: a profile compiles each node's function separately
    with opgraph.config.change(tiered_compile="on_wait"):
        f = opgraph.function([x], pt.exp(x), mode="NUMBA", profile=True)
    ARGS = (np.ones(3),)
    f(*ARGS)
    f(*ARGS)
    assert f.profile.tier_calls == {"python": 2}
    f.wait_compiled()
    f(*ARGS)
    assert f.profile.tier_calls == {"python": 2, "numba": 1} and f.backend == "numba"
    assert "tiers: python 2 calls, numba 1 call" in f.profile.summary(file="str")


def test_dprint_says_when_the_python_tier_runs_while_numba_compiles(monkeypatch):
    import threading

    from opgraph.kernel_core.compile import tiered

    release = threading.Event()
    real = tiered._compile_in_thread

    def held_back(*args):   # the background compile waits until the test says
        release.wait()
        return real(*args)

    monkeypatch.setattr(tiered, "_compile_in_thread", held_back)
    x = pt.vector("x")
    with opgraph.config.change(tiered_compile="background"):
        f = opgraph.function([x], pt.exp(x), mode="NUMBA")
    assert f.backend == "python"
    assert f.dprint(file="str").endswith("(running on the Python tier while Numba compiles in the "
                                         "background; f.wait_compiled() waits for it)\n")
    assert f.wait_compiled(timeout=0.01) is False and f.backend == "python"
    release.set()
    assert f.wait_compiled(timeout=600)
    assert f.backend == "numba" and "Python tier" not in f.dprint(file="str")


def test_destroyed_mutable_input_same_in_both_tiers():
    x = pt.vector("x")
    y = pt.exp(x) * 2 + x
    with opgraph.config.change(tiered_compile="on_wait"):
        f = opgraph.function([opgraph.In(x, mutable=True)], y, mode="NUMBA")
    assert f.backend == "python"
    assert f.maker.destroyed_inputs
    a = np.arange(4.0)
    r1 = f(a)
    f.wait_compiled()
    b = np.arange(4.0)
    r2 = f(b)
    np.testing.assert_allclose(r1, r2, rtol=1e-13)
    np.testing.assert_allclose(a, b, rtol=1e-13)

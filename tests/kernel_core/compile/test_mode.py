"""Modes: names, rewrite tags, linker choice, the config default."""

import subprocess
import sys

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.compile import Mode, get_mode, predefined_modes, VMLinker
from opgraph.kernel_core.compile.mode import FAST_RUN_TAGS


def test_predefined_modes():
    assert set(predefined_modes) == {"PYTHON", "FAST_COMPILE", "NUMBA", "FAST_RUN", "JAX"}
    assert get_mode("PYTHON").linker_name == "py"
    assert get_mode("fast_compile") is predefined_modes["FAST_COMPILE"]
    assert get_mode("NUMBA").optimizer == "fast_run"
    assert get_mode("FAST_RUN") == get_mode("NUMBA")
    m = Mode(linker="vm")
    assert get_mode(m) is m
    with pytest.raises(ValueError, match="unknown mode 'nope'"):
        get_mode("nope")
    with pytest.raises(TypeError):
        get_mode(3)


def test_python_modes_use_the_vm():
    # PYTHON runs the generated-Python backend (the VM's results, faster); FAST_COMPILE the VM.
    from opgraph.kernel_core.backends.python.linker import PythonLinker

    assert isinstance(get_mode("PYTHON").get_linker(), PythonLinker)
    assert isinstance(get_mode("FAST_COMPILE").get_linker(), VMLinker)


def test_fast_run_tags():
    include, exclude = get_mode("FAST_RUN").rewrite_tags()
    assert set(include) <= set(FAST_RUN_TAGS)
    assert exclude == ()
    inc2, exc2 = get_mode("FAST_RUN").excluding("inplace").rewrite_tags()
    assert "inplace" in exc2
    assert get_mode("FAST_RUN").including("stabilize").rewrite_tags()[0].count("stabilize") == 1


def test_mode_validation():
    with pytest.raises(ValueError, match="unknown linker"):
        Mode(linker="c")
    with pytest.raises(ValueError, match="unknown optimizer"):
        Mode(optimizer="o3")
    with pytest.raises(TypeError, match="make_thunk"):
        Mode(linker=object())


def test_config_mode_sets_the_default():
    x = pt.vector("x")
    with opgraph.config.change(mode="PYTHON"):
        f = opgraph.function([x], x + 1)
    assert f.maker.mode.name == "PYTHON"
    g = opgraph.function([x], x + 1)
    assert g.maker.mode.name == opgraph.config.mode


def test_custom_linker_object():
    calls = []

    class Recording(VMLinker):
        def make_thunk(self, fgraph, profile=None):
            calls.append(fgraph)
            return super().make_thunk(fgraph, profile)

    x = pt.vector("x")
    f = opgraph.function([x], x * 3, mode=Mode(linker=Recording()))
    np.testing.assert_allclose(f([1.0]), [3.0])
    assert calls == [f.maker.fgraph]


@pytest.mark.parametrize("mode", ["PYTHON", "FAST_COMPILE", "FAST_RUN", "NUMBA"])
def test_every_mode_computes_the_same(mode):
    x = pt.vector("x")
    y = pt.log(1 + pt.exp(x)) * 2 - x
    f = opgraph.function([x], y, mode=mode)
    v = np.array([-1.0, 0.0, 3.0])
    np.testing.assert_allclose(f(v), np.log1p(np.exp(v)) * 2 - v, rtol=1e-12)


def test_importing_and_compiling_in_python_mode_does_not_import_numba():
    code = ("import sys, opgraph, opgraph.tensor as pt\n"
            "x = pt.vector('x'); f = opgraph.function([x], x + 1, mode='PYTHON'); f([1.0])\n"
            "print('numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

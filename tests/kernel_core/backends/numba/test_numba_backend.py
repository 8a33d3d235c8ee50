"""The Numba backend: seed 002 graph, NUMBA == PYTHON over the op library, profile, disk cache.

Compile time is what these tests pay for: each case compiles ONE function with
many outputs, and the disk cache (OPGRAPH_CACHE_DIR, see tests/conftest.py)
makes later runs cheap.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.backends.numba.linker import NumbaLinker
from opgraph.kernel_core.compile.mode import Mode

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "src")


def run_both(inputs, outputs, values, rtol=1e-7, atol=1e-12):
    f_numba = opgraph.function(inputs, outputs, mode="NUMBA")
    f_py = opgraph.function(inputs, outputs, mode="PYTHON")
    got, want = f_numba(*values), f_py(*values)
    for k, (g, w) in enumerate(zip(got, want)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, f"output {k}: {g.shape} != {w.shape}"
        assert g.dtype == w.dtype, f"output {k}: {g.dtype} != {w.dtype}"
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"output {k}", equal_nan=True)
    return f_numba


def test_seed_002_compiled_graph():
    x = pt.vector("x")
    z = pt.exp(pt.sin(x))
    out = pt.cos((z[None, :] @ z[:, None]).squeeze())
    f = opgraph.function([x], out, mode="NUMBA")
    text = f.dprint(print_destroy_map=True, file="str")
    lines = text.splitlines()
    assert lines[0].startswith("Cos [id A] d={0: [0]}")
    comp_lines = [ln for ln in lines if "Composite{exp(sin(i0))} [id" in ln]
    assert len(comp_lines) == 3  # used twice + the Inner graphs header
    assert len({ln.split("[id ")[1].split("]")[0] for ln in comp_lines}) == 1  # computed once
    assert "Inner graphs:" in text and "← exp" in text and "'o0'" in text
    xv = np.array([0.1, -0.4, 2.0])
    zz = np.exp(np.sin(xv))
    np.testing.assert_allclose(f(xv), np.cos(zz @ zz))
    np.testing.assert_allclose(f(np.array([1.0, 2.0, 3.0, 4.0, 5.0])), np.cos(np.sum(np.exp(np.sin(np.arange(1.0, 6.0))) ** 2)))


UNARY = ["exp", "expm1", "log1p", "sin", "cos", "tan", "arctan", "sinh", "cosh", "tanh", "arcsinh",
         "sigmoid", "softplus", "erf", "erfc", "gammaln", "psi", "sqrt", "log", "abs", "sign", "floor",
         "ceil", "neg", "sqr", "log1mexp", "erfinv", "erfcx", "arcsin", "arccos", "arctanh", "exp2",
         "log2", "log10", "reciprocal", "isnan", "isinf", "round_half_to_even", "gamma"]


def test_unary_elementwise_ops():
    x = pt.vector("x")
    fns = [getattr(pt, name) for name in UNARY if hasattr(pt, name)]
    outs = [fn(x) for fn in fns]
    assert len(outs) > 25
    xv = np.array([-0.9, -0.3, 0.2, 0.5, 0.95])
    run_both([x], outs, [xv], rtol=1e-6, atol=1e-6)


def test_binary_and_logic_ops():
    x, y = pt.vector("x"), pt.vector("y")
    i, j = pt.vector("i", dtype="int64"), pt.vector("j", dtype="int64")
    outs = [x + y, x - y, x * y, x / y, x ** 2, pt.maximum(x, y), pt.minimum(x, y), pt.arctan2(x, y),
            pt.switch(x > y, x, y), pt.clip(x, -0.5, 0.5), pt.lt(x, y), pt.ge(x, y), pt.eq(i, j),
            pt.neq(i, j), i // j, i % j, pt.and_(pt.lt(x, y), pt.gt(x, 0)), pt.or_(i > 0, j > 0),
            pt.cast(x * 10, "int32"), pt.cast(i, "float32") * 2, x + i, (x * 2 + 1).astype("float32")]
    xv, yv = np.array([0.5, -1.5, 2.0, np.nan]), np.array([1.0, 0.5, -2.0, 1.0])
    iv, jv = np.array([3, -7, 9, 4]), np.array([2, 3, -4, 5])
    run_both([x, y, i, j], outs, [xv, yv, iv, jv])


def test_broadcasting_and_dimshuffle():
    x, m = pt.vector("x"), pt.matrix("m")
    t = pt.tensor3("t")
    outs = [m + x, m * x[:, None].T, m.T + 1, pt.exp(m).T * 2, t.dimshuffle(2, 0, 1) + 0,
            x[None, :] * m, m.sum(axis=1)[:, None] - m]
    run_both([x, m, t], outs, [np.arange(3.0), np.arange(6.0).reshape(2, 3),
                               np.arange(24.0).reshape(2, 3, 4)])


def test_length_one_dims_broadcast_only_when_static():
    # As PyTensor >= 2.19: a dim of unknown length that is 1 at run time does not
    # broadcast (its gradient would keep the broadcast shape); a static 1 does.
    a, b, r = pt.matrix("a"), pt.matrix("b"), pt.tensor("r", shape=(1, None))
    f = opgraph.function([a, b, r], [pt.exp(a) + b, pt.exp(a) + r], mode="NUMBA")
    av, bv = np.ones((3, 4)), np.arange(4.0)[None, :]
    got = f(av, av, bv)
    np.testing.assert_allclose(got[0], np.exp(av) + av)
    np.testing.assert_allclose(got[1], np.exp(av) + bv)
    with pytest.raises(Exception, match="input 1 .*run-time length 1 along axis 0"):
        f(av, bv, bv)


def test_reductions():
    m = pt.matrix("m")
    b = pt.matrix("b", dtype="bool")
    outs = [m.sum(), m.sum(axis=0), m.sum(axis=1, keepdims=True), m.prod(axis=1), m.max(axis=0),
            m.min(), pt.argmax(m, axis=1), pt.argmin(m), m.mean(axis=0), b.all(axis=1), b.any()]
    mv = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])
    run_both([m, b], outs, [mv, mv > 0])


def test_dot_and_matmul():
    m, v, w = pt.matrix("m"), pt.vector("v"), pt.matrix("w")
    im = pt.matrix("im", dtype="int64")
    outs = [pt.dot(m, v), m @ w, v @ m.T, pt.dot(v, v), im @ im.T]
    run_both([m, v, w, im], outs, [np.arange(6.0).reshape(2, 3), np.array([1.0, 2.0, 3.0]),
                                   np.ones((3, 2)), np.arange(6).reshape(2, 3)])


def test_shape_ops_and_fallback_ops():
    m = pt.matrix("m")
    outs = [m.shape[0] + m.shape[1], m.reshape((3, 2)) * 2, m.flatten(), pt.concatenate([m, m], axis=0),
            m[0], m[:, 1:] + 1, pt.cumsum(m, axis=1), pt.sort(m, axis=1)]
    run_both([m], outs, [np.array([[3.0, 1.0, 2.0], [6.0, 5.0, 4.0]])])


def test_profile_mode_times_every_node():
    x = pt.vector("x")
    f = opgraph.function([x], [pt.exp(pt.sin(x)).sum(), pt.cos(x)], mode="NUMBA", profile=True)
    xv = np.linspace(0, 1, 7)
    r = f(xv)
    np.testing.assert_allclose(r[0], np.exp(np.sin(xv)).sum())
    nodes = f.maker.fgraph.apply_nodes
    assert set(f.profile.apply_time) == set(nodes)
    assert all(f.profile.apply_callcount[n] == 1 for n in nodes)


def test_runtime_error_names_the_node():
    a, b = pt.vector("a"), pt.vector("b")
    f = opgraph.function([a, b], pt.exp(a) * b, mode="NUMBA")
    with pytest.raises(Exception) as info:
        f(np.ones(3), np.ones(4))
    assert "shape" in str(info.value)


def _run_py(code, env):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=env, timeout=300)


def test_import_opgraph_does_not_import_numba():
    env = dict(os.environ, PYTHONPATH=SRC)
    r = _run_py("import sys, opgraph, opgraph.tensor; print('numba' in sys.modules)", env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


CACHE_SCRIPT = """
import numpy as np, opgraph, opgraph.tensor as pt
from opgraph.kernel_core.backends.numba import cache
x = pt.vector("x")
f = opgraph.function([x], pt.tanh(pt.exp(x) * 3.25) - 0.125, mode="NUMBA")
assert np.allclose(f(np.arange(3.0)), np.tanh(np.exp(np.arange(3.0)) * 3.25) - 0.125)
disp = f.maker.linker.last_source if hasattr(f.maker, "linker") else None
import os
root = cache.cache_root()
print(sorted(os.listdir(root)))
"""


def _cache_env(tmp_path):
    """A child environment whose numba cache lives under ``tmp_path/numba`` (opgraph's
    cache dir), whatever NUMBA_CACHE_DIR the test run itself has: opgraph honours a
    NUMBA_CACHE_DIR the user set, which would put the files elsewhere."""
    env = dict(os.environ, PYTHONPATH=SRC, OPGRAPH_CACHE_DIR=str(tmp_path), NUMBA_DEBUG_CACHE="1")
    env.pop("NUMBA_CACHE_DIR", None)
    return env


def test_disk_cache_is_reused_and_survives_corruption(tmp_path):
    env = _cache_env(tmp_path)
    first = _run_py(CACHE_SCRIPT, env)
    assert first.returncode == 0, first.stderr
    assert "data saved" in first.stdout
    second = _run_py(CACHE_SCRIPT, env)
    assert second.returncode == 0, second.stderr
    assert "data loaded" in second.stdout and "data saved" not in second.stdout
    # Corrupt every numba cache file: the next process must ignore them and rebuild.
    root = tmp_path / "numba"
    for p in root.rglob("*.nb*"):
        p.write_bytes(b"garbage")
    third = _run_py(CACHE_SCRIPT, env)
    assert third.returncode == 0, third.stderr
    assert "data saved" in third.stdout


def test_corrupt_machine_code_alone_is_rebuilt(tmp_path):
    # Only the .nbc files (machine code; the index stays valid) are corrupt: the
    # first compile fails to load them, the entry drops them and compiles afresh.
    env = _cache_env(tmp_path)
    assert _run_py(CACHE_SCRIPT, env).returncode == 0
    for p in (tmp_path / "numba").rglob("*.nbc"):
        p.write_bytes(b"garbage")
    again = _run_py(CACHE_SCRIPT, env)
    assert again.returncode == 0, again.stderr
    assert "data saved" in again.stdout


def test_fast_path_returns_fresh_outputs_and_checks_types():
    import opgraph

    x = pt.vector("x")
    f = opgraph.function([x], [pt.exp(x), x, x[::-1], pt.exp(x)], mode="NUMBA")
    xv = np.array([0.0, 1.0, 2.0])
    a, b, c, d = f(xv)
    np.testing.assert_allclose(a, np.exp(xv))
    # Inputs and views of them are copies; two outputs never share a buffer.
    assert b is not xv and not np.shares_memory(b, xv) and not np.shares_memory(c, xv)
    assert not np.shares_memory(a, d)
    # Arguments that are not exactly the compiled types take the checked path.
    np.testing.assert_allclose(f([0.0, 1.0])[0], np.exp([0.0, 1.0]))
    np.testing.assert_allclose(f(np.arange(3))[0], np.exp(np.arange(3.0)))
    np.testing.assert_allclose(f(np.arange(6.0)[::2])[0], np.exp(np.arange(6.0)[::2]))
    with pytest.raises(TypeError):
        f(np.zeros((2, 2)))


def test_numba_import_skips_yaml_unless_a_numba_config_file_is_there(tmp_path):
    # A stand-in ``yaml`` (PyYAML need not be installed) that records being imported.
    site = tmp_path / "site"
    site.mkdir()
    (site / "yaml.py").write_text(
        "def safe_load(f):\n"
        "    return dict((k.strip(), int(v)) for k, v in (line.split(':') for line in f if line.strip()))\n")
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), os.path.abspath(SRC)]))
    env.pop("NUMBA_DEBUG_CACHE", None)
    code = ("import sys\nfrom opgraph.kernel_core.backends.numba.numba_import import import_numba\n"
            "numba = import_numba()\nprint('yaml' in sys.modules, numba.config.DEBUG_CACHE)")

    def run():
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=work,
                           timeout=300)
        assert r.returncode == 0, r.stderr
        return r.stdout.split()

    assert run() == ["False", "0"]
    (work / ".numba_config.yaml").write_text("debug_cache: 1\n")
    assert run() == ["True", "1"]   # numba still reads its config file


def test_shared_view_kernel_gets_no_literal_tuples():
    # DimShuffle and the gemv / row-vector dot pass shape and stride tuples holding 1 and 0:
    # as int64 (dispatch.int64_arg), so numba compiles one signature per array type and
    # rank, not one per pattern of constants.
    from opgraph.kernel_core.backends.numba.shared_kernels import view

    a, c, r, v = pt.matrix("a"), pt.matrix("c", shape=(None, 1)), pt.matrix("r", shape=(1, None)), pt.vector("v")
    # Compiled here, not loaded from the disk cache (whose entry would leave view untyped here).
    mode = Mode(linker=NumbaLinker(use_cache=False), optimizer="fast_run")
    f = opgraph.function([a, c, r, v], [a @ c, r @ a, v[None, :] * 2.0, v[:, None] + a, v[None, :, None] * 3.0],
                         mode=mode)
    got = f(np.ones((3, 3)), np.ones((3, 1)), np.ones((1, 3)), np.arange(3.0))
    assert [g.shape for g in got] == [(3, 1), (1, 3), (1, 3), (3, 3), (1, 3, 1)]
    assert view.signatures and not [s for s in view.signatures if "Literal" in str(s)]

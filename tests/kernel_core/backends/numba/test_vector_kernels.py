"""Vectorizable scalar kernels (exp, log, log1p, tanh, softplus, sigmoid), the single-loop
elemwise code (runtime broadcasting, inplace), contiguous DimShuffle views, and
importing numba without scipy.linalg."""

import os
import subprocess
import sys

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt

import numba  # noqa: E402  (a dependency of opgraph: its absence is an error, not a skip)

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "src")


def _loop(kernel):
    @numba.njit(error_model="numpy")
    def apply(a):
        out = np.empty_like(a)
        for i in range(a.size):
            out[i] = kernel(a[i])
        return out
    return apply


def _max_ulp(got, want):
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite], want[~finite])
    return np.max(np.abs(got[finite] - want[finite]) / np.spacing(np.abs(want[finite])))


SPECIAL = [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 5e-324, 1e-310, 2.2250738585072014e-308,
           709.78, 709.79, 710.0, -745.1, -745.2, -708.5, 1.7976931348623157e308, -1e-300]


def test_vexp_matches_numpy_to_one_ulp():
    from opgraph.kernel_core.backends.numba.scalar_kernels import vexp

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-745, 709, 20000), rng.standard_normal(20000), SPECIAL])
    with np.errstate(all="ignore"):
        assert _max_ulp(_loop(vexp)(x), np.exp(x)) <= 1.0


def test_vlog_and_vlog1p_match_numpy_to_one_ulp():
    from opgraph.kernel_core.backends.numba.scalar_kernels import vlog, vlog1p

    rng = np.random.default_rng(1)
    x = np.concatenate([np.exp(rng.uniform(-745, 709, 20000)), rng.uniform(0, 3, 20000),
                        1 + rng.uniform(-1e-6, 1e-6, 2000), SPECIAL])
    u = np.concatenate([rng.uniform(-1, 2, 20000), rng.uniform(-1e-8, 1e-8, 2000),
                        np.exp(rng.uniform(-745, 0, 20000)), SPECIAL])
    with np.errstate(all="ignore"):
        assert _max_ulp(_loop(vlog)(x), np.log(x)) <= 1.0
        assert _max_ulp(_loop(vlog1p)(u), np.log1p(u)) <= 2.0


def test_vtanh_matches_numpy_to_two_ulp():
    from opgraph.kernel_core.backends.numba.scalar_kernels import vtanh

    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(-1, 1, 20000), rng.uniform(-25, 25, 20000), np.linspace(0.6, 0.65, 2000),
                        10.0 ** rng.uniform(-12, 1.5, 5000), SPECIAL, [19.1, -19.1, 0.625, -0.625]])
    got = _loop(vtanh)(x)
    assert _max_ulp(got, np.tanh(x)) <= 2.0
    np.testing.assert_array_equal(np.signbit(got[x == 0]), np.signbit(x[x == 0]))


def test_softplus_and_sigmoid_in_both_tails():
    from opgraph.kernel_core.backends.numba.scalar_kernels import sigmoid, softplus

    x = np.concatenate([np.linspace(-800, 800, 4001), [np.inf, -np.inf, np.nan, 0.0]])
    with np.errstate(all="ignore"):
        want_sp = np.where(x > 0, x + np.log1p(np.exp(-np.abs(x))), np.log1p(np.exp(x)))
        want_sp[np.isnan(x)] = np.nan
        np.testing.assert_allclose(_loop(softplus)(x), want_sp, rtol=1e-15, atol=0, equal_nan=True)
        want_sg = np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))
        want_sg[np.isnan(x)] = np.nan
        np.testing.assert_allclose(_loop(sigmoid)(x), want_sg, rtol=1e-15, atol=0, equal_nan=True)


def test_runtime_broadcast_rejected_inplace_and_callers_arrays():
    """Inputs of unknown broadcast pattern do not broadcast at run time (as PyTensor
    >= 2.19: ValueError in both modes); the arrays passed by the caller are never modified."""
    a, b, c = pt.matrix("a"), pt.matrix("b"), pt.vector("c")
    outs = [pt.log(pt.exp(a) + b) * 2, pt.softplus(a - b) + c, pt.sigmoid(a) * b - c]
    f_n = opgraph.function([a, b, c], outs, mode="NUMBA")
    f_p = opgraph.function([a, b, c], outs, mode="PYTHON")
    rng = np.random.default_rng(2)
    vals = [rng.uniform(0.5, 2, s) for s in ((3, 4), (3, 4), (4,))]
    before = [v.copy() for v in vals]
    for g, w in zip(f_n(*vals), f_p(*vals)):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    for v, v0 in zip(vals, before):
        np.testing.assert_array_equal(v, v0)
    for shapes in [((3, 4), (1, 4), (1,)), ((3, 1), (3, 4), (4,)), ((1, 1), (3, 4), (1,)),
                   ((1, 4), (3, 1), (4,))]:
        vals = [rng.uniform(0.5, 2, s) for s in shapes]
        for f in (f_n, f_p):
            with pytest.raises(Exception, match="run-time length 1"):
                f(*vals)
    for f in (f_n, f_p):
        with pytest.raises(Exception, match="do not broadcast"):
            f(np.ones((3, 4)), np.ones((2, 4)), np.ones(4))


def test_expand_and_squeeze_views_of_strided_and_contiguous_inputs():
    x, m = pt.vector("x"), pt.matrix("m")
    outs = [x[:, None] * m, (m[:, :1]).squeeze(1) + x, pt.exp(x)[None, :] + m]
    f_n = opgraph.function([x, m], outs, mode="NUMBA")
    f_p = opgraph.function([x, m], outs, mode="PYTHON")
    big = np.arange(32.0).reshape(4, 8)
    for xv, mv in [(np.arange(4.0), np.ones((4, 4))), (np.arange(8.0)[::2], big[:, ::2])]:
        for g, w in zip(f_n(xv, mv), f_p(xv, mv)):
            np.testing.assert_allclose(g, w)


def test_compiling_does_not_import_scipy_linalg_until_needed(tmp_path):
    script = """
import sys, numpy as np, opgraph, opgraph.tensor as pt
x = pt.vector("x")
f = opgraph.function([x], pt.exp(x) + 1, mode="NUMBA")
assert np.allclose(f(np.zeros(3)), 2.0)
print("linalg" if "scipy.linalg" in sys.modules else "no-linalg",
      "blas" if "scipy.linalg.cython_blas" in sys.modules else "no-blas")
m = pt.matrix("m")
g = opgraph.function([m, x], pt.dot(m, x), mode="NUMBA")
assert np.allclose(g(np.eye(3), np.arange(3.0)), np.arange(3.0))
print("full-linalg" if "scipy.linalg._basic" in sys.modules else "blas-only")
import scipy.linalg
assert scipy.linalg.cython_blas is sys.modules["scipy.linalg.cython_blas"]
assert np.allclose(scipy.linalg.solve(np.eye(2), np.ones(2)), 1.0)
print("ok")
"""
    env = dict(os.environ, PYTHONPATH=SRC, OPGRAPH_CACHE_DIR=str(tmp_path))
    runs = []
    for _ in range(2):   # compiling, then loading both graphs from the disk cache
        r = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        runs.append(r.stdout.split())
    # Compiling loads numba's registries, which need cython_blas (preloaded alone);
    # loading machine code without linear algebra needs no SciPy at all.
    assert runs[0] == ["no-linalg", "blas", "blas-only", "ok"]
    assert runs[1] == ["no-linalg", "no-blas", "blas-only", "ok"]


def test_settle_heap_is_idempotent_and_harmless():
    from opgraph.kernel_core.backends.numba import allocator

    allocator.settle_heap()
    allocator.settle_heap()
    assert allocator._done
    a = np.ones(10**6)
    assert a.sum() == 10**6

"""FFT convolution: the rewrite fires above the measured kernel size (1-d, 2-d, batched)
and not below or on unknown shapes; values equal the direct form to 1e-10 relative; the
gradient of the FFT form equals the direct one; NUMBA = PYTHON."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad
from opgraph.graph import rewrite_graph
from opgraph.kernel_core.compile.mode import get_mode
from opgraph.kernel_core.graph.traversal import toposort
from opgraph.kernel_core.rewriting.signal import FFT_MIN_KERNEL_SIZE
from opgraph.kernel_core.tensor.blockwise import Blockwise
from opgraph.kernel_core.tensor.signal import FFTConvolve

RNG = np.random.default_rng(3)
DIRECT = get_mode("PYTHON").excluding("fft_convolution")


def _names(y):
    y = rewrite_graph(y, include=("fast_run",), exclude=("inplace",))
    return [type(n.op.core_op if isinstance(n.op, Blockwise) else n.op).__name__ for n in toposort([y])]


def test_the_rewrite_fires_above_the_threshold_only():
    x = pt.dvector("x")
    big, small = pt.tensor("k", shape=(FFT_MIN_KERNEL_SIZE,)), pt.tensor("k", shape=(FFT_MIN_KERNEL_SIZE - 1,))
    assert "FFTConvolve" in _names(pt.signal.convolve1d(x, big, "same"))
    assert "FFTConvolve" in _names(pt.signal.convolve1d(pt.dmatrix("xb"), big))          # batched
    assert "FFTConvolve" not in _names(pt.signal.convolve1d(x, small))
    assert "FFTConvolve" not in _names(pt.signal.convolve1d(x, pt.dvector("k")))         # unknown length
    k2 = pt.tensor("k2", shape=(23, 23))
    assert "FFTConvolve" in _names(pt.signal.convolve2d(pt.dmatrix("x2"), k2, "valid"))
    assert "FFTConvolve" not in _names(pt.signal.convolve2d(pt.dmatrix("x2"), pt.tensor("k3", shape=(3, 3))))


@pytest.mark.parametrize("mode", ["full", "valid", "same"])
def test_values_and_gradients_match_the_direct_form(mode):
    m = FFT_MIN_KERNEL_SIZE + 3
    x, k = pt.dvector("x"), pt.tensor("k", shape=(m,))
    x2, k2 = pt.dmatrix("x2"), pt.tensor("k2", shape=(24, 22))
    y1, y2 = pt.signal.convolve1d(x, k, mode), pt.signal.convolve2d(x2, k2, mode)
    w1, w2 = pt.dvector("w1"), pt.dmatrix("w2")
    outs = [y1, y2] + grad((y1 * w1).sum() + (y2 * w2).sum(), [x, k, x2, k2])
    xv, kv, x2v, k2v = RNG.normal(size=3000), RNG.normal(size=m), RNG.normal(size=(40, 37)), RNG.normal(size=(24, 22))
    n1 = {"full": 3000 + m - 1, "valid": 3000 - m + 1, "same": 3000}[mode]
    s2 = {"full": (63, 58), "valid": (17, 16), "same": (40, 37)}[mode]
    args = [x, k, x2, k2, w1, w2], [xv, kv, x2v, k2v, RNG.normal(size=n1), RNG.normal(size=s2)]
    fused = rewrite_graph(outs, include=("fast_run",), exclude=("inplace",))
    assert sum(n.op.__class__ is FFTConvolve for n in toposort(fused)) >= 2
    got = opgraph.function(*args[:1], fused, mode="PYTHON")(*args[1])
    want = opgraph.function(*args[:1], outs, mode=DIRECT)(*args[1])
    for g, w in zip(got, want):
        scale = np.max(np.abs(w))
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-10 * scale)


def test_numba_equals_python_and_errors():
    x, k = pt.dvector("x"), pt.dvector("k")
    xm, km = pt.dmatrix("xm"), pt.dmatrix("km")
    outs = [FFTConvolve(1)(x, k), FFTConvolve(2)(xm, km), Blockwise(FFTConvolve(1))(xm, k)]
    vals = [RNG.normal(size=50), RNG.normal(size=7), RNG.normal(size=(6, 5)), RNG.normal(size=(3, 4))]
    got = opgraph.function([x, k, xm, km], outs, mode="NUMBA")(*vals)
    want = opgraph.function([x, k, xm, km], outs, mode="PYTHON")(*vals)
    np.testing.assert_allclose(want[0], np.convolve(vals[0], vals[1]), rtol=1e-12, atol=1e-13)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-14)
    with pytest.raises(ValueError, match="ndim must be 1 or 2"):
        FFTConvolve(3)
    with pytest.raises(ValueError, match=r"takes two 1-d arrays"):
        FFTConvolve(1)(xm, k)

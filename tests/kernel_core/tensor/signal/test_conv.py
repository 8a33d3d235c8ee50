"""pt.signal.convolve1d against np.convolve: every mode (x longer and shorter than k),
batches through Blockwise, static and inferred shapes, gradients, errors, and one
NUMBA function with every mode and a batch."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import verify_grad
from opgraph.kernel_core.tensor.blockwise import Blockwise
from opgraph.kernel_core.tensor.signal import Convolve1d

RNG = np.random.default_rng(5)
MODES = ["full", "valid", "same"]


@pytest.mark.parametrize("mode", MODES)
def test_matches_numpy_in_both_argument_orders(mode):
    x, k = pt.dvector("x"), pt.dvector("k")
    xv, kv = RNG.normal(size=7), RNG.normal(size=3)
    np.testing.assert_allclose(pt.signal.convolve1d(x, k, mode).eval({x: xv, k: kv}), np.convolve(xv, kv, mode))
    np.testing.assert_allclose(pt.signal.convolve1d(k, x, mode).eval({x: xv, k: kv}), np.convolve(kv, xv, mode))


def test_batched_through_blockwise_with_shapes():
    x = pt.tensor3("x", shape=(2, 3, 10))
    k = pt.matrix("k", shape=(3, 4), dtype="float64")
    y = pt.signal.convolve1d(x, k)
    assert isinstance(y.owner.op, Blockwise) and isinstance(y.owner.op.core_op, Convolve1d)
    assert y.type.shape == (2, 3, 13)
    xv, kv = RNG.normal(size=(2, 3, 10)), RNG.normal(size=(3, 4))
    want = np.array([[np.convolve(xv[b, c], kv[c]) for c in range(3)] for b in range(2)])
    np.testing.assert_allclose(y.eval({x: xv, k: kv}), want)
    same = pt.signal.convolve1d(x, k, "same")
    np.testing.assert_array_equal(same.shape.eval({x: xv, k: kv}), [2, 3, 10])


@pytest.mark.parametrize("mode", MODES)
def test_gradients(mode):
    verify_grad(lambda a, b: pt.signal.convolve1d(a, b, mode), [RNG.normal(size=6), RNG.normal(size=3)], rng=RNG)
    verify_grad(lambda a, b: pt.signal.convolve1d(a, b, mode), [RNG.normal(size=(2, 3)), RNG.normal(size=5)],
                rng=RNG)


def test_errors():
    x = pt.dvector("x")
    with pytest.raises(ValueError, match="mode must be 'full', 'valid' or 'same', got 'circular'"):
        pt.signal.convolve1d(x, x, "circular")
    with pytest.raises(ValueError, match=r"k \(.*\) must have at least one dimension"):
        pt.signal.convolve1d(x, pt.dscalar("k"))
    with pytest.raises(ValueError, match="must not be empty"):
        pt.signal.convolve1d(x, x).eval({x: np.zeros(0)})
    with pytest.raises(ValueError, match="mode must be 'full' or 'valid'"):
        Convolve1d("same")


def test_numba_matches():
    x, k, xb = pt.dvector("x"), pt.dvector("k"), pt.dmatrix("xb")
    outs = [pt.signal.convolve1d(x, k, m) for m in MODES] + [pt.signal.convolve1d(xb, k, "valid")]
    outs += opgraph.grad(pt.signal.convolve1d(x, k).sum() ** 2, [x, k])
    f = opgraph.function([x, k, xb], outs, mode="NUMBA")
    assert "objmode" not in f.maker.thunk.source
    xv, kv, xbv = RNG.normal(size=9), RNG.normal(size=4), RNG.normal(size=(3, 9))
    got = f(xv, kv, xbv)
    s = np.convolve(xv, kv).sum()
    want = [np.convolve(xv, kv, m) for m in MODES] + [np.array([np.convolve(r, kv, "valid") for r in xbv]),
                                                     2 * s * np.full(9, kv.sum()), 2 * s * np.full(4, xv.sum())]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_numba_direct_loops_across_blocks_and_dtypes():
    # Lengths past one 1,024-output block, kernels of 1, 5 (four-tap pass + one) and 8 taps,
    # x shorter than k (operands swapped), a reversed (negative-stride) kernel, float32
    # with float64 promotion, and valid mode computed directly (gradient shapes: few outputs).
    x, k = pt.dvector("x"), pt.dvector("k")
    xf = pt.fvector("xf")
    outs = [pt.signal.convolve1d(x, k), Convolve1d("valid")(x, k), Convolve1d("valid")(x, k[::-1]),
            pt.signal.convolve1d(xf, k), pt.signal.convolve1d(k, x, "same")]
    f = opgraph.function([x, k, xf], outs, mode="NUMBA")
    for n, m in [(2100, 1), (2100, 5), (2049, 8), (40, 35)]:
        xv, kv = RNG.normal(size=n), RNG.normal(size=m)
        xfv = xv.astype("float32")
        want = [np.convolve(xv, kv), np.convolve(xv, kv, "valid"), np.convolve(xv, kv[::-1], "valid"),
                np.convolve(xfv.astype("float64"), kv), np.convolve(kv, xv, "same")]
        for g, w in zip(f(xv, kv, xfv), want):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12 * np.abs(w).max())

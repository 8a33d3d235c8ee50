"""pt.signal.convolve2d against scipy.signal.convolve2d: every mode, odd and even kernels,
kernels larger than x, batches (Blockwise, broadcasting), gradients (finite differences and
the flipped valid convolutions), infer_shape, NUMBA = PYTHON, errors."""

import numpy as np
import pytest
from scipy import signal as ss

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad, verify_grad
from opgraph.kernel_core.tensor.signal import Convolve2d

RNG = np.random.default_rng(5)


@pytest.mark.parametrize("mode", ["full", "valid", "same"])
@pytest.mark.parametrize("xs, ks", [((6, 7), (3, 2)), ((5, 5), (4, 3)), ((2, 3), (4, 5))])
def test_matches_scipy(mode, xs, ks):
    if mode == "valid" and not all(a >= b for a, b in zip(xs, ks)) and not all(a <= b for a, b in zip(xs, ks)):
        pytest.skip("scipy's valid mode needs one operand at least as large as the other on both axes")
    x, k = pt.dmatrix("x"), pt.dmatrix("k")
    xv, kv = RNG.normal(size=xs), RNG.normal(size=ks)
    got = opgraph.function([x, k], pt.signal.convolve2d(x, k, mode), mode="PYTHON")(xv, kv)
    np.testing.assert_allclose(got, ss.convolve2d(xv, kv, mode), rtol=1e-12, atol=1e-13)


def test_batched_and_static_shapes():
    x = pt.tensor("x", shape=(2, 3, 8, 9))
    k = pt.tensor("k", shape=(3, 3, 2))
    y = pt.signal.convolve2d(x, k)
    assert y.type.shape == (2, 3, 10, 10)
    xv, kv = RNG.normal(size=(2, 3, 8, 9)), RNG.normal(size=(3, 3, 2))
    got = y.eval({x: xv, k: kv})
    want = np.array([[ss.convolve2d(xv[b, c], kv[c]) for c in range(3)] for b in range(2)])
    np.testing.assert_allclose(got, want, rtol=1e-12)
    same = pt.signal.convolve2d(x, k, "same")
    assert tuple(opgraph.function([x, k], same.shape, mode="PYTHON")(xv, kv)) == (2, 3, 8, 9)
    xm, km = pt.dmatrix("xm"), pt.dmatrix("km")
    node = Convolve2d().make_node(xm, km)
    assert Convolve2d().infer_shape(None, node, [(4, 5), (2, 3)]) == [(5, 7)]
    assert Convolve2d("valid").infer_shape(None, node, [(4, 5), (2, 3)]) == [(3, 3)]


def test_gradients():
    xv, kv = RNG.normal(size=(5, 4)), RNG.normal(size=(3, 2))
    for mode in ("full", "valid", "same"):
        verify_grad(lambda x, k: pt.signal.convolve2d(x, k, mode), [xv, kv], rng=np.random.default_rng(0))
    x, k = pt.dmatrix("x"), pt.dmatrix("k")
    gx, gk = grad((pt.signal.convolve2d(x, k) ** 2).sum(), [x, k])
    ops = {str(n.op) for n in opgraph.function([x, k], [gx, gk], mode="PYTHON").maker.fgraph.apply_nodes}
    assert "Convolve2d{mode=valid}" in ops


def test_numba_equals_python():
    x, k, xb = pt.dmatrix("x"), pt.dmatrix("k"), pt.dtensor3("xb")
    outs = [pt.signal.convolve2d(x, k), pt.signal.convolve2d(x, k, "same"), pt.signal.convolve2d(xb, k, "valid")]
    outs += grad((pt.signal.convolve2d(x, k) ** 2).sum(), [x, k])
    f_nb = opgraph.function([x, k, xb], outs, mode="NUMBA")
    f_py = opgraph.function([x, k, xb], outs, mode="PYTHON")
    # small rows (dot products), rows wide enough for the tap-major axpys (four taps per
    # pass plus a remainder), and k wider than x (operands swapped in the full loop)
    for xs, ks in [((6, 5), (3, 2)), ((4, 40), (3, 5)), ((3, 2), (2, 4))]:
        vals = [RNG.normal(size=xs), RNG.normal(size=ks), RNG.normal(size=(2, *xs))]
        for g, w in zip(f_nb(*vals), f_py(*vals)):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-13)


def test_errors():
    x = pt.dmatrix("x")
    with pytest.raises(ValueError, match="mode must be 'full', 'valid' or 'same'"):
        pt.signal.convolve2d(x, x, "circular")
    with pytest.raises(ValueError, match="must have at least two dimensions"):
        pt.signal.convolve2d(pt.dvector("v"), x)
    with pytest.raises(ValueError, match="the core op takes matrices"):
        Convolve2d()(pt.dtensor3("t"), x)
    with pytest.raises(ValueError, match="Convolve2d: mode must be"):
        Convolve2d("same")
    f = opgraph.function([x, pt.dmatrix("k")], Convolve2d("valid")(x, pt.dmatrix("k2")) if False else
                         pt.signal.convolve2d(x, x), mode="PYTHON", on_unused_input="ignore")
    with pytest.raises(ValueError, match="must not be empty"):
        f(np.ones((0, 2)), np.ones((1, 1)))

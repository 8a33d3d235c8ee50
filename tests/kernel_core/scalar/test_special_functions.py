"""gammainc, gammaincc, betainc, their inverses (gammaincinv, gammainccinv, betaincinv,
betainccinv), ndtri, i0, i0e, i1, i1e: values against SciPy on grids with extreme arguments
(PYTHON mode; NUMBA parity is test_dual_mode_ops' special_functions family and
test_special_values' rows), gradients in x by finite differences (including x = 0 for the
Bessel functions), the inverses' gradients by the inverse-function rule, and the
shape-parameter gradients that say they are not implemented."""

import numpy as np
import pytest
import scipy.special as sp

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad
from opgraph.kernel_core.gradient import NullTypeGradError

A = np.array([1e-3, 0.5, 1.0, 7.5, 300.0, 1e5])
X = np.array([1e-300, 1e-8, 0.3, 1.0, 9.0, 310.0, 1e5, 1e300])


def _grid(*axes):
    return [c.ravel() for c in np.meshgrid(*axes, indexing="ij")]


def test_values_match_scipy_on_extreme_grids():
    a, x, b, u = pt.vector("a"), pt.vector("x"), pt.vector("b"), pt.vector("u")
    ag, xg = _grid(A, X)
    ab, bb, ub = _grid(A, A, np.array([0.0, 1e-12, 0.2, 0.5, 0.97, 1 - 1e-12, 1.0]))
    q = np.array([0.0, 1e-300, 1e-20, 1e-6, 0.3, 0.5, 0.9, 1 - 1e-12, 1.0])
    xb = np.concatenate([-X, X, [0.0, 700.0, 713.0, 800.0]])
    outs = [pt.gammainc(a, x), pt.gammaincc(a, x), pt.betainc(a, b, u), pt.ndtri(u),
            pt.i0(x), pt.i0e(x), pt.i1(x), pt.i1e(x)]
    cases = [((a, x), (ag, xg), sp.gammainc), ((a, x), (ag, xg), sp.gammaincc),
             ((a, b, u), (ab, bb, ub), sp.betainc), ((u,), (q,), sp.ndtri),
             ((x,), (xb,), sp.i0), ((x,), (xb,), sp.i0e), ((x,), (xb,), sp.i1), ((x,), (xb,), sp.i1e)]
    for out, (ins, vals, ref) in zip(outs, cases):
        got = opgraph.function(list(ins), out, mode="PYTHON")(*vals)
        with np.errstate(all="ignore"):
            want = ref(*vals)
        np.testing.assert_array_equal(got, want, err_msg=str(ref))


def test_gradients_in_x_by_finite_differences():
    a, x, b = pt.scalar("a"), pt.scalar("x"), pt.scalar("b")
    fns = {"gammainc": (pt.gammainc(a, x), lambda av, xv, bv: sp.gammainc(av, xv)),
           "gammaincc": (pt.gammaincc(a, x), lambda av, xv, bv: sp.gammaincc(av, xv)),
           "betainc": (pt.betainc(a, b, x / 10.0), lambda av, xv, bv: sp.betainc(av, bv, xv / 10.0)),
           "ndtri": (pt.ndtri(x / 10.0), lambda av, xv, bv: sp.ndtri(xv / 10.0)),
           "i0": (pt.i0(x - 1.0), lambda av, xv, bv: sp.i0(xv - 1.0)),
           "i0e": (pt.i0e(x - 1.0), lambda av, xv, bv: sp.i0e(xv - 1.0)),
           "i1": (pt.i1(x - 1.0), lambda av, xv, bv: sp.i1(xv - 1.0)),
           "i1e": (pt.i1e(x - 1.0), lambda av, xv, bv: sp.i1e(xv - 1.0))}
    names = list(fns)
    gfn = opgraph.function([a, x, b], [grad(fns[n][0], x) for n in names], mode="PYTHON",
                           on_unused_input="ignore")
    eps = 1e-6
    for av, xv, bv in [(0.7, 0.4, 2.0), (3.0, 2.5, 0.6), (40.0, 3.3, 5.0), (2.0, 1.0, 1.0)]:
        got = gfn(av, xv, bv)
        for n, g in zip(names, got):
            ref = fns[n][1]
            fd = (ref(av, xv + eps, bv) - ref(av, xv - eps, bv)) / (2 * eps)
            np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9, err_msg=f"{n} at {(av, xv, bv)}")
    # x - 1 = 0 (the last point): i1' = i1e' = 1/2 there, no 0/0.
    assert got[names.index("i1")] == 0.5 and got[names.index("i1e")] == 0.5


def test_shape_parameter_gradients_say_not_implemented():
    a, x, b = pt.scalar("a"), pt.scalar("x"), pt.scalar("b")
    with pytest.raises(NullTypeGradError, match="shape parameter a"):
        grad(pt.gammainc(a, x), a)
    with pytest.raises(NullTypeGradError, match="shape parameter b"):
        grad(pt.betainc(a, b, x), b)


def test_inverses_match_scipy_on_extreme_grids_in_both_modes():
    a, b, y = pt.vector("a"), pt.vector("b"), pt.vector("y")
    probs = np.array([0.0, 1e-300, 1e-20, 1e-6, 0.3, 0.5, 0.9, 1 - 1e-12, 1.0])
    ag, yg = _grid(A, probs)
    ab, bb, yb = _grid(A, A, probs)
    outs = [pt.gammaincinv(a, y), pt.gammainccinv(a, y), pt.betaincinv(a, b, y), pt.betainccinv(a, b, y)]
    wants = [sp.gammaincinv(ag, yg), sp.gammainccinv(ag, yg), sp.betaincinv(ab, bb, yb), sp.betainccinv(ab, bb, yb)]
    args = [(ag, yg), (ag, yg), (ab, bb, yb), (ab, bb, yb)]
    for mode in ("PYTHON", "NUMBA"):
        for out, want, vals in zip(outs, wants, args):
            ins = [a, y] if len(vals) == 2 else [a, b, y]
            got = opgraph.function(ins, out, mode=mode)(*vals)
            np.testing.assert_array_equal(got, want, err_msg=f"{out.owner.op} ({mode})")


def test_inverses_invert_and_their_gradients_follow_the_inverse_function_rule():
    a, b, y = pt.scalar("a"), pt.scalar("b"), pt.scalar("y")
    inv = {"gammaincinv": (pt.gammaincinv(a, y), lambda av, bv, yv: sp.gammaincinv(av, yv)),
           "gammainccinv": (pt.gammainccinv(a, y), lambda av, bv, yv: sp.gammainccinv(av, yv)),
           "betaincinv": (pt.betaincinv(a, b, y), lambda av, bv, yv: sp.betaincinv(av, bv, yv)),
           "betainccinv": (pt.betainccinv(a, b, y), lambda av, bv, yv: sp.betainccinv(av, bv, yv))}
    names = list(inv)
    # forward(inverse(y)) == y, with the forward functions of the graph (not SciPy's)
    back = [pt.gammainc(a, inv["gammaincinv"][0]), pt.gammaincc(a, inv["gammainccinv"][0]),
            pt.betainc(a, b, inv["betaincinv"][0]), 1.0 - pt.betainc(a, b, inv["betainccinv"][0])]
    f = opgraph.function([a, b, y], [grad(inv[n][0], y) for n in names] + back, mode="PYTHON")
    eps = 1e-7
    for av, bv, yv in [(0.7, 2.0, 0.4), (3.0, 0.6, 0.05), (40.0, 5.0, 0.93), (1.0, 1.0, 0.5)]:
        res = f(av, bv, yv)
        for n, g in zip(names, res[:4]):
            ref = inv[n][1]
            fd = (ref(av, bv, yv + eps) - ref(av, bv, yv - eps)) / (2 * eps)
            np.testing.assert_allclose(g, fd, rtol=1e-6, err_msg=f"{n} at {(av, bv, yv)}")
        np.testing.assert_allclose(res[4:], yv, rtol=1e-12)
    # gammaincinv'(y) = 1 / P'(x): exactly the reciprocal of the forward derivative (a = 1: e^x)
    g1 = opgraph.function([y], grad(pt.gammaincinv(1.0, y), y), mode="PYTHON")(0.25)
    np.testing.assert_allclose(g1, 1.0 / 0.75, rtol=1e-14)


def test_inverse_shape_parameter_gradients_say_not_implemented():
    a, b, y = pt.scalar("a"), pt.scalar("b"), pt.scalar("y")
    with pytest.raises(NullTypeGradError, match="gammaincinv with respect to its shape parameter a"):
        grad(pt.gammaincinv(a, y), a)
    with pytest.raises(NullTypeGradError, match="gammainccinv with respect to its shape parameter a"):
        grad(pt.gammainccinv(a, y), a)
    with pytest.raises(NullTypeGradError, match="betaincinv with respect to its shape parameter b"):
        grad(pt.betaincinv(a, b, y), b)
    with pytest.raises(NullTypeGradError, match="betainccinv with respect to its shape parameter a"):
        grad(pt.betainccinv(a, b, y), a)
    # the y-gradient alone is fine with symbolic shape parameters
    assert grad(pt.betaincinv(a, b, y), y) is not None


def test_pytensor_names_of_the_inverses():
    import opgraph.scalar.math as psm
    import opgraph.tensor.math as ptm

    assert ptm.gammaincinv is pt.gammaincinv and ptm.gammainccinv is pt.gammainccinv
    assert ptm.betaincinv is pt.betaincinv
    assert isinstance(psm.gammaincinv, psm.GammaIncInv) and isinstance(psm.betaincinv, psm.BetaIncInv)
    assert isinstance(psm.gammainccinv, psm.GammaIncCInv)


def test_discrete_inverses_in_k_match_scipy_and_have_no_gradient():
    """pdtrik / bdtrik / nbdtrik (the poisson / binomial / negative binomial quantiles' first step)."""
    from opgraph.kernel_core.tensor import special_functions as tsf

    q, n, p = pt.vector("q"), pt.vector("n"), pt.vector("p")
    qg, ng, pg = _grid(np.array([1e-12, 1e-6, 0.3, 0.5, 0.99, 1 - 1e-9]), np.array([0.5, 3.0, 40.0, 1e4]),
                       np.array([1e-9, 0.2, 0.5, 0.97]))
    outs = [tsf.pdtrik(q, n), tsf.bdtrik(q, n, p), tsf.nbdtrik(q, n, p)]
    wants = [sp.pdtrik(qg, ng), sp.bdtrik(qg, ng, pg), sp.nbdtrik(qg, ng, pg)]
    for mode in ("PYTHON", "NUMBA"):
        got = opgraph.function([q, n, p], outs, mode=mode, on_unused_input="ignore")(qg, ng, pg)
        for g, w, o in zip(got, wants, outs):
            np.testing.assert_array_equal(g, w, err_msg=f"{o.owner.op} ({mode})")
    with pytest.raises(NullTypeGradError, match="pdtrik .*discrete CDF"):
        grad(tsf.pdtrik(q, n).sum(), q)

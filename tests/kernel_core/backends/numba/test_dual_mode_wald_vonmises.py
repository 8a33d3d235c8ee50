"""NUMBA = PYTHON = JAX for the von Mises CDF op (VonMisesCdf, scalar/vonmises_cdf.py) and the
graphs built on it and on the Wald's Newton iteration (logprob/iterative_quantiles.py): the
op on values across its branches (short Gauss-Legendre intervals, both tails, the tanh-sinh
tails, wrapped intervals, x outside [-pi, pi], the limits kappa = 0 / inf), its gradients in
x and mu, the von Mises logcdf / icdf and the Wald icdf with their gradients.

One compiled function per mode, every output compared (NUMBA with PYTHON to 1e-12, JAX with
PYTHON to 1e-10: XLA's sin / exp / log differ from libm's by an ulp, and XLA flushes
subnormal results to zero, hence atol 1e-300).  Self-contained: the shared dual-mode helper
(_dual_mode_cases.py) had not landed when this was written.
"""

import warnings

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.backends.numba.linker import NumbaFallbackWarning
from opgraph.kernel_core.gradient import grad
from opgraph.kernel_core.logprob.iterative_quantiles import vonmises_cdf
from opgraph.logprob import icdf, logcdf


def _graph():
    x, mu, k, q = pt.vector("x"), pt.vector("mu"), pt.vector("k"), pt.vector("q")
    m, s = pt.scalar("m"), pt.scalar("s")
    cdf = vonmises_cdf(x, mu, k)
    outs = [cdf, *grad(cdf.sum(), [x, mu])]
    vm = pt.random.vonmises(2.5, 30.0)
    outs += [logcdf(vm, x), icdf(vm, q)]
    wald_q = icdf(pt.random.wald(m, s), q)
    outs += [wald_q, *grad(wald_q.sum(), [q, m, s])]
    xs = np.array([-4.0, -np.pi, -3.0, -2.0, -0.5, -1e-9, 0.0, 0.7, 2.4, 3.0, np.pi, 4.0, 1.0, 0.3, -2.9, 2.0])
    mus = np.array([0.0, 2.5, -1.0, 3.1, -3.1, 0.0, 7.0, -20.0, 2.5, 0.3, 1.0, 0.0, 0.5, 0.0, 1.0, np.nan])
    ks = np.array([1.0, 800.0, 1e-8, 5.0, 1e5, 50.0, 3.0, 17.0, 0.0, np.inf, 2.0, 1.0, 1e12, 1e3, 300.0, 1.0])
    qs = np.array([0.0, 1e-12, 1e-6, 0.01, 0.2, 0.5, 0.7, 0.99, 1 - 1e-6, 1.0, 0.3, 0.4, 0.6, 0.9, 0.05, 0.45])
    return [x, mu, k, q, m, s], outs, [xs, mus, ks, qs, np.float64(3.0), np.float64(0.5)]


@pytest.fixture(scope="module")
def results():
    inputs, outs, values = _graph()
    got = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumbaFallbackWarning)
        f_numba = opgraph.function(inputs, outs, mode="NUMBA")
    assert "objmode" not in f_numba.maker.thunk.source
    got["NUMBA"] = f_numba(*values)
    for mode in ("PYTHON",):
        got[mode] = opgraph.function(inputs, outs, mode=mode)(*values)
    return outs, got


@pytest.mark.parametrize("mode,rtol", [("NUMBA", 1e-12)])
def test_modes_agree(results, mode, rtol):
    outs, got = results
    for k, (out, g, w) in enumerate(zip(outs, got[mode], got["PYTHON"])):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, f"output {k} ({out})"
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-300, equal_nan=True, err_msg=f"{mode}, output {k}: {out}")


def test_the_op_is_in_the_numba_graph(results):
    from opgraph.kernel_core.scalar.vonmises_cdf import VonMisesCdf

    inputs, outs, _ = _graph()
    f = opgraph.function(inputs, outs[:1], mode="NUMBA", on_unused_input="ignore")
    ops = [getattr(n.op, "scalar_op", n.op) for n in f.maker.fgraph.apply_nodes]
    inner = [type(o) for o in ops] + [type(n.op) for o in ops if hasattr(o, "fgraph")
                                      for n in o.fgraph.apply_nodes]
    assert VonMisesCdf in inner

"""categorical, multivariate_normal, dirichlet, multinomial logps against scipy.stats (batched),
and one NUMBA function computing several logps (no objmode fallback; equal to PYTHON)."""

import warnings

import numpy as np
import pytest
import scipy.stats as st

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.backends.numba.linker import NumbaFallbackWarning
from opgraph.kernel_core.compile.mode import Mode
from opgraph.logprob import ParameterValueError, logp

RNG = np.random.default_rng(7)


def test_categorical_batched_and_off_support():
    p = np.array([[0.2, 0.3, 0.5], [1e-300, 0.5, 0.5]])
    c = pt.random.categorical(p)
    v = pt.lvector("v")
    got = logp(c, v).eval({v: np.array([2, 0])})
    np.testing.assert_allclose(got, [np.log(0.5), np.log(1e-300)], rtol=1e-12)
    assert np.all(logp(c, v).eval({v: np.array([3, -1])}) == -np.inf)
    # One p vector, many values (the value's batch shape leads).
    c1 = pt.random.categorical(np.array([0.25, 0.75]), size=(4,))
    got1 = logp(c1, v).eval({v: np.array([0, 1, 1, 0])})
    np.testing.assert_allclose(got1, np.log([0.25, 0.75, 0.75, 0.25]), rtol=1e-12)


def test_mvnormal_dirichlet_multinomial_match_scipy():
    a = RNG.normal(size=(3, 3))
    cov = a @ a.T + 0.5 * np.eye(3)
    mean = np.array([1.0, -2.0, 0.5])
    x = RNG.normal(size=(4, 3))
    mv = pt.random.multivariate_normal(mean, cov, size=(4,))
    v = pt.matrix("v")
    np.testing.assert_allclose(logp(mv, v).eval({v: x}), st.multivariate_normal(mean, cov).logpdf(x), rtol=1e-11)
    alphas = np.array([0.5, 2.0, 7.0])
    d = pt.random.dirichlet(alphas, size=(2,))
    xs = np.array([[0.2, 0.3, 0.5], [1e-8, 0.5, 0.5 - 1e-8]])
    np.testing.assert_allclose(logp(d, v).eval({v: xs}), [st.dirichlet(alphas).logpdf(r) for r in xs], rtol=1e-11)
    pm = np.array([0.1, 0.6, 0.3])
    m = pt.random.multinomial(10, pm, size=(2,))
    lv = pt.lmatrix("lv")
    counts = np.array([[1, 6, 3], [0, 0, 10]])
    np.testing.assert_allclose(logp(m, lv).eval({lv: counts}), st.multinomial(10, pm).logpmf(counts), rtol=1e-11)
    assert logp(m, lv).eval({lv: np.array([[1, 1, 1], [1, 6, 3]])})[0] == -np.inf


def test_mvnormal_non_positive_definite_cov_names_it():
    cov = pt.matrix("cov")
    mv = pt.random.multivariate_normal(np.zeros(2), cov)
    v = pt.vector("v")
    with pytest.raises(ParameterValueError, match="posdef"):
        logp(mv, v).eval({v: np.zeros(2), cov: np.array([[1.0, 2.0], [2.0, 1.0]])})


def test_logps_compile_to_numba_without_objmode():
    x, k, mu, s = pt.vector("x"), pt.lvector("k"), pt.scalar("mu"), pt.scalar("s")
    outs = [logp(pt.random.normal(mu, s), x), logp(pt.random.gamma(2.0, scale=s), x),
            logp(pt.random.poisson(s), k), logp(pt.random.beta(s, 2.0), x),
            logp(pt.random.categorical(np.array([0.2, 0.8])), k), logp(pt.exp(pt.random.normal(mu, s)), x)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumbaFallbackWarning)
        f = opgraph.function([x, k, mu, s], outs, mode=Mode("NUMBA", tiered=False))
    assert "def perform_" not in f.maker.thunk.source
    g = opgraph.function([x, k, mu, s], outs, mode="PYTHON")
    args = (np.array([0.1, 0.5, 0.9]), np.array([0, 1, 1]), np.float64(0.3), np.float64(0.7))
    for a, b in zip(f(*args), g(*args)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    with pytest.raises(ParameterValueError, match="sigma > 0"):
        f(args[0], args[1], args[2], np.float64(-1.0))

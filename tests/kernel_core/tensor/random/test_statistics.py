"""Every distribution against scipy.stats, in mode PYTHON and mode NUMBA.

Four compiled functions per mode draw every distribution (``_all_draws.chunks``; ~10^5
draws each, fixed seeds: deterministic).  Where the Numba stream is NumPy's, the two
modes' arrays are identical; each array is also tested in distribution
(moments, and Kolmogorov-Smirnov or chi-square goodness of fit).
"""

import importlib.util
import os

import numpy as np
import pytest
import scipy.stats as st

import opgraph

_spec = importlib.util.spec_from_file_location("_all_draws", os.path.join(os.path.dirname(__file__), "_all_draws.py"))
D = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(D)

P_MIN = 1e-4     # goodness-of-fit p-values below this fail (fixed seeds: deterministic)


@pytest.fixture(scope="module")
def draws():
    names, rngs, outs = D.build()
    values = {}
    for mode in ("PYTHON", "NUMBA"):
        fs = [(chunk, opgraph.function([], [outs[k] for k in chunk], mode=mode)) for chunk in D.chunks(len(outs))]
        D.seed_all(rngs)
        values[mode] = {names[k]: v for chunk, f in fs for k, v in zip(chunk, f())}
    # The default updates advanced every generator: a second call draws anew.
    chunk, f = fs[0]
    again = f()
    assert not np.array_equal(again[0], values["NUMBA"][names[chunk[0]]])
    return values


def _chisquare(x, dist):
    """Chi-square goodness of fit of integer draws, bins with expected count >= 20."""
    vals, counts = np.unique(x, return_counts=True)
    lo, hi = int(dist.ppf(1e-7)), int(dist.ppf(1 - 1e-7)) + 1
    support = np.arange(lo, hi + 1)
    expected = dist.pmf(support) * len(x)
    observed = np.array([counts[vals == k].sum() for k in support], dtype=float)
    assert observed.sum() >= len(x) * 0.999, "draws outside the support"
    keep = expected >= 20
    obs = np.append(observed[keep], observed[~keep].sum())
    exp = np.append(expected[keep], expected[~keep].sum())
    if exp[-1] < 20:
        obs[-2] += obs[-1]
        exp[-2] += exp[-1]
        obs, exp = obs[:-1], exp[:-1]
    exp = exp * obs.sum() / exp.sum()
    return st.chisquare(obs, exp).pvalue


def _check_moments(x, dist):
    m, v = dist.stats(moments="mv")
    n = len(x)
    se = np.sqrt(v / n)
    assert abs(x.mean() - m) < 6 * se, (x.mean(), m)
    # The variance's standard error needs the 4th moment; a 5% band is ample at n = 10^5.
    assert abs(x.var() - v) < 0.05 * v, (x.var(), v)


HEAVY_TAILED = {"cauchy", "halfcauchy"}


def _check_scipy(name, x, dist, discrete):
    x = np.asarray(x)
    if name == "vonmises":
        # NumPy wraps to [-pi, pi); scipy's support is [loc - pi, loc + pi).
        loc = dist.kwds["loc"]
        x = np.mod(x - loc + np.pi, 2 * np.pi) - np.pi + loc
    if discrete:
        assert np.all(x == np.round(x))
        assert _chisquare(x, dist) > P_MIN
    else:
        assert st.kstest(x, dist.cdf).pvalue > P_MIN
    if name in HEAVY_TAILED:
        assert abs(np.median(x) - dist.median()) < 0.02 * (1 + abs(dist.median()))
    else:
        _check_moments(x, dist)


def _check_special(name, x):
    if name == "multinomial":
        assert x.shape == (D.NB, 4) and np.all(x.sum(axis=1) == 10) and np.all(x >= 0)
        for j, p in enumerate(D.P4):
            assert _chisquare(x[:, j], st.binom(10, p)) > P_MIN
    elif name == "multivariate_normal":
        n = len(x)
        assert np.all(np.abs(x.mean(axis=0) - D.MEAN) < 6 * np.sqrt(np.diag(D.COV) / n))
        np.testing.assert_allclose(np.cov(x.T), D.COV, atol=0.05)
        for j in range(3):
            assert st.kstest(x[:, j], st.norm(D.MEAN[j], np.sqrt(D.COV[j, j])).cdf).pvalue > P_MIN
    elif name in ("dirichlet", "dirichlet_small"):
        alpha = D.ALPHA if name == "dirichlet" else np.array([0.05, 0.08])
        np.testing.assert_allclose(x.sum(axis=1), 1.0, rtol=1e-12)
        for j, a in enumerate(alpha):
            marginal = st.beta(a, alpha.sum() - a)
            if name == "dirichlet":
                assert st.kstest(x[:, j], marginal.cdf).pvalue > P_MIN
            else:
                # Tiny alphas put mass within 1e-16 of 0 and 1, where doubles round (NumPy's
                # draws too): compare the CDF away from the ends.
                for q in (0.01, 0.1, 0.5, 0.9, 0.99):
                    c = marginal.cdf(q)
                    assert abs(np.mean(x[:, j] <= q) - c) < 6 * np.sqrt(c * (1 - c) / len(x)), q
            np.testing.assert_allclose(x[:, j].mean(), marginal.mean(), atol=6 * marginal.std() / np.sqrt(len(x)))
    elif name == "permutation":
        assert np.all(np.sort(x, axis=1) == np.arange(10))
        for j in (0, 9):
            assert _chisquare(x[:, j], st.randint(0, 10)) > P_MIN
    elif name == "choice":
        assert set(np.unique(x)) == {2.0, 3.0, 5.0}
        codes = np.searchsorted([2.0, 3.0, 5.0], x)
        assert _chisquare(codes, st.randint(0, 3)) > P_MIN
    elif name == "choice_noreplace":
        assert x.shape == (10,) and len(set(x.tolist())) == 10 and np.all((x >= 0) & (x < 50))
    elif name == "choice_noreplace_p":
        assert x.shape == (3,) and len(set(x.tolist())) == 3 and np.all((x >= 0) & (x < 5))
    else:
        raise AssertionError(f"no check for {name}")


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
@pytest.mark.parametrize("name", list(D.CASES))
def test_distribution(draws, name, mode):
    _, dist, discrete = D.CASES[name]
    x = draws[mode][name]
    if dist is not None:
        _check_scipy(name, x, dist, discrete)
    else:
        _check_special(name, x)


@pytest.mark.parametrize("name", list(D.CASES))
def test_numba_stream_is_numpys(draws, name):
    """The same seed gives the same arrays in both modes (the Python mode is NumPy's Generator)."""
    a, b = draws["PYTHON"][name], draws["NUMBA"][name]
    assert a.dtype == b.dtype and a.shape == b.shape
    if name in D.CLOSE_ONLY:
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    else:
        np.testing.assert_array_equal(a, b)


def test_python_mode_is_numpys_generator(draws):
    """The PYTHON draws are NumPy's Generator methods with the same seed (where the method exists)."""
    names = list(D.CASES)
    py = draws["PYTHON"]

    def rng(name):
        return np.random.default_rng(1000 + names.index(name))

    np.testing.assert_array_equal(py["normal"], rng("normal").normal(1.5, 2.0, size=D.N))
    np.testing.assert_array_equal(py["gumbel"], rng("gumbel").gumbel(0.5, 2.0, size=D.N))
    np.testing.assert_array_equal(py["vonmises"], rng("vonmises").vonmises(0.5, 2.0, size=D.N))
    np.testing.assert_array_equal(py["integers"], rng("integers").integers(-3, 7, size=D.N))
    np.testing.assert_array_equal(py["poisson"], rng("poisson").poisson(4.5, size=D.N))
    np.testing.assert_array_equal(py["multinomial"], rng("multinomial").multinomial(10, D.P4, size=D.NB))
    np.testing.assert_array_equal(py["dirichlet"], rng("dirichlet").dirichlet(D.ALPHA, size=D.NB))
    np.testing.assert_array_equal(py["dirichlet_small"],
                                  rng("dirichlet_small").dirichlet([0.05, 0.08], size=D.NB))

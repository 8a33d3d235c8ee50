"""Random variables in mode "JAX": jax.random keys threaded through the graph.

The draws are JAX's stream, not NumPy's, so the tests compare distributions:
Kolmogorov-Smirnov p-values against scipy for the continuous ones and moments
for the others, with fixed seeds (deterministic results) and many draws.
"""

import functools

import numpy as np
import pytest

pytest.importorskip("jax")
from scipy import stats  # noqa: E402

import opgraph  # noqa: E402
import opgraph.tensor as pt  # noqa: E402
from opgraph.kernel_core.backends.jax.dispatch import JaxCompileError  # noqa: E402

N = 4000

# name -> (builder on the generator, scipy distribution)
CONTINUOUS = {
    "normal": (lambda g: pt.random.normal(1.0, 2.0, size=N, rng=g), stats.norm(1, 2)),
    "uniform": (lambda g: pt.random.uniform(-1.0, 3.0, size=N, rng=g), stats.uniform(-1, 4)),
    "exponential": (lambda g: pt.random.exponential(2.0, size=N, rng=g), stats.expon(scale=2)),
    "gamma": (lambda g: pt.random.gamma(3.0, scale=2.0, size=N, rng=g), stats.gamma(3, scale=2)),
    "gamma_rate": (lambda g: pt.random.gamma(3.0, rate=2.0, size=N, rng=g), stats.gamma(3, scale=0.5)),
    "beta": (lambda g: pt.random.beta(2.0, 5.0, size=N, rng=g), stats.beta(2, 5)),
    "lognormal": (lambda g: pt.random.lognormal(0.5, 0.3, size=N, rng=g), stats.lognorm(0.3, scale=np.exp(0.5))),
    "halfnormal": (lambda g: pt.random.halfnormal(1.0, 2.0, size=N, rng=g), stats.halfnorm(1, 2)),
    "halfcauchy": (lambda g: pt.random.halfcauchy(0.0, 2.0, size=N, rng=g), stats.halfcauchy(0, 2)),
    "cauchy": (lambda g: pt.random.cauchy(1.0, 2.0, size=N, rng=g), stats.cauchy(1, 2)),
    "laplace": (lambda g: pt.random.laplace(1.0, 2.0, size=N, rng=g), stats.laplace(1, 2)),
    "logistic": (lambda g: pt.random.logistic(1.0, 2.0, size=N, rng=g), stats.logistic(1, 2)),
    "gumbel": (lambda g: pt.random.gumbel(1.0, 2.0, size=N, rng=g), stats.gumbel_r(1, 2)),
    "t": (lambda g: pt.random.t(5.0, 1.0, 2.0, size=N, rng=g), stats.t(5, 1, 2)),
    "chisquare": (lambda g: pt.random.chisquare(3.0, size=N, rng=g), stats.chi2(3)),
    "weibull": (lambda g: pt.random.weibull(1.5, size=N, rng=g), stats.weibull_min(1.5)),
    "vonmises": (lambda g: pt.random.vonmises(0.5, 2.0, size=N, rng=g), stats.vonmises(2.0, loc=0.5)),
    "pareto": (lambda g: pt.random.pareto(3.0, 2.0, size=N, rng=g), stats.pareto(3, scale=2)),
    "wald": (lambda g: pt.random.wald(2.0, 3.0, size=N, rng=g), stats.invgauss(2 / 3, scale=3)),
    "triangular": (lambda g: pt.random.triangular(0.0, 1.0, 3.0, size=N, rng=g), stats.triang(1 / 3, 0, 3)),
    "invgamma": (lambda g: pt.random.invgamma(3.0, 2.0, size=N, rng=g), stats.invgamma(3, scale=2)),
    "rayleigh": (lambda g: pt.random.rayleigh(2.0, size=N, rng=g), stats.rayleigh(scale=2)),
    "standard_normal": (lambda g: pt.random.standard_normal(size=N, rng=g), stats.norm()),
}

DISCRETE = {
    "integers": (lambda g: pt.random.integers(2, 7, size=N, rng=g), stats.randint(2, 7)),
    "bernoulli": (lambda g: pt.random.bernoulli(0.3, size=N, rng=g), stats.bernoulli(0.3)),
    "binomial": (lambda g: pt.random.binomial(10, 0.3, size=N, rng=g), stats.binom(10, 0.3)),
    "poisson": (lambda g: pt.random.poisson(3.5, size=N, rng=g), stats.poisson(3.5)),
    "negative_binomial": (lambda g: pt.random.negative_binomial(4.0, 0.4, size=N, rng=g), stats.nbinom(4, 0.4)),
    "geometric": (lambda g: pt.random.geometric(0.3, size=N, rng=g), stats.geom(0.3)),
}

P = np.array([0.2, 0.5, 0.3])
MV_MEAN = np.array([1.0, -1.0])
MV_COV = np.array([[2.0, 0.5], [0.5, 1.0]])
ALPHAS = np.array([1.0, 2.0, 3.0])


@functools.lru_cache(maxsize=None)
def all_draws():
    """One compiled function drawing every distribution (one JAX compilation)."""
    rng = opgraph.shared(np.random.default_rng(2024))
    names = list(CONTINUOUS) + list(DISCRETE)
    outs = [CONTINUOUS[n][0](rng) if n in CONTINUOUS else DISCRETE[n][0](rng) for n in names]
    more = {
        "categorical": pt.random.categorical(P, size=N, rng=rng),
        "multinomial": pt.random.multinomial(20, P, size=N, rng=rng),
        "mvnormal": pt.random.multivariate_normal(MV_MEAN, MV_COV, size=N, rng=rng),
        "dirichlet": pt.random.dirichlet(ALPHAS, size=N, rng=rng),
        "permutation_batch": pt.random.permutation(np.arange(5.0), size=(50,), rng=rng),
        "permutation_int": pt.random.permutation(6, rng=rng),
        "normal_batched": pt.random.normal(np.array([0.0, 10.0, 20.0]), np.array([1.0, 2.0, 3.0]),
                                           size=(N, 3), rng=rng),
    }
    names += list(more)
    outs += list(more.values())
    f = opgraph.function([], outs, mode="JAX")
    return dict(zip(names, f()))


@pytest.mark.parametrize("name", sorted(CONTINUOUS))
def test_continuous_distribution_matches_scipy(name):
    draw = all_draws()[name]
    assert draw.shape == (N,) and draw.dtype == np.float64
    assert stats.kstest(draw, CONTINUOUS[name][1].cdf).pvalue > 1e-3


@pytest.mark.parametrize("name", sorted(DISCRETE))
def test_discrete_distribution_moments(name):
    draw = all_draws()[name]
    dist = DISCRETE[name][1]
    assert draw.dtype == np.int64 and draw.shape == (N,)
    se = np.sqrt(dist.var() / N)
    assert abs(draw.mean() - dist.mean()) < 5 * se
    assert abs(draw.var() / dist.var() - 1) < 0.15
    assert draw.min() >= dist.support()[0]


def test_multivariate_and_core_dims():
    d = all_draws()
    freq = np.bincount(d["categorical"], minlength=3) / N
    np.testing.assert_allclose(freq, P, atol=0.03)
    m = d["multinomial"]
    assert m.shape == (N, 3) and (m.sum(axis=1) == 20).all()
    np.testing.assert_allclose(m.mean(axis=0), 20 * P, rtol=0.05)
    mv = d["mvnormal"]
    assert mv.shape == (N, 2)
    np.testing.assert_allclose(mv.mean(axis=0), MV_MEAN, atol=0.1)
    np.testing.assert_allclose(np.cov(mv.T), MV_COV, atol=0.15)
    di = d["dirichlet"]
    np.testing.assert_allclose(di.sum(axis=1), 1.0)
    np.testing.assert_allclose(di.mean(axis=0), ALPHAS / ALPHAS.sum(), atol=0.02)
    perms = d["permutation_batch"]
    assert perms.shape == (50, 5)
    assert (np.sort(perms, axis=1) == np.arange(5.0)).all()
    assert len({tuple(r) for r in perms}) > 10          # the rows are independent permutations
    assert sorted(d["permutation_int"]) == list(range(6))
    nb = d["normal_batched"]
    np.testing.assert_allclose(nb.mean(axis=0), [0, 10, 20], atol=0.2)
    np.testing.assert_allclose(nb.std(axis=0), [1, 2, 3], rtol=0.1)


def test_choice_is_built_from_other_random_variables():
    rng = opgraph.shared(np.random.default_rng(5))
    f = opgraph.function([], [pt.random.choice(10, size=(4,), replace=False, rng=rng),
                              pt.random.choice(np.array([10, 20, 30]), size=(N,), p=P, rng=rng),
                              pt.random.choice(np.array([1.5, 2.5]), size=(N,), rng=rng)], mode="JAX")
    noreplace, with_p, uniform = f()
    assert len(set(noreplace.tolist())) == 4 and set(noreplace.tolist()) <= set(range(10))
    np.testing.assert_allclose([np.mean(with_p == v) for v in (10, 20, 30)], P, atol=0.03)
    assert set(uniform.tolist()) == {1.5, 2.5} and abs(np.mean(uniform == 1.5) - 0.5) < 0.03


def test_default_update_advances_the_generator_and_seeds_reproduce():
    rng = opgraph.shared(np.random.default_rng(7))
    x = pt.random.normal(0.0, 1.0, size=5, rng=rng)
    f = opgraph.function([], x, updates={rng: x.owner.outputs[0]}, mode="JAX")
    before = rng.get_value()
    a, b = f(), f()
    assert not np.allclose(a, b)                     # the update advanced the key
    assert not opgraph.shared(before).type.values_eq(rng.get_value(), before)
    # The same seed gives the same draws (a new function, a new shared generator).
    rng2 = opgraph.shared(np.random.default_rng(7))
    y = pt.random.normal(0.0, 1.0, size=5, rng=rng2)
    g = opgraph.function([], y, updates={rng2: y.owner.outputs[0]}, mode="JAX")
    np.testing.assert_array_equal(g(), a)
    np.testing.assert_array_equal(g(), b)
    # A draw's own generator (default_update): new draws per call too.
    z = pt.random.uniform(size=3)
    h = opgraph.function([], z, mode="JAX")
    assert not np.allclose(h(), h())


def test_generator_as_explicit_input_and_output():
    from opgraph.kernel_core.tensor.random.type import random_generator_type

    g = random_generator_type()
    next_g, x = pt.random.normal(0.0, 1.0, size=4, rng=g, return_next_rng=True)
    f = opgraph.function([g], [next_g, x], mode="JAX")
    gen = np.random.default_rng(3)
    state = gen.bit_generator.state
    g1, x1 = f(gen)
    assert gen.bit_generator.state == state          # the caller's generator is not advanced
    assert isinstance(g1, np.random.Generator)
    _, x2 = f(g1)
    _, x1_again = f(gen)
    np.testing.assert_array_equal(x1, x1_again)
    assert not np.allclose(x1, x2)


def test_domain_errors_raise_after_the_call_like_the_other_modes():
    s = pt.scalar("s")
    rng = opgraph.shared(np.random.default_rng(0))
    x = pt.random.normal(0.0, s, size=3, rng=rng)
    f = opgraph.function([s], x, mode="JAX")
    assert f(1.0).shape == (3,)
    with pytest.raises(ValueError, match="normal: scale must be >= 0"):
        f(-1.0)
    with pytest.raises(ValueError, match="normal: scale must be >= 0"):
        opgraph.function([s], x, mode="PYTHON")(-1.0)
    lo = pt.scalar("lo", dtype="int64")
    i = pt.random.integers(lo, 5, size=3, rng=rng)
    fi = opgraph.function([lo], i, mode="JAX")
    with pytest.raises(ValueError, match="low must be < high"):
        fi(7)


def test_size_from_input_values_is_a_clear_compile_error():
    n = pt.scalar("n", dtype="int64")
    x = pt.random.normal(0.0, 1.0, size=(n,), rng=opgraph.shared(np.random.default_rng(0)))
    f = opgraph.function([n], x, mode="JAX")
    with pytest.raises(JaxCompileError, match="normal"):
        f(3)


def test_size_from_a_static_shape_compiles():
    v = pt.matrix("v", shape=(3, 2))
    x = pt.random.normal(0.0, 1.0, size=v.shape, rng=opgraph.shared(np.random.default_rng(0)))
    f = opgraph.function([v], x + v, mode="JAX")
    assert f(np.zeros((3, 2))).shape == (3, 2)

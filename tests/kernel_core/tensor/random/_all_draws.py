"""The graphs drawing every distribution (shared by the statistics test and the dual-mode
test of the Numba backend: the same graphs, so the same generated modules and one Numba
compilation each, found in the disk cache by the second).

The draws are compiled as ``N_CHUNKS`` functions of about ten draws each, not one: Numba's
compile time grows faster than linearly with the size of one function (all 40 draws in one
function: 63 CPU-s cold, 44-46 s since permutation no longer compiles numba's shuffle; in 4:
31 s, then this file's two users together 29 s cold; in 8 or 40: 29-30 s).  In the one
function, numba's lowering is 33 s (LLVM's passes ~15 s of it, RefPrune 2.5 s) and type
inference 7 s.

Each draw gets its own shared generator with its default update (the compiled
NUMBA graph then advances generators in place, the hot path); ``seed_all``
resets them to fixed seeds before a call, so the tests are deterministic.
"""

import numpy as np
import scipy.stats as st

import opgraph.tensor as pt

N = 100_000          # draws per univariate distribution
NB = 20_000          # batch entries of the multivariate ones (their Python mode loops)

P4 = np.array([0.1, 0.2, 0.3, 0.4])
MEAN = np.array([1.0, -2.0, 0.5])
COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])
ALPHA = np.array([0.5, 1.5, 3.0])

# name: (builder(rng) -> draw, scipy frozen distribution or None, discrete?)
CASES = {
    "normal": (lambda: pt.random.normal(1.5, 2.0, size=(N,)), st.norm(1.5, 2.0), False),
    "standard_normal": (lambda: pt.random.standard_normal(size=(N,)), st.norm(), False),
    "uniform": (lambda: pt.random.uniform(-1.0, 3.0, size=(N,)), st.uniform(-1.0, 4.0), False),
    "exponential": (lambda: pt.random.exponential(2.0, size=(N,)), st.expon(scale=2.0), False),
    "gamma": (lambda: pt.random.gamma(2.5, scale=1.5, size=(N,)), st.gamma(2.5, scale=1.5), False),
    "gamma_rate": (lambda: pt.random.gamma(0.5, rate=2.0, size=(N,)), st.gamma(0.5, scale=0.5), False),
    "beta": (lambda: pt.random.beta(2.0, 5.0, size=(N,)), st.beta(2.0, 5.0), False),
    "lognormal": (lambda: pt.random.lognormal(0.3, 0.8, size=(N,)), st.lognorm(0.8, scale=np.exp(0.3)), False),
    "halfnormal": (lambda: pt.random.halfnormal(1.0, 2.0, size=(N,)), st.halfnorm(1.0, 2.0), False),
    "halfcauchy": (lambda: pt.random.halfcauchy(0.0, 1.5, size=(N,)), st.halfcauchy(0.0, 1.5), False),
    "cauchy": (lambda: pt.random.cauchy(-1.0, 0.5, size=(N,)), st.cauchy(-1.0, 0.5), False),
    "laplace": (lambda: pt.random.laplace(0.5, 2.0, size=(N,)), st.laplace(0.5, 2.0), False),
    "logistic": (lambda: pt.random.logistic(0.5, 2.0, size=(N,)), st.logistic(0.5, 2.0), False),
    "gumbel": (lambda: pt.random.gumbel(0.5, 2.0, size=(N,)), st.gumbel_r(0.5, 2.0), False),
    "t": (lambda: pt.random.t(4.0, 1.0, 2.0, size=(N,)), st.t(4.0, 1.0, 2.0), False),
    "chisquare": (lambda: pt.random.chisquare(3.0, size=(N,)), st.chi2(3.0), False),
    "weibull": (lambda: pt.random.weibull(1.5, size=(N,)), st.weibull_min(1.5), False),
    "vonmises": (lambda: pt.random.vonmises(0.5, 2.0, size=(N,)), st.vonmises(2.0, loc=0.5), False),
    "pareto": (lambda: pt.random.pareto(8.0, 2.0, size=(N,)), st.pareto(8.0, scale=2.0), False),
    "wald": (lambda: pt.random.wald(1.5, 2.0, size=(N,)), st.invgauss(1.5 / 2.0, scale=2.0), False),
    "triangular": (lambda: pt.random.triangular(-1.0, 0.5, 2.0, size=(N,)), st.triang(0.5, loc=-1.0, scale=3.0), False),
    "invgamma": (lambda: pt.random.invgamma(9.0, 3.0, size=(N,)), st.invgamma(9.0, scale=3.0), False),
    "rayleigh": (lambda: pt.random.rayleigh(1.5, size=(N,)), st.rayleigh(scale=1.5), False),
    "integers": (lambda: pt.random.integers(-3, 7, size=(N,)), st.randint(-3, 7), True),
    "bernoulli": (lambda: pt.random.bernoulli(0.3, size=(N,)), st.bernoulli(0.3), True),
    "binomial": (lambda: pt.random.binomial(20, 0.35, size=(N,)), st.binom(20, 0.35), True),
    "poisson": (lambda: pt.random.poisson(4.5, size=(N,)), st.poisson(4.5), True),
    "poisson_large": (lambda: pt.random.poisson(40.0, size=(N,)), st.poisson(40.0), True),
    "negative_binomial": (lambda: pt.random.negative_binomial(3.5, 0.4, size=(N,)), st.nbinom(3.5, 0.4), True),
    "geometric": (lambda: pt.random.geometric(0.3, size=(N,)), st.geom(0.3), True),
    "categorical": (lambda: pt.random.categorical(P4, size=(N,)), st.rv_discrete(values=(range(4), P4)), True),
    "multinomial": (lambda: pt.random.multinomial(10, P4, size=(NB,)), None, True),
    "multivariate_normal": (lambda: pt.random.multivariate_normal(MEAN, COV, size=(NB,)), None, False),
    "dirichlet": (lambda: pt.random.dirichlet(ALPHA, size=(NB,)), None, False),
    "dirichlet_small": (lambda: pt.random.dirichlet(np.array([0.05, 0.08]), size=(NB,)), None, False),
    "permutation": (lambda: pt.random.permutation(np.arange(10), size=(NB,)), None, True),
    "choice_p": (lambda: pt.random.choice(4, size=(N,), p=P4), st.rv_discrete(values=(range(4), P4)), True),
    "choice": (lambda: pt.random.choice(np.array([2.0, 3.0, 5.0]), size=(N,)), None, False),
    "choice_noreplace": (lambda: pt.random.choice(50, size=(10,), replace=False), None, True),
    "choice_noreplace_p": (lambda: pt.random.choice(5, size=(3,), replace=False, p=np.full(5, 0.2)), None, True),
}

# Draws whose NUMBA stream is not NumPy's bit for bit: the same uniforms and normals, the
# arithmetic on them rounded differently in the last bits (BLAS; numba's compiled wald).
CLOSE_ONLY = {"multivariate_normal", "wald"}


def build():
    """(names, the shared generator of each draw, the draws)."""
    from opgraph.kernel_core.graph.traversal import graph_inputs
    from opgraph.kernel_core.tensor.random.type import RandomGeneratorSharedVariable

    names = list(CASES)
    draws = [CASES[n][0]() for n in names]
    rngs = []
    for d in draws:
        found = [v for v in graph_inputs([d]) if isinstance(v, RandomGeneratorSharedVariable)]
        assert len(found) == 1, found
        rngs.append(found[0])
    return names, rngs, draws


N_CHUNKS = 4


def chunks(n):
    """The draws' positions in each compiled function (every fourth draw: a mix of kinds)."""
    return [list(range(c, n, N_CHUNKS)) for c in range(N_CHUNKS)]


def seed_all(rngs, base=1000):
    for i, r in enumerate(rngs):
        r.set_value(np.random.default_rng(base + i), borrow=True)

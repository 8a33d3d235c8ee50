"""Random variables in the JAX backend: explicit ``jax.random`` keys threaded through the graph.

A generator value (``RandomGeneratorType``: a NumPy ``Generator``, usually held by a
shared variable) becomes a JAX key at the function boundary and each random node
``rv(rng, size, *params) -> (next_rng, draw)`` becomes

    def normal(key, size, loc, scale):
        key, sub = jax.random.split(key)
        return key, loc + scale * jax.random.normal(sub, shape)

so the node's generator output is the split key.  At the boundary, coming back,
a key becomes a new NumPy ``Generator`` seeded with the key's words: the
update ``rng -> next_rng`` (``function(..., updates=)`` or the draw's
``default_update``) stores it in the shared variable, and the next call derives
its key from that generator, so repeated calls draw anew, and the same seed gives
the same draws.

**The draws are not NumPy's stream.**  The PYTHON and NUMBA modes draw NumPy's
own numbers; mode ``"JAX"`` draws JAX's (threefry keys, JAX's samplers).  The
*distributions* are the same: every sampler below is ``jax.random``'s or a
transform of its draws (half-normal ``|normal|``, negative binomial as a
gamma-Poisson mixture, inverse gamma ``beta / gamma``, Wald from JAX's unit-shape
Wald by scaling, von Mises by Best & Fisher's rejection in a ``while_loop``, ...),
and the tests compare moments and quantiles, not values.

Parameter domains (``scale >= 0``, ``p in [0, 1]``, ``low < high``...) are checked
inside the compiled function with ``checks.py``: the call raises the same
``ValueError`` as the other modes, after the computation.

Static shapes: the draw's shape must be known when compiling -- the node's static
type, a constant ``size`` or one computed from static shapes (``shape(x)``); a
``size`` computed from input values raises a ``JaxCompileError`` naming the RV.
"""

from __future__ import annotations

import copy

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from opgraph.kernel_core.backends.jax.checks import jax_check, register_checking_op
from opgraph.kernel_core.backends.jax.dispatch import jax_funcify, jax_input, jax_output, static_value
from opgraph.kernel_core.tensor.random import basic as rv
from opgraph.kernel_core.tensor.random.op import _DOMAINS, RandomVariable
from opgraph.kernel_core.tensor.random.type import RandomGeneratorType

__all__ = ["generator_to_key", "key_to_generator", "as_key"]


# -- the boundary -------------------------------------------------------------------
def generator_to_key(gen):
    """The JAX key (a ``uint32[2]`` array) a NumPy Generator stands for.  Read from a
    copy: the caller's generator is not advanced (its update is the function's)."""
    if not isinstance(gen, np.random.Generator):
        raise TypeError(f"expected a numpy.random.Generator for a generator input, got {type(gen).__name__}")
    words = copy.deepcopy(gen).integers(0, 2 ** 32, size=2, dtype=np.uint32)
    return words


def key_to_generator(key):
    """A NumPy Generator standing for the JAX key ``key`` (seeded with its words)."""
    words = np.asarray(key)   # a raw uint32[2] key (what the graph threads)
    return np.random.default_rng(words.astype(np.uint32).ravel())


@jax_input.register(RandomGeneratorType)
def _generator_input(value_type, value):
    return generator_to_key(value)


@jax_output.register(RandomGeneratorType)
def _generator_output(value_type, value, jax_arrays=False):
    return key_to_generator(value)


def as_key(value):
    """A key from a graph value: a Generator (a constant of the graph) or a key already."""
    if isinstance(value, np.random.Generator):
        return jnp.asarray(generator_to_key(value))
    return value


# -- samplers: (key, params broadcast to the draw's batch shape, batch shape, dtype) -> draw
def _scaled(base):
    def sample(key, params, shape, dtype):
        loc, scale = params
        return loc + scale * base(key, shape, dtype)
    return sample


def _vonmises(key, params, shape, dtype):
    """Best & Fisher (1979): rejection on ``w = cos(theta)``, every element redrawn until
    accepted (a ``while_loop`` over the whole batch), then the sign and the shift."""
    mu, kappa = (jnp.broadcast_to(p, shape).astype(dtype) for p in params)
    tiny = kappa < 1e-8
    k = jnp.where(tiny, 1.0, kappa)
    r = 1.0 + jnp.sqrt(1.0 + 4.0 * k * k)
    rho = (r - jnp.sqrt(2.0 * r)) / (2.0 * k)
    s = (1.0 + rho * rho) / (2.0 * rho)

    def cond(state):
        return ~jnp.all(state[2])

    def body(state):
        key, w, done = state
        key, k1, k2 = jax.random.split(key, 3)
        u = jax.random.uniform(k1, shape, dtype)
        v = jax.random.uniform(k2, shape, dtype, minval=jnp.finfo(dtype).tiny)
        z = jnp.cos(jnp.pi * u)
        w_new = (1.0 + s * z) / (s + z)
        y = k * (s - w_new)
        ok = (y * (2.0 - y) - v >= 0) | (jnp.log(y / v) + 1.0 - y >= 0)
        take = ok & ~done
        return key, jnp.where(take, w_new, w), done | ok

    key, ksign, kuni = jax.random.split(key, 3)
    _, w, _ = lax.while_loop(cond, body, (key, jnp.zeros(shape, dtype), jnp.zeros(shape, bool)))
    theta = jnp.arccos(jnp.clip(w, -1.0, 1.0))
    theta = jnp.where(jax.random.uniform(ksign, shape, dtype) < 0.5, -theta, theta)
    theta = jnp.where(tiny, jnp.pi * (2.0 * jax.random.uniform(kuni, shape, dtype) - 1.0), theta)
    out = theta + mu
    # Back into [-pi, pi), as NumPy's.
    return jnp.mod(out + jnp.pi, 2.0 * jnp.pi) - jnp.pi


def _negative_binomial(key, params, shape, dtype):
    # Failures before the n-th success: Poisson(Gamma(n, (1 - p) / p)).
    n, p = params
    k1, k2 = jax.random.split(key)
    lam = jax.random.gamma(k1, n.astype(float), shape) * ((1.0 - p) / p)
    return jax.random.poisson(k2, lam, shape, dtype=jnp.int64).astype(dtype)


_SAMPLERS = {
    rv.NormalRV: _scaled(lambda k, s, d: jax.random.normal(k, s, d)),
    rv.UniformRV: lambda k, p, s, d: jax.random.uniform(k, s, d, minval=p[0], maxval=p[1]),
    rv.ExponentialRV: lambda k, p, s, d: p[0] * jax.random.exponential(k, s, d),
    rv.GammaRV: lambda k, p, s, d: p[1] * jax.random.gamma(k, p[0], s, d),
    rv.BetaRV: lambda k, p, s, d: jax.random.beta(k, p[0], p[1], s, d),
    rv.LogNormalRV: lambda k, p, s, d: jnp.exp(p[0] + p[1] * jax.random.normal(k, s, d)),
    rv.HalfNormalRV: _scaled(lambda k, s, d: jnp.abs(jax.random.normal(k, s, d))),
    rv.HalfCauchyRV: _scaled(lambda k, s, d: jnp.abs(jax.random.cauchy(k, s, d))),
    rv.CauchyRV: _scaled(lambda k, s, d: jax.random.cauchy(k, s, d)),
    rv.LaplaceRV: _scaled(lambda k, s, d: jax.random.laplace(k, s, d)),
    rv.LogisticRV: _scaled(lambda k, s, d: jax.random.logistic(k, s, d)),
    rv.GumbelRV: _scaled(lambda k, s, d: jax.random.gumbel(k, s, d)),
    rv.StudentTRV: lambda k, p, s, d: p[1] + p[2] * jax.random.t(k, p[0], s, d),
    rv.ChiSquareRV: lambda k, p, s, d: jax.random.chisquare(k, p[0], s, d),
    rv.WeibullRV: lambda k, p, s, d: jax.random.weibull_min(k, 1.0, p[0], s, d),
    rv.VonMisesRV: _vonmises,
    # scale * Pareto(b) on [1, inf) (NumPy's 1 + Lomax).
    rv.ParetoRV: lambda k, p, s, d: p[1] * jax.random.pareto(k, p[0], s, d),
    # IG(mean, shape) = shape * IG(mean / shape, 1).
    rv.WaldRV: lambda k, p, s, d: p[1] * jax.random.wald(k, p[0] / p[1], s, d),
    rv.TriangularRV: lambda k, p, s, d: jax.random.triangular(k, p[0], p[1], p[2], s, d),
    rv.InvGammaRV: lambda k, p, s, d: p[1] / jax.random.gamma(k, p[0], s, d),
    rv.RayleighRV: lambda k, p, s, d: jax.random.rayleigh(k, p[0], s, d),
    rv.IntegersRV: lambda k, p, s, d: jax.random.randint(k, s, p[0], p[1], dtype=d),
    rv.BernoulliRV: lambda k, p, s, d: jax.random.bernoulli(k, p[0], s).astype(d),
    rv.BinomialRV: lambda k, p, s, d: jax.random.binomial(k, p[0].astype(float), p[1], s).astype(d),
    rv.PoissonRV: lambda k, p, s, d: jax.random.poisson(k, p[0], s, dtype=d),
    rv.NegativeBinomialRV: _negative_binomial,
    # NumPy's geometric counts the trials up to the first success (>= 1), as JAX's.
    rv.GeometricRV: lambda k, p, s, d: jax.random.geometric(k, p[0], s, dtype=d),
}


def _categorical(key, params, batch, dtype):
    (p,) = params
    with np.errstate(divide="ignore"):
        logits = jnp.log(p)
    return jax.random.categorical(key, logits, axis=-1, shape=batch).astype(dtype)


def _multinomial(key, params, batch, dtype):
    n, p = params
    k = p.shape[-1]
    return jax.random.multinomial(key, n, p, shape=batch + (k,)).astype(dtype)


def _mvnormal(key, params, batch, dtype):
    mean, cov = params
    return jax.random.multivariate_normal(key, mean, cov, batch, dtype, method="cholesky")


def _dirichlet(key, params, batch, dtype):
    (alphas,) = params
    return jax.random.dirichlet(key, alphas, batch, dtype)


def _permutation(key, params, batch, dtype):
    (x,) = params
    x = jnp.broadcast_to(x, batch + x.shape[-1:])
    if not batch:
        return jax.random.permutation(key, x)
    return jax.random.permutation(key, x, axis=-1, independent=True)


# Distributions with core dimensions: the samplers take the batch shape (not the draw's).
_CORE_SAMPLERS = {
    rv.CategoricalRV: _categorical,
    rv.MultinomialRV: _multinomial,
    rv.MvNormalRV: _mvnormal,
    rv.DirichletRV: _dirichlet,
    rv.PermutationRV: _permutation,
}

_DOMAIN_TESTS = {
    "nonneg": lambda v: v >= 0,
    "positive": lambda v: v > 0,
    "prob": lambda v: (v >= 0) & (v <= 1),
    "open_prob": lambda v: (v > 0) & (v <= 1),
    "nonneg_int": lambda v: (v >= 0) & (v == jnp.floor(v)),
}


def _batch_shape(op, size, params):
    """The draw's batch shape, static: the size, or the parameters' broadcast batch shape."""
    if np.shape(size)[0]:
        values = static_value(size, op, "size")
        return tuple(int(s) for s in values)
    shapes = [tuple(p.shape[:p.ndim - nd]) for p, nd in zip(params, op.ndims_params)]
    try:
        return tuple(np.broadcast_shapes(*shapes)) if shapes else ()
    except ValueError:
        raise ValueError(f"{op.name}: the parameters' batch shapes {shapes} do not broadcast") from None


def _check_domains(op, params):
    for i, p in enumerate(params):
        label = op._param_label(i)
        kind = op.domains.get(label)
        if kind is not None and np.size(p):
            jax_check(jnp.all(_DOMAIN_TESTS[kind](p)), ValueError, f"{op.name}: {label} {_DOMAINS[kind][1]}")
    if isinstance(op, rv.TriangularRV):
        left, mode, right = params
        jax_check(jnp.all((left <= mode) & (mode <= right)), ValueError, "triangular: need left <= mode <= right")
    if isinstance(op, rv.IntegersRV):
        jax_check(jnp.all(params[0] < params[1]), ValueError, "integers: low must be < high")


register_checking_op(RandomVariable)


@jax_funcify.register(RandomVariable)
def jax_funcify_random_variable(op, node, **kwargs):
    cls = type(op)
    sampler = _SAMPLERS.get(cls)
    core_sampler = _CORE_SAMPLERS.get(cls)
    if sampler is None and core_sampler is None:
        raise NotImplementedError(f"the JAX backend has no sampler for the random variable {op.name} ({cls.__name__})")
    dtype = jnp.dtype(node.outputs[1].type.dtype)
    nb = node.outputs[1].type.ndim - op.ndim_supp

    def random_variable(rng, size, *params):
        key = as_key(rng)
        params = [jnp.asarray(p) for p in params]
        batch = _batch_shape(op, size, params)
        if len(batch) != nb:
            raise ValueError(f"{op.name}: size {batch} has {len(batch)} entries, the draw has {nb} batch dims")
        _check_domains(op, params)
        key, sub = jax.random.split(key)
        if core_sampler is not None:
            # Parameters broadcast over the batch, their core dims kept.
            b = [jnp.broadcast_to(p, batch + p.shape[p.ndim - nd:]) for p, nd in zip(params, op.ndims_params)]
            draw = core_sampler(sub, b, batch, dtype)
        else:
            b = [jnp.broadcast_to(p, batch) for p in params]
            if jnp.issubdtype(dtype, jnp.floating):
                b = [x.astype(dtype) for x in b]
            draw = sampler(sub, b, batch, dtype)
        return key, draw.astype(dtype)

    return random_variable

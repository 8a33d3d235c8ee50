"""The distributions: one ``RandomVariable`` subclass each, and the functions users call.

``normal(loc=0.0, scale=1.0, size=None, rng=None, dtype=None)`` and friends,
PyTensor's names, parameters and defaults.  Parameters broadcast like NumPy's
Generator methods.  Where the sampler is not the NumPy Generator method of the
same name (``rng_fn``), the docstring says what it is; the Numba backend uses
the same algorithm, so both modes draw the same stream (see
``backends/numba/random.py`` for the exceptions).
"""

from __future__ import annotations

import inspect

import numpy as np

from opgraph.kernel_core.tensor.random.op import RandomVariable

__all__ = []      # filled below: the distribution functions and op classes
DISTRIBUTIONS = {}


def _register(cls, defaults=(), name=None, doc=None):
    """Module-level op instance and the user function ``name(*params, size, rng, dtype)``."""
    op = cls()
    fname = name or op.name
    params = [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                default=dict(defaults).get(p, inspect.Parameter.empty))
              for p in op.param_names]
    extra = [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY if k != "size" else
                               inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None)
             for k in ("size", "rng", "dtype", "name")]
    sig = inspect.Signature(params + extra)

    def dist(*args, return_next_rng=False, **kwargs):
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{fname}{sig}: {exc}") from None
        bound.apply_defaults()
        a = bound.arguments
        return op(*[a[p] for p in op.param_names], size=a["size"], rng=a["rng"], dtype=a["dtype"],
                  name=a["name"], return_next_rng=return_next_rng)

    dist.__name__ = dist.__qualname__ = fname
    dist.__signature__ = sig
    dist.__doc__ = doc or f"A draw of {fname}{sig} (the ``{op}`` op). {cls.__doc__ or ''}"
    dist.op = op
    globals()[fname] = dist
    DISTRIBUTIONS[fname] = dist
    __all__.extend([fname, cls.__name__])
    return dist


def _shape(op, params, size):
    return op.batch_shape(params, size)


# -- continuous ----------------------------------------------------------------
class NormalRV(RandomVariable):
    """Normal(loc, scale)."""
    name, signature, param_names, domains = "normal", "(),()->()", ("loc", "scale"), {"scale": "nonneg"}


class UniformRV(RandomVariable):
    """Uniform on [low, high)."""
    name, signature, param_names = "uniform", "(),()->()", ("low", "high")


class ExponentialRV(RandomVariable):
    """Exponential with mean ``scale``."""
    name, signature, param_names, domains = "exponential", "()->()", ("scale",), {"scale": "nonneg"}


class GammaRV(RandomVariable):
    """Gamma(shape, scale) (``gamma(shape, rate=None, scale=None)`` picks the parametrisation)."""
    name, signature, param_names = "gamma", "(),()->()", ("shape", "scale")
    domains = {"shape": "nonneg", "scale": "nonneg"}


class BetaRV(RandomVariable):
    name, signature, param_names = "beta", "(),()->()", ("alpha", "beta")
    domains = {"alpha": "positive", "beta": "positive"}


class LogNormalRV(RandomVariable):
    name, signature, param_names, domains = "lognormal", "(),()->()", ("mean", "sigma"), {"sigma": "nonneg"}


class HalfNormalRV(RandomVariable):
    """``loc + scale * |standard_normal|`` (scipy's halfnorm with NumPy's Generator)."""
    name, signature, param_names, domains = "halfnormal", "(),()->()", ("loc", "scale"), {"scale": "nonneg"}

    def rng_fn(self, rng, loc, scale, size):
        return loc + scale * np.abs(rng.standard_normal(size=_shape(self, (loc, scale), size)))


class HalfCauchyRV(RandomVariable):
    """``loc + scale * |standard_cauchy|``."""
    name, signature, param_names, domains = "halfcauchy", "(),()->()", ("loc", "scale"), {"scale": "nonneg"}

    def rng_fn(self, rng, loc, scale, size):
        return loc + scale * np.abs(rng.standard_cauchy(size=_shape(self, (loc, scale), size)))


class CauchyRV(RandomVariable):
    """``loc + scale * standard_cauchy``."""
    name, signature, param_names, domains = "cauchy", "(),()->()", ("loc", "scale"), {"scale": "nonneg"}

    def rng_fn(self, rng, loc, scale, size):
        return loc + scale * rng.standard_cauchy(size=_shape(self, (loc, scale), size))


class LaplaceRV(RandomVariable):
    name, signature, param_names, domains = "laplace", "(),()->()", ("loc", "scale"), {"scale": "nonneg"}


class LogisticRV(RandomVariable):
    name, signature, param_names, domains = "logistic", "(),()->()", ("loc", "scale"), {"scale": "nonneg"}


class GumbelRV(RandomVariable):
    name, signature, param_names, domains = "gumbel", "(),()->()", ("loc", "scale"), {"scale": "nonneg"}


class StudentTRV(RandomVariable):
    """``loc + scale * standard_t(df)``."""
    name, signature, param_names = "t", "(),(),()->()", ("df", "loc", "scale")
    domains = {"df": "positive", "scale": "nonneg"}

    def rng_fn(self, rng, df, loc, scale, size):
        return loc + scale * rng.standard_t(df, size=_shape(self, (df, loc, scale), size))


class ChiSquareRV(RandomVariable):
    name, signature, param_names, domains = "chisquare", "()->()", ("df",), {"df": "positive"}


class WeibullRV(RandomVariable):
    name, signature, param_names, domains = "weibull", "()->()", ("alpha",), {"alpha": "nonneg"}


class VonMisesRV(RandomVariable):
    name, signature, param_names, domains = "vonmises", "(),()->()", ("mu", "kappa"), {"kappa": "nonneg"}


class ParetoRV(RandomVariable):
    """Pareto(b, scale) on [scale, inf): ``scale * (1 + NumPy's pareto(b))`` (scipy's pareto)."""
    name, signature, param_names = "pareto", "(),()->()", ("b", "scale")
    domains = {"b": "positive", "scale": "positive"}

    def rng_fn(self, rng, b, scale, size):
        return scale * (1.0 + rng.pareto(b, size=_shape(self, (b, scale), size)))


class WaldRV(RandomVariable):
    """Wald (inverse Gaussian) with ``mean`` and shape ``scale``."""
    name, signature, param_names = "wald", "(),()->()", ("mean", "scale")
    domains = {"mean": "positive", "scale": "positive"}


class TriangularRV(RandomVariable):
    name, signature, param_names = "triangular", "(),(),()->()", ("left", "mode", "right")

    def rng_fn(self, rng, left, mode, right, size):
        if np.any(np.asarray(left) > np.asarray(mode)) or np.any(np.asarray(mode) > np.asarray(right)):
            raise ValueError("triangular: need left <= mode <= right")
        return rng.triangular(left, mode, right, size=_shape(self, (left, mode, right), size))


class InvGammaRV(RandomVariable):
    """Inverse gamma(alpha, beta): ``beta / standard_gamma(alpha)`` (scipy's invgamma(alpha, scale=beta))."""
    name, signature, param_names = "invgamma", "(),()->()", ("alpha", "beta")
    domains = {"alpha": "positive", "beta": "positive"}

    def rng_fn(self, rng, alpha, beta, size):
        return beta / rng.standard_gamma(alpha, size=_shape(self, (alpha, beta), size))


class RayleighRV(RandomVariable):
    name, signature, param_names, domains = "rayleigh", "()->()", ("scale",), {"scale": "nonneg"}


# -- discrete --------------------------------------------------------------------
class IntegersRV(RandomVariable):
    """Integers in [low, high)."""
    name, signature, param_names, dtype = "integers", "(),()->()", ("low", "high"), "int64"

    def make_node(self, rng, size, low, high):
        from opgraph.kernel_core.tensor.random.op import _static_data

        node = RandomVariable.make_node(self, rng, size, low, high)
        lo, hi = _static_data(node.inputs[2]), _static_data(node.inputs[3])
        if lo is not None and hi is not None and np.any(np.broadcast_arrays(lo, hi)[0] >= hi):
            raise ValueError(f"integers: low must be < high, got low={lo.ravel()[0].item()!r}, high={hi.ravel()[0].item()!r}")
        return node

    def rng_fn(self, rng, low, high, size):
        shape = _shape(self, (low, high), size)
        if np.any(np.asarray(low) >= np.asarray(high)):
            raise ValueError("integers: low must be < high")
        return rng.integers(low, high, size=shape)


class BernoulliRV(RandomVariable):
    """``binomial(1, p)``."""
    name, signature, param_names, dtype, domains = "bernoulli", "()->()", ("p",), "int64", {"p": "prob"}

    def rng_fn(self, rng, p, size):
        return rng.binomial(1, p, size=_shape(self, (p,), size))


class BinomialRV(RandomVariable):
    name, signature, param_names, dtype = "binomial", "(),()->()", ("n", "p"), "int64"
    domains = {"n": "nonneg", "p": "prob"}
    integer_params = ("n",)


class PoissonRV(RandomVariable):
    name, signature, param_names, dtype, domains = "poisson", "()->()", ("lam",), "int64", {"lam": "nonneg"}


class NegativeBinomialRV(RandomVariable):
    name, signature, param_names, dtype = "negative_binomial", "(),()->()", ("n", "p"), "int64"
    domains = {"n": "positive", "p": "open_prob"}


class GeometricRV(RandomVariable):
    name, signature, param_names, dtype, domains = "geometric", "()->()", ("p",), "int64", {"p": "open_prob"}


class CategoricalRV(RandomVariable):
    """Index ``j`` with probability ``p[j]`` (p normalised): one uniform per draw, found
    in the cumulative sum of ``p`` (the same algorithm in every backend)."""
    name, signature, param_names, dtype, domains = "categorical", "(p)->()", ("p",), "int64", {"p": "prob"}

    def rng_fn(self, rng, p, size):
        shape = _shape(self, (p,), size)
        c = np.cumsum(p, axis=-1)
        u = rng.random(size=shape) * c[..., -1]
        idx = (c <= u[..., None]).sum(axis=-1)
        return np.minimum(idx, np.shape(p)[-1] - 1)


class MultinomialRV(RandomVariable):
    """Counts of ``n`` trials over the categories of ``p`` (NumPy's Generator.multinomial per batch entry)."""
    name, signature, param_names, dtype = "multinomial", "(),(p)->(p)", ("n", "p"), "int64"
    domains = {"n": "nonneg", "p": "prob"}
    integer_params = ("n",)

    def rng_fn(self, rng, n, p, size):
        shape = _shape(self, (n, p), size)
        k = np.shape(p)[-1]
        n_b = np.broadcast_to(n, shape)
        p_b = np.broadcast_to(p, shape + (k,))
        out = np.empty(shape + (k,), dtype="int64")
        for idx in np.ndindex(*shape):
            out[idx] = rng.multinomial(n_b[idx], p_b[idx])
        return out


class MvNormalRV(RandomVariable):
    """``mean + L z`` with ``L = cholesky(cov)`` and ``z`` standard normals (PyTensor's method="cholesky")."""
    name, signature, param_names = "multivariate_normal", "(n),(n,n)->(n)", ("mean", "cov")

    def rng_fn(self, rng, mean, cov, size):
        shape = _shape(self, (mean, cov), size)
        n = np.shape(mean)[-1]
        try:
            chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise ValueError("multivariate_normal: cov must be symmetric positive definite") from None
        z = rng.standard_normal(size=shape + (n,))
        return mean + np.einsum("...ij,...j->...i", chol, z)


class DirichletRV(RandomVariable):
    """NumPy's Generator.dirichlet per batch entry."""
    name, signature, param_names, domains = "dirichlet", "(a)->(a)", ("alphas",), {"alphas": "positive"}

    def rng_fn(self, rng, alphas, size):
        shape = _shape(self, (alphas,), size)
        k = np.shape(alphas)[-1]
        a_b = np.broadcast_to(alphas, shape + (k,))
        out = np.empty(shape + (k,))
        for idx in np.ndindex(*shape):
            out[idx] = rng.dirichlet(a_b[idx])
        return out


class PermutationRV(RandomVariable):
    """A random permutation of ``x`` along its last axis (NumPy's Generator.permutation per batch entry)."""
    name, signature, param_names = "permutation", "(x)->(x)", ("x",)

    def make_node(self, rng, size, x):
        from opgraph.kernel_core.tensor.basic import as_tensor_variable

        x = as_tensor_variable(x)
        op = self if x.type.dtype == self.dtype else self.clone(dtype=x.type.dtype)
        return RandomVariable.make_node(op, rng, size, x)

    def rng_fn(self, rng, x, size):
        shape = _shape(self, (x,), size)
        x_b = np.broadcast_to(x, shape + np.shape(x)[-1:])
        out = np.empty(x_b.shape, dtype=x_b.dtype)
        for idx in np.ndindex(*shape):
            out[idx] = rng.permutation(x_b[idx])
        return out


_register(NormalRV, {"loc": 0.0, "scale": 1.0})
_register(UniformRV, {"low": 0.0, "high": 1.0})
_register(ExponentialRV, {"scale": 1.0})
_gamma = _register(GammaRV)
_register(BetaRV)
_register(LogNormalRV, {"mean": 0.0, "sigma": 1.0})
_register(HalfNormalRV, {"loc": 0.0, "scale": 1.0})
_register(HalfCauchyRV, {"loc": 0.0, "scale": 1.0})
_register(CauchyRV, {"loc": 0.0, "scale": 1.0})
_register(LaplaceRV, {"loc": 0.0, "scale": 1.0})
_register(LogisticRV, {"loc": 0.0, "scale": 1.0})
_register(GumbelRV, {"loc": 0.0, "scale": 1.0})
_register(StudentTRV, {"loc": 0.0, "scale": 1.0})
_register(ChiSquareRV)
_register(WeibullRV)
_register(VonMisesRV)
_register(ParetoRV, {"scale": 1.0})
_register(WaldRV)
_register(TriangularRV)
_register(RayleighRV, {"scale": 1.0})
_register(InvGammaRV)
_integers = _register(IntegersRV, {"high": None})
_register(BernoulliRV)
_register(BinomialRV)
_register(PoissonRV, {"lam": 1.0})
_register(NegativeBinomialRV)
_register(GeometricRV)
_register(CategoricalRV)
_register(MultinomialRV)
_register(MvNormalRV)
_register(DirichletRV)
_permutation = _register(PermutationRV)


# -- the functions whose parameters are not the op's ------------------------------
def gamma(shape, rate=None, scale=None, size=None, rng=None, dtype=None, name=None, return_next_rng=False):
    """Gamma(shape, scale) draws; give ``rate`` or ``scale`` (not both), as PyTensor."""
    if rate is not None and scale is not None:
        raise ValueError("gamma: give rate or scale, not both")
    if rate is not None:
        from opgraph.kernel_core.tensor.basic import as_tensor_variable
        from opgraph.kernel_core.tensor.math import reciprocal

        rate = as_tensor_variable(rate)
        scale = reciprocal(rate if rate.type.dtype[0] == "f" else rate.astype("float64"))
    elif scale is None:
        scale = 1.0
    return _gamma.op(shape, scale, size=size, rng=rng, dtype=dtype, name=name, return_next_rng=return_next_rng)


def integers(low, high=None, size=None, rng=None, dtype=None, name=None, return_next_rng=False):
    """Integers in [low, high) (``integers(high)``: in [0, high)), NumPy's Generator.integers."""
    if high is None:
        low, high = 0, low
    return _integers.op(low, high, size=size, rng=rng, dtype=dtype, name=name, return_next_rng=return_next_rng)


def standard_normal(size=None, rng=None, dtype=None, name=None, return_next_rng=False):
    """``normal(0.0, 1.0, size)``."""
    return normal.op(0.0, 1.0, size=size, rng=rng, dtype=dtype, name=name, return_next_rng=return_next_rng)


def permutation(x, size=None, rng=None, dtype=None, name=None, return_next_rng=False):
    """A random permutation of ``x`` (an int n: of ``arange(n)``)."""
    from opgraph.kernel_core.tensor.basic import as_tensor_variable

    x = as_tensor_variable(x)
    if x.type.ndim == 0:
        from opgraph.kernel_core.tensor.construction import arange

        x = arange(x.astype("int64"))
    return _permutation.op(x, size=size, rng=rng, dtype=dtype, name=name, return_next_rng=return_next_rng)


def choice(a, size=None, replace=True, p=None, rng=None, dtype=None, name=None, return_next_rng=False):
    """Draws from ``a`` (an int n: from ``arange(n)``), NumPy's Generator.choice semantics.

    Built from other random variables, as PyTensor 3 does: with replacement
    ``a[integers(0, len(a))]`` or ``a[categorical(p)]``; without replacement the
    first ``prod(size)`` entries of a permutation, or with ``p`` the Gumbel-top-k
    trick (``argsort(-(log p + gumbel))``), which is sequential sampling without
    replacement in distribution (NumPy's stream differs).
    """
    from opgraph.kernel_core.tensor.basic import as_tensor_variable
    from opgraph.kernel_core.tensor.construction import arange
    from opgraph.kernel_core.tensor.extra_ops import argsort
    from opgraph.kernel_core.tensor.math import log, neg
    from opgraph.kernel_core.tensor.reduction import prod
    from opgraph.kernel_core.tensor.shape import reshape
    from opgraph.kernel_core.tensor.random.op import normalize_size, static_size

    if not isinstance(replace, (bool, np.bool_)):
        raise TypeError(f"choice: replace must be True or False, got {replace!r}")
    a = as_tensor_variable(a)
    if a.type.ndim == 0:
        if a.type.dtype[0] not in "iu":
            raise TypeError(f"choice: a must be an int or an array, got {a.type.short_str()}")
        pop = arange(a.astype("int64"))
    else:
        pop = a
    n = pop.shape[0]
    if replace:
        if p is None:
            next_rng, idx = _integers.op(0, n, size=size, rng=rng, return_next_rng=True)
        else:
            next_rng, idx = categorical.op(p, size=size, rng=rng, return_next_rng=True)
        draw = pop[idx]
    else:
        size_v = normalize_size(size, "choice")
        k_static = static_size(size_v)
        count = prod(size_v) if size_v.type.shape[0] else 1
        if p is None:
            next_rng, perm = _permutation.op(arange(n), rng=rng, return_next_rng=True)
            sel = perm[:count]
        else:
            p = as_tensor_variable(p)
            next_rng, g = gumbel.op(0.0, 1.0, size=(p.shape[0],), rng=rng, return_next_rng=True)
            sel = argsort(neg(log(p) + g))[:count]
        if size_v.type.shape[0]:
            draw = pop[reshape(sel, size_v, ndim=len(k_static))]
        else:
            draw = pop[sel[0]]
    if rng is None:
        # The generator made for the first draw: ``default_update`` was set there.
        pass
    if dtype is not None:
        draw = draw.astype(dtype)
    if name is not None:
        draw.name = name
    return (next_rng, draw) if return_next_rng else draw


nbinom = negative_binomial   # PyTensor's second name for it

for _f in (gamma, integers, standard_normal, permutation, choice, nbinom):
    DISTRIBUTIONS[_f.__name__] = _f
    if _f.__name__ not in __all__:
        __all__.append(_f.__name__)
DISTRIBUTIONS["nbinom"] = nbinom
__all__.append("nbinom")

"""Random variables in the Numba backend: every distribution inside the jitted graph function.

Numba passes ``np.random.Generator`` objects into njit code and its Generator
methods advance the Python object's own bit generator, so a draw in compiled
code is a draw of the caller's generator.  Each RV node becomes

    def random_normal_N(rng, size, loc, scale):
        g = rng                       # inplace node (d={0: [0]}); otherwise a copy,
                                      # made in objmode (numba cannot copy a Generator)
        <checks: parameter domains, size against the batch shapes>
        out = np.empty(batch + core)
        for each batch index (C order): out[idx] = <one scalar draw>
        return g, out

Draws are made one at a time in C order, which is how NumPy's Generator fills
its vectorized draws, so *where the scalar sampler is NumPy's own algorithm
the stream is NumPy's exactly*.  Numba 0.68 implements NumPy's samplers for
normal, uniform, exponential, gamma, beta, lognormal, laplace, logistic,
standard_t, chisquare, weibull, pareto, wald, triangular, rayleigh, integers, binomial, poisson,
negative_binomial, geometric, standard_normal, standard_cauchy and random; the rest are
written here from those:

* halfnormal, halfcauchy, cauchy, t, bernoulli: transforms of the above
  (the Python mode uses the same transforms) -- same stream;
* gumbel, vonmises, multinomial, dirichlet: NumPy's C algorithms written out
  with ``g.random()`` / ``g.binomial`` / ``g.standard_gamma`` / ``g.beta``
  -- same stream (tested); the tests also check them in distribution;
* permutation: NumPy's copy-then-Fisher-Yates with numba's ``random_interval`` on the
  Generator's bit generator -- same stream;
* categorical: one uniform per draw against the cumulative sum (the same
  algorithm in both modes) -- same stream;
* multivariate_normal: ``mean + cholesky(cov) @ z`` -- the same normals, the
  products may differ in the last bits (LAPACK/BLAS call order);
* wald: Numba's own sampler, the same draws as NumPy's to ~1e-14 relative (its
  compiled arithmetic rounds differently in the last bits inside large modules).

Nothing here imports numba: the generated module does (see dispatch.py).
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.backends.numba.dispatch import np_dtype, numba_funcify
from opgraph.kernel_core.tensor.random import basic as rv
from opgraph.kernel_core.tensor.random.op import RandomVariable, _DOMAINS

_HERE = "opgraph.kernel_core.backends.numba.random"

# One scalar draw: a template on the generator ``g`` and the parameters' elements a, b, c.
_SCALAR_DRAWS = {
    rv.NormalRV: "g.normal(float(a), float(b))",
    rv.UniformRV: "g.uniform(float(a), float(b))",
    rv.ExponentialRV: "g.exponential(float(a))",
    rv.GammaRV: "g.gamma(float(a), float(b))",
    rv.BetaRV: "g.beta(float(a), float(b))",
    rv.LogNormalRV: "g.lognormal(float(a), float(b))",
    rv.HalfNormalRV: "float(a) + float(b) * abs(g.standard_normal())",
    rv.HalfCauchyRV: "float(a) + float(b) * abs(g.standard_cauchy())",
    rv.CauchyRV: "float(a) + float(b) * g.standard_cauchy()",
    rv.LaplaceRV: "g.laplace(float(a), float(b))",
    rv.LogisticRV: "g.logistic(float(a), float(b))",
    rv.GumbelRV: "{gumbel}(g, float(a), float(b))",
    rv.StudentTRV: "float(b) + float(c) * g.standard_t(float(a))",
    rv.ChiSquareRV: "g.chisquare(float(a))",
    rv.WeibullRV: "g.weibull(float(a))",
    rv.VonMisesRV: "{vonmises}(g, float(a), float(b))",
    rv.ParetoRV: "float(b) * (1.0 + g.pareto(float(a)))",
    rv.WaldRV: "g.wald(float(a), float(b))",
    rv.TriangularRV: "g.triangular(float(a), float(b), float(c))",
    rv.RayleighRV: "g.rayleigh(float(a))",
    rv.InvGammaRV: "float(b) / g.standard_gamma(float(a))",
    rv.IntegersRV: "g.integers(np.int64(a), np.int64(b))",
    rv.BernoulliRV: "g.binomial(1, float(a))",
    rv.BinomialRV: "g.binomial(np.int64(a), float(b))",
    rv.PoissonRV: "g.poisson(float(a))",
    rv.NegativeBinomialRV: "g.negative_binomial(float(a), float(b))",
    rv.GeometricRV: "g.geometric(float(a))",
}

# Samplers of a draw with core dimensions: (g, core slices of the params..., out slice) -> None.
_CORE_SAMPLERS = {
    rv.CategoricalRV: ("categorical", """
def {name}(g, p, out):
    k = p.shape[0]
    total = 0.0
    for j in range(k):
        total += p[j]
    u = g.random() * total
    c = 0.0
    idx = 0
    for j in range(k):
        c += p[j]
        if c <= u:
            idx += 1
    out[()] = min(idx, k - 1)
"""),
    rv.MultinomialRV: ("multinomial", """
def {name}(g, n, p, out):
    # NumPy's random_multinomial: one binomial per category on what is left.
    d = p.shape[0]
    remaining_p = 1.0
    dn = np.int64(n)
    for j in range(d):
        out[j] = 0
    for j in range(d - 1):
        q = p[j] / remaining_p
        if q > 1.0:
            q = 1.0
        if q < 0.0:
            q = 0.0
        out[j] = g.binomial(dn, q)
        dn = dn - out[j]
        if dn <= 0:
            break
        remaining_p -= p[j]
    if dn > 0:
        out[d - 1] = dn
"""),
    rv.DirichletRV: ("dirichlet", """
def {name}(g, alpha, out):
    # NumPy's Generator.dirichlet: stick-breaking betas when every alpha < 0.1, else gammas.
    k = alpha.shape[0]
    amax = 0.0
    for j in range(k):
        if alpha[j] > amax:
            amax = alpha[j]
    if amax < 0.1:
        csum = np.empty(k)
        s = 0.0
        for j in range(k - 1, -1, -1):
            s += alpha[j]
            csum[j] = s
        acc = 1.0
        for j in range(k):
            out[j] = 0.0
        for j in range(k - 1):
            v = g.beta(alpha[j], csum[j + 1])
            out[j] = acc * v
            acc *= (1.0 - v)
            if csum[j + 1] == 0:
                break
        out[k - 1] = acc
    else:
        acc = 0.0
        for j in range(k):
            out[j] = g.standard_gamma(alpha[j])
            acc += out[j]
        inv = 1.0 / acc
        for j in range(k):
            out[j] = out[j] * inv
"""),
    rv.MvNormalRV: ("mvnormal", """
def {name}(g, mean, cov, out):
    n = mean.shape[0]
    if cov.shape[0] != n or cov.shape[1] != n:
        raise ValueError('multivariate_normal: mean and cov have different sizes')
    c = np.ascontiguousarray(cov).astype(np.float64)
    for i in range(n):
        for j in range(i):
            if c[i, j] != c[j, i]:
                raise ValueError('multivariate_normal: cov must be symmetric positive definite')
    chol = np.linalg.cholesky(c)
    z = np.empty(n)
    for i in range(n):
        z[i] = g.standard_normal()
    for i in range(n):
        acc = 0.0
        for j in range(i + 1):
            acc += chol[i, j] * z[j]
        out[i] = mean[i] + acc
"""),
    rv.PermutationRV: ("permutation", """
def {name}(g, x, out):
    # NumPy's Generator.permutation of a 1-d x: a copy, then Fisher-Yates from the end
    # with random_interval (its masked rejection draws) -- written out, not numba's
    # g.permutation, whose shuffle (swapaxes, ``...`` slice setitems and their
    # shape-formatting error paths) costs ~6 s CPU to compile cold (issue 18).
    n = x.shape[0]
    for t in range(n):
        out[t] = x[t]
    bits = g.bit_generator
    for i in range(n - 1, 0, -1):
        j = np.intp({interval}(bits, i))
        if j != i:
            tmp = out[j]
            out[j] = out[i]
            out[i] = tmp
"""),
}

_GUMBEL = """
def {name}(g, loc, scale):
    # NumPy's random_gumbel: U = 1 - next_double, U == 1 rejected.
    while True:
        u = 1.0 - g.random()
        if u < 1.0:
            return loc - scale * np.log(-np.log(u))
"""

_VONMISES = """
def {name}(g, mu, kappa):
    # NumPy's random_vonmises (Best & Fisher, with NumPy's small / large kappa paths).
    if np.isnan(kappa):
        return np.nan
    if kappa < 1e-8:
        return np.pi * (2.0 * g.random() - 1.0)
    if kappa < 1e-5:
        s = 1.0 / kappa + kappa
    elif kappa <= 1e6:
        r = 1.0 + np.sqrt(1.0 + 4.0 * kappa * kappa)
        rho = (r - np.sqrt(2.0 * r)) / (2.0 * kappa)
        s = (1.0 + rho * rho) / (2.0 * rho)
    else:
        result = mu + np.sqrt(1.0 / kappa) * g.standard_normal()
        if result < -np.pi:
            result += 2.0 * np.pi
        if result > np.pi:
            result -= 2.0 * np.pi
        return result
    while True:
        u = g.random()
        z = np.cos(np.pi * u)
        w = (1.0 + s * z) / (s + z)
        y = kappa * (s - w)
        v = g.random()
        if (y * (2.0 - y) - v >= 0.0) or (np.log(y / v) + 1.0 - y >= 0.0):
            break
    u = g.random()
    result = np.arccos(w)
    if u < 0.5:
        result = -result
    result += mu
    neg = result < 0.0
    mod = abs(result)
    mod = np.fmod(mod + np.pi, 2.0 * np.pi) - np.pi
    if neg:
        mod *= -1.0
    return mod
"""

# The run-time domain checks, as numba expressions on an element ``v`` (same
# wording as the Python mode's, without the value).
_DOMAIN_EXPR = {
    "nonneg": "v >= 0",
    "positive": "v > 0",
    "prob": "v >= 0 and v <= 1",
    "open_prob": "v > 0 and v <= 1",
    "nonneg_int": "v >= 0",
}


def __getattr__(name):
    # The numba type of a Generator, for the objmode copy; made on first use by a
    # generated module (which has imported numba by then), not when this module loads.
    if name == "generator_numba_type":
        import numba

        t = numba.typeof(np.random.default_rng(0))
        globals()[name] = t
        return t
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _idx(names):
    return "[" + ", ".join(names) + "]" if names else "[()]"


@numba_funcify.register(RandomVariable)
def _funcify_random_variable(op, node, ctx):
    rng, size, *params = node.inputs
    out = node.outputs[1]
    k = size.type.shape[0]
    nb = out.type.ndim - op.ndim_supp
    nps = len(params)
    pnames = [f"p{i}" for i in range(nps)]
    lines = ["def {name}(rng, size, " + ", ".join(pnames) + "):"]
    if op.inplace:
        lines.append("    g = rng")
    else:
        gen_t = ctx.import_name(_HERE, "generator_numba_type")
        copy = ctx.import_name("copy", "deepcopy")
        lines += [f"    with numba.objmode(g={gen_t}):",
                  f"        g = {copy}(rng)"]
    # Domains.
    for i, p in enumerate(params):
        label = op._param_label(i)
        kind = op.domains.get(label)
        if kind is None:
            continue
        msg = f"{op.name}: {label} {_DOMAINS[kind][1]}"
        lines += [f"    for v in np.asarray({pnames[i]}).ravel():",
                  f"        if not ({_DOMAIN_EXPR[kind]}):",
                  f"            raise ValueError({msg!r})"]
    if isinstance(op, rv.TriangularRV):
        lines += ["    if np.any(np.asarray(p0) > np.asarray(p1)) or np.any(np.asarray(p1) > np.asarray(p2)):",
                  "        raise ValueError('triangular: need left <= mode <= right')"]
    if isinstance(op, rv.IntegersRV):
        lines += ["    if np.any(np.asarray(p0) >= np.asarray(p1)):",
                  "        raise ValueError('integers: low must be < high')"]
    # Batch shape: the size, or the parameters' broadcast batch shape (NumPy's rules).
    batch_dims = []
    for d in range(nb):
        n = f"n{d}"
        batch_dims.append(n)
        if k:
            lines.append(f"    {n} = size[{d}]")
            for i in range(nps):
                lines += [f"    if {pnames[i]}.shape[{d}] != 1 and {pnames[i]}.shape[{d}] != {n}:",
                          f"        raise ValueError('{op.name}: size disagrees with the batch shape of "
                          f"{op._param_label(i)}')"]
        else:
            lines.append(f"    {n} = 1")
            for i in range(nps):
                lines += [f"    if {pnames[i]}.shape[{d}] != 1:",
                          f"        if {n} != 1 and {n} != {pnames[i]}.shape[{d}]:",
                          f"            raise ValueError('{op.name}: the parameters\\' batch shapes do not broadcast')",
                          f"        {n} = {pnames[i]}.shape[{d}]"]
    core = []
    for d in op.core_output:
        i, j = op._core_dim_source(d)
        core.append(f"{pnames[i]}.shape[{params[i].type.ndim - op.ndims_params[i] + j}]")
    out_shape = "(" + "".join(f"{s}, " for s in batch_dims + core) + ")"
    lines.append(f"    out = np.empty({out_shape}, dtype={np_dtype(out.type.dtype)})")
    # Parameters read at the batch index with a 0/1 factor per batch axis (0 where the
    # parameter has length 1: NumPy's broadcasting), not through ``np.broadcast_to``
    # views: those are about ten numba overloads to type and compile per parameter
    # rank and dtype, in every process (issue 18).
    for i in range(nps):
        lines.append(f"    b{i} = {pnames[i]}")
        lines += [f"    f{i}_{d} = 0 if {pnames[i]}.shape[{d}] == 1 else 1" for d in range(nb)]
    idx = [f"i{d}" for d in range(nb)]
    bidx = [[f"i{d} * f{i}_{d}" for d in range(nb)] for i in range(nps)]
    pad = "    "
    for d in range(nb):
        lines.append(f"{pad}for i{d} in range(n{d}):")
        pad += "    "
    sampler = _CORE_SAMPLERS.get(type(op))
    if isinstance(op, rv.CategoricalRV) and all(s == 1 for s in params[0].type.shape[:nb]):
        # One p for every draw (the common case): its cumulative sum once, then a binary
        # search per draw -- the same uniforms and the same answers as the general sampler.
        lines[-(nb + 1):-(nb + 1)] = [
            "    pk = np.ascontiguousarray(p0).reshape(-1)",
            "    cdf = np.cumsum(pk)",
            "    total = cdf[pk.shape[0] - 1]",
            "    kmax = pk.shape[0] - 1",
        ] if nb else []
        if nb:
            lines.append(f"{pad}out{_idx(idx)} = min(np.searchsorted(cdf, g.random() * total, side='right'), kmax)")
            sampler = None
            lines.append("    return g, out")
            return ctx.define("\n".join(lines) + "\n", prefix=f"random_{op.name}")
    if sampler is not None:
        source = sampler[1]
        if "{interval}" in source:
            # numba's own random_interval (NumPy's algorithm on the Generator's bit generator).
            source = source.replace("{interval}", ctx.import_name("numba.np.random.random_methods",
                                                                  "random_interval"))
        fn = ctx.define(source, prefix=f"rv_{sampler[0]}")

        def sl(i, ncore):
            return f"b{i}" + ("[" + ", ".join(bidx[i] + [":"] * ncore) + "]" if idx or ncore else "")

        args = [sl(i, op.ndims_params[i]) if op.ndims_params[i] else f"b{i}{_idx(bidx[i])}"
                for i in range(nps)]
        target = f"out[{', '.join(idx + [':'] * op.ndim_supp)}]" if op.ndim_supp and idx else \
            ("out" if op.ndim_supp else (f"out{_idx(idx)}" if idx else "out"))
        if not op.ndim_supp and idx:
            # A 0-d slot to write into: a view of the element.
            target = f"out[{', '.join(idx[:-1] + [idx[-1] + ':' + idx[-1] + ' + 1'])}].reshape(())"
        lines.append(f"{pad}{fn}(g, {', '.join(args)}, {target})")
    else:
        template = _SCALAR_DRAWS.get(type(op))
        if template is None:
            raise NotImplementedError(f"the Numba backend has no sampler for {op}")
        helpers = {}
        if "{gumbel}" in template:
            helpers["gumbel"] = ctx.define(_GUMBEL, prefix="rv_gumbel")
        if "{vonmises}" in template:
            helpers["vonmises"] = ctx.define(_VONMISES, prefix="rv_vonmises")
        expr = template.format(**helpers)
        for i, letter in enumerate("abc"[:nps]):
            lines.append(f"{pad}{letter} = b{i}{_idx(bidx[i])}")
        lines.append(f"{pad}out{_idx(idx)} = {expr}")
    lines.append("    return g, out")
    return ctx.define("\n".join(lines) + "\n", prefix=f"random_{op.name}")

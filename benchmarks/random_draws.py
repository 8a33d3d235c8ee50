"""Random draws: 10^6 normals, 10^6 categorical draws (10 categories), and the fused graph
``exp(normal(mu, sigma, size=n)).sum()`` at n = 10^6.

opgraph NUMBA (a shared generator advanced in place at each call: the default update)
against NumPy's Generator (``normal``, ``choice(10, p=p)``, ``np.exp(normal(...)).sum()``),
and PyTensor (same graph, ``pytensor.tensor.random``) and JAX (``jax.random`` with a key
split per call) when installed.  The draws are checked for shape and plausibility before
timing (draws differ between libraries, so not value by value).
"""

import numpy as np

from common import OPGRAPH, jax_module, pytensor_modes, report, timeit

N = 1_000_000
P10 = np.arange(1, 11) / 55.0


def _check(value, kind):
    value = np.asarray(value)
    if kind == "normal":
        assert value.shape == (N,) and abs(value.mean()) < 0.01 and abs(value.std() - 1) < 0.01
    elif kind == "categorical":
        assert value.shape == (N,) and value.min() >= 0 and value.max() <= 9
        assert abs(value.mean() - np.dot(np.arange(10), P10)) < 0.02
    else:
        want = N * np.exp(0.5 + 0.5 * 0.3 ** 2)   # E[exp(X)] of X ~ normal(0.5, 0.3)
        assert abs(float(value) / want - 1) < 0.01


def _graphs(pt):
    mu, sigma = pt.dscalar("mu"), pt.dscalar("sigma")
    return {
        "normal": ([], pt.random.normal(0.0, 1.0, size=(N,))),
        "categorical": ([], pt.random.categorical(P10, size=(N,))),
        "fused": ([mu, sigma], pt.exp(pt.random.normal(mu, sigma, size=(N,))).sum()),
    }


def main():
    import opgraph
    import opgraph.tensor as opt

    g = np.random.default_rng(0)
    numpy_fns = {
        "normal": lambda: g.normal(0.0, 1.0, size=N),
        "categorical": lambda: g.choice(10, size=N, p=P10),
        "fused": lambda: np.exp(g.normal(0.5, 0.3, size=N)).sum(),
    }
    args = {"normal": (), "categorical": (), "fused": (np.array(0.5), np.array(0.3))}
    impls = {kind: [("numpy", fn)] for kind, fn in numpy_fns.items()}
    for kind, (ins, out) in _graphs(opt).items():
        f = opgraph.function(ins, out, mode="NUMBA", trust_input=True)
        impls[kind].append((OPGRAPH, lambda f=f, a=args[kind]: f(*a)))
    modes = pytensor_modes()
    if modes:
        import pytensor
        import pytensor.tensor as ppt

        for label, mode in modes:
            for kind, (ins, out) in _graphs(ppt).items():
                f = pytensor.function(ins, out, mode=mode, trust_input=True)
                impls[kind].append((label, lambda f=f, a=args[kind]: f(*a)))
    jx = jax_module()
    if jx:
        jax, jnp = jx
        state = {"key": jax.random.PRNGKey(0)}
        logits = jnp.log(jnp.asarray(P10))

        def keyed(fn):
            def call(*a):
                state["key"], sub = jax.random.split(state["key"])
                return fn(sub, *a).block_until_ready()
            return call

        impls["normal"].append(("jax", keyed(jax.jit(lambda k: jax.random.normal(k, (N,))))))
        impls["categorical"].append(("jax", keyed(jax.jit(lambda k: jax.random.categorical(k, logits, shape=(N,))))))
        fused = jax.jit(lambda k, m, s: jnp.exp(m + s * jax.random.normal(k, (N,))).sum())
        impls["fused"].append(("jax", lambda: keyed(fused)(0.5, 0.3)))
    records = []
    titles = {"normal": "random normal n=1e+06", "categorical": "random categorical(10) n=1e+06",
              "fused": "random exp(normal).sum() n=1e+06"}
    for kind, rows in impls.items():
        timed = []
        for label, fn in rows:
            _check(fn(), kind)
            timed.append((label, timeit(fn)))
        records += report(titles[kind], timed)
    return records


if __name__ == "__main__":
    main()

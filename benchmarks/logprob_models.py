"""Logp + gradient of three models derived by opgraph.logprob, against hand-written JAX (and PyMC
when installed): (a) eight schools (hierarchical, tau on the log scale), (b) a 2-component
Gaussian mixture on 10^4 points with the indicators marginalized, (c) an HMM with 3 states
and 1,000 steps marginalized by the forward algorithm (one scan).

"compile" is ``function(...)`` plus the first call, in this process, with an empty opgraph
cache directory (cold: nothing from the disk cache) and JAX's first ``jit`` call; "per call"
is the best batch over rounds of alternating batches (opgraph, JAX, opgraph, ...:
``interleaved``), and the median of the rounds' JAX / opgraph ratios is printed: the load of a
shared machine changes both alike.  PyMC's ``compile_logp`` / ``compile_dlogp`` rows appear when
pymc (and pymc-extras, for the marginalized models) is installed; otherwise the output says so.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

import numpy as np

from common import OPGRAPH, available, check_same, jax_module, report

Y8 = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
S8 = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
N_MIX = 10_000
T_HMM = 1000


def _data():
    rng = np.random.default_rng(1)
    z = rng.random(N_MIX) < 0.7
    y_mix = np.where(z, rng.normal(2.0, 0.8, N_MIX), rng.normal(-1.5, 1.2, N_MIX))
    P = np.array([[0.9, 0.07, 0.03], [0.05, 0.9, 0.05], [0.02, 0.08, 0.9]])
    states = [0]
    for _ in range(T_HMM - 1):
        states.append(rng.choice(3, p=P[states[-1]]))
    y_hmm = np.array([-2.0, 0.0, 2.5])[states] + rng.normal(0.0, 0.7, T_HMM)
    return y_mix, y_hmm


# -- opgraph models ------------------------------------------------------------------------------
def opgraph_eight_schools():
    import opgraph.tensor as pt
    from opgraph.gradient import grad
    from opgraph.logprob import joint_logp

    mu = pt.random.normal(0.0, 5.0, name="mu")
    tau = pt.random.halfcauchy(0.0, 5.0, name="tau")
    theta = pt.random.normal(mu, tau, size=(8,), name="theta")
    y = pt.random.normal(theta, S8, name="y")
    mu_v, log_tau_v, theta_v = pt.scalar("mu_v"), pt.scalar("log_tau_v"), pt.vector("theta_v")
    lp = joint_logp({mu: mu_v, tau: pt.exp(log_tau_v), theta: theta_v, y: pt.constant(Y8)}) + log_tau_v
    inputs = [mu_v, log_tau_v, theta_v]
    return inputs, [lp, *grad(lp, inputs)]


def opgraph_mixture(y_obs):
    import opgraph.tensor as pt
    from opgraph.gradient import grad
    from opgraph.logprob import marginalize

    w_logit, mus, log_sigmas = pt.scalar("w_logit"), pt.vector("mus", shape=(2,)), pt.vector("log_sigmas", shape=(2,))
    w = pt.sigmoid(w_logit)
    z = pt.random.categorical(pt.stack([1.0 - w, w]), size=(N_MIX,), name="z")
    y = pt.random.normal(mus[z], pt.exp(log_sigmas)[z], name="y")
    lp = marginalize({z: pt.lvector("z_v"), y: pt.constant(y_obs)}, [z])
    inputs = [w_logit, mus, log_sigmas]
    return inputs, [lp, *grad(lp, inputs)]


def opgraph_hmm(y_obs):
    import opgraph.tensor as pt
    from opgraph.gradient import grad
    from opgraph.logprob import DiscreteMarkovChain, marginalize

    logits, mus = pt.matrix("logits", shape=(3, 3)), pt.vector("mus", shape=(3,))
    P = pt.special.softmax(logits, axis=1)
    chain = DiscreteMarkovChain(P, steps=T_HMM - 1, init_probs=np.full(3, 1.0 / 3.0), name="chain")
    y = pt.random.normal(mus[chain], 0.7, name="y")
    lp = marginalize({chain: pt.lvector("chain_v"), y: pt.constant(y_obs)}, [chain])
    inputs = [logits, mus]
    return inputs, [lp, *grad(lp, inputs)]


# -- hand-written JAX ---------------------------------------------------------------------------------
def jax_models(jax, jnp, y_mix, y_hmm):
    from jax.scipy.special import logsumexp
    from jax.scipy.stats import cauchy, norm

    def eight(mu, log_tau, theta):
        tau = jnp.exp(log_tau)
        return (norm.logpdf(mu, 0.0, 5.0) + jnp.log(2.0) + cauchy.logpdf(tau, 0.0, 5.0) + log_tau
                + norm.logpdf(theta, mu, tau).sum() + norm.logpdf(Y8, theta, S8).sum())

    def mixture(w_logit, mus, log_sigmas):
        w = jax.nn.sigmoid(w_logit)
        comp = jnp.log(jnp.stack([1.0 - w, w]))[:, None] + norm.logpdf(y_mix[None, :], mus[:, None],
                                                                        jnp.exp(log_sigmas)[:, None])
        return logsumexp(comp, axis=0).sum()

    def hmm(logits, mus):
        log_P = jax.nn.log_softmax(logits, axis=1)
        emissions = norm.logpdf(y_hmm[:, None], mus[None, :], 0.7)
        alpha0 = jnp.log(1.0 / 3.0) + emissions[0]

        def step(alpha, e_t):
            return logsumexp(alpha[:, None] + log_P, axis=0) + e_t, None

        alpha, _ = jax.lax.scan(step, alpha0, emissions[1:])
        return logsumexp(alpha)

    def with_grad(fn, n):
        vg = jax.value_and_grad(fn, argnums=tuple(range(n)))
        return jax.jit(lambda *a: (lambda v, g: (v, *g))(*vg(*a)))

    return {"eight schools": with_grad(eight, 3), "mixture": with_grad(mixture, 3), "hmm": with_grad(hmm, 2)}


def interleaved(fns, rounds=11, min_time=0.05):
    """Best per-call seconds of each of ``fns`` ({label: fn}) over rounds of alternating
    batches (one batch of each per round), so a change in the machine's load hits every
    implementation alike; also the median over rounds of each one's ratio to the first."""
    labels = list(fns)
    sizes = {}
    for label, fn in fns.items():
        fn()
        n, t = 1, 0.0
        while t < min_time and n < 1e6:
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            t = time.perf_counter() - t0
            n *= 2
        sizes[label] = max(1, n // 2)
    per = {label: [] for label in labels}
    for _ in range(rounds):
        for label in labels:
            fn, n = fns[label], sizes[label]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            per[label].append((time.perf_counter() - t0) / n)
    first = per[labels[0]]
    best = {label: min(v) for label, v in per.items()}
    ratios = {label: statistics.median([b / a for a, b in zip(first, v)]) for label, v in per.items()}
    return best, ratios


def _timed_compile(make):
    t0 = time.perf_counter()
    fn, first = make()
    return fn, first, time.perf_counter() - t0


def main():
    import opgraph

    y_mix, y_hmm = _data()
    points = {
        "eight schools": [np.array(1.0), np.array(1.2), np.linspace(-2.0, 9.0, 8)],
        "mixture": [np.array(0.4), np.array([-1.0, 1.5]), np.array([0.1, -0.2])],
        "hmm": [np.eye(3) * 2.0 + 0.1, np.array([-1.5, 0.2, 2.0])],
    }
    builders = {"eight schools": opgraph_eight_schools, "mixture": lambda: opgraph_mixture(y_mix),
                "hmm": lambda: opgraph_hmm(y_hmm)}
    jx = jax_module()
    jfns = jax_models(jx[0], jx[1], y_mix, y_hmm) if jx else {}
    if not available("pymc"):
        print("pymc is not installed: the PyMC compile_logp/compile_dlogp rows are skipped")
    lines = []
    old_cache = os.environ.get("OPGRAPH_CACHE_DIR")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["OPGRAPH_CACHE_DIR"] = cache     # cold compile: nothing from earlier runs
        try:
            for name, build in builders.items():
                args = points[name]

                def make_opgraph():
                    inputs, outputs = build()
                    f = opgraph.function(inputs, outputs, mode="NUMBA", trust_input=True)
                    return f, f(*args)

                f, ours, compile_sec = _timed_compile(make_opgraph)
                rows_compile = [(OPGRAPH, compile_sec)]
                calls = {OPGRAPH: lambda: f(*args)}
                if name in jfns:
                    jf = jfns[name]

                    def make_jax():
                        out = jf(*args)
                        jx[0].block_until_ready(out)
                        return jf, out

                    _, theirs, jcompile = _timed_compile(make_jax)
                    check_same([np.asarray(o) for o in theirs], ours, rtol=1e-8)
                    rows_compile.append(("jax", jcompile))
                    calls["jax"] = lambda: jx[0].block_until_ready(jf(*args))
                best, ratios = interleaved(calls)
                rows_call = [(label, sec) for label, sec in best.items()]
                if "jax" in ratios:
                    print(f"  {name}: jax / opgraph per call, median of the rounds' ratios: {ratios['jax']:.2f}")
                lines += report(f"logprob {name}: compile", rows_compile, baseline=None)
                lines += report(f"logprob {name}: logp+grad per call", rows_call, baseline=None)
        finally:
            if old_cache is None:
                os.environ.pop("OPGRAPH_CACHE_DIR", None)
            else:
                os.environ["OPGRAPH_CACHE_DIR"] = old_cache
    return lines


if __name__ == "__main__":
    main()

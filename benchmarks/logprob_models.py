"""Logp + gradient of three models derived by opgraph.logprob, against hand-written JAX (and PyMC
when installed): (a) eight schools (hierarchical, tau on the log scale), (b) a 2-component
Gaussian mixture on 10^4 points with the indicators marginalized, (c) an HMM with 3 states
and 1,000 steps marginalized by the forward algorithm (one scan).

"compile" is ``function(...)`` plus the first call, in this process, with an empty opgraph
cache directory (cold: nothing from the disk cache) and JAX's first ``jit`` call; "per call"
is the best batch over rounds of alternating batches (opgraph, JAX, opgraph, ...:
``interleaved``), and the median of the rounds' JAX / opgraph ratios is printed: the load of a
shared machine changes both alike.  Each model is timed twice: logp alone and logp + gradient.

PyMC rows appear when pymc and pymc-extras are installed (otherwise the output says so): the
same models written with PyMC (``pm.Flat`` priors where opgraph's inputs have none, tau's
default log transform), the mixture's indicators and the HMM's ``DiscreteMarkovChain``
marginalized by ``pymc_extras.marginalize``; the graphs ``compile_logp`` / ``compile_dlogp``
compile (``model.logp()``, ``model.dlogp()``), compiled by ``model.compile_fn(...,
point_fn=False)`` (positional arrays like the other rows, ``trust_input``) with PyMC's default
mode (PyTensor's C backend, "cvm") and, as ``compile_kwargs``, ``mode="NUMBA"`` and
``mode="JAX"``.  Run as a script, PyTensor compiles into an empty ``compiledir`` (cold, as
opgraph's cache).  Every row's values are checked against opgraph's (logp and gradient, 1e-8
relative) at the same point before anything is timed.

``--only hmm`` (or ``eight_schools``, ``mixture``, comma-separated) runs some models; the models
run in this process in the order above, so a model's compile shares numba's in-process work
(NumPy overloads typed once per process) with the models before it: compare rows of runs
with the same selection.  ``--compile-only`` skips the per-call rounds.  ``--cpu`` adds the
process CPU time of each compile (all threads) next to its wall time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
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
    from opgraph.logprob import joint_logp

    mu = pt.random.normal(0.0, 5.0, name="mu")
    tau = pt.random.halfcauchy(0.0, 5.0, name="tau")
    theta = pt.random.normal(mu, tau, size=(8,), name="theta")
    y = pt.random.normal(theta, S8, name="y")
    mu_v, log_tau_v, theta_v = pt.scalar("mu_v"), pt.scalar("log_tau_v"), pt.vector("theta_v")
    lp = joint_logp({mu: mu_v, tau: pt.exp(log_tau_v), theta: theta_v, y: pt.constant(Y8)}) + log_tau_v
    inputs = [mu_v, log_tau_v, theta_v]
    return inputs, lp


def opgraph_mixture(y_obs):
    import opgraph.tensor as pt
    from opgraph.logprob import marginalize

    w_logit, mus, log_sigmas = pt.scalar("w_logit"), pt.vector("mus", shape=(2,)), pt.vector("log_sigmas", shape=(2,))
    w = pt.sigmoid(w_logit)
    z = pt.random.categorical(pt.stack([1.0 - w, w]), size=(N_MIX,), name="z")
    y = pt.random.normal(mus[z], pt.exp(log_sigmas)[z], name="y")
    lp = marginalize({z: pt.lvector("z_v"), y: pt.constant(y_obs)}, [z])
    inputs = [w_logit, mus, log_sigmas]
    return inputs, lp


def opgraph_hmm(y_obs):
    import opgraph.tensor as pt
    from opgraph.logprob import DiscreteMarkovChain, marginalize

    logits, mus = pt.matrix("logits", shape=(3, 3)), pt.vector("mus", shape=(3,))
    P = pt.special.softmax(logits, axis=1)
    chain = DiscreteMarkovChain(P, steps=T_HMM - 1, init_probs=np.full(3, 1.0 / 3.0), name="chain")
    y = pt.random.normal(mus[chain], 0.7, name="y")
    lp = marginalize({chain: pt.lvector("chain_v"), y: pt.constant(y_obs)}, [chain])
    inputs = [logits, mus]
    return inputs, lp


# -- PyMC + pymc-extras ---------------------------------------------------------------------------
# The value variables in the order of the opgraph inputs.
PYMC_VALUES = {"eight schools": ["mu", "tau_log__", "theta"], "mixture": ["w_logit", "mus", "log_sigmas"],
               "hmm": ["logits", "mus"]}
PYMC_MODES = (("pymc C (default)", None), ("pymc NUMBA", "NUMBA"), ("pymc JAX", "JAX"))


def pymc_models(y_mix, y_hmm):
    """{name: model}: the three models in PyMC; the mixture's and the HMM's discrete variables
    marginalized by pymc-extras (``marginalize`` returns a new model)."""
    import pymc as pm
    import pymc_extras as pmx
    import pytensor.tensor as ptt

    with pm.Model() as eight:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta = pm.Normal("theta", mu, tau, shape=8)
        pm.Normal("y", theta, S8, observed=Y8)
    with pm.Model() as mixture:
        w_logit, mus = pm.Flat("w_logit"), pm.Flat("mus", shape=2)
        log_sigmas = pm.Flat("log_sigmas", shape=2)
        w = pm.math.sigmoid(w_logit)
        z = pm.Categorical("z", p=ptt.stack([1.0 - w, w]), shape=N_MIX)
        pm.Normal("y", mus[z], ptt.exp(log_sigmas)[z], observed=y_mix)
    with pm.Model() as hmm:
        logits, mus = pm.Flat("logits", shape=(3, 3)), pm.Flat("mus", shape=3)
        P = ptt.special.softmax(logits, axis=1)
        chain = pmx.DiscreteMarkovChain("chain", P=P, init_dist=pm.Categorical.dist(p=np.full(3, 1.0 / 3.0)),
                                        steps=T_HMM - 1)
        pm.Normal("y", mus[chain], 0.7, observed=y_hmm)
    return {"eight schools": eight, "mixture": pmx.marginalize(mixture, [z]), "hmm": pmx.marginalize(hmm, [chain])}


def pymc_function(model, name, mode, with_grad):
    """``model.compile_fn`` of logp (and dlogp: one flat vector, compile_dlogp's output) with
    positional value-variable inputs in opgraph's order."""
    by_name = {v.name: v for v in model.value_vars}
    inputs = [by_name[n] for n in PYMC_VALUES[name]]
    outs = [model.logp(), model.dlogp([model.values_to_rvs[v] for v in inputs])] if with_grad else model.logp()
    f = model.compile_fn(outs, inputs=inputs, point_fn=False, mode=mode)
    f.trust_input = True
    return f


def _disagreement(theirs, expected, rtol=1e-8, atol=1e-10):
    """None when PyMC's outputs match opgraph's, else a few words saying how they differ."""
    for which, a, b in zip(("logp", "gradient"), theirs, expected):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        if np.isnan(a).any() and not np.isnan(b).any():
            return f"{which} NaN"
        if a.shape != b.shape or not np.allclose(a, b, rtol=rtol, atol=atol):
            return f"{which} off"
    return None


def _flat_grad(outputs):
    """opgraph's [logp, *grads] as PyMC's (logp, dlogp): the gradients raveled and joined."""
    return [outputs[0], np.concatenate([np.ravel(g) for g in outputs[1:]])]


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

    fns = {"eight schools": (eight, 3), "mixture": (mixture, 3), "hmm": (hmm, 2)}
    return {(name, grad): (with_grad(fn, n) if grad else jax.jit(fn))
            for name, (fn, n) in fns.items() for grad in (False, True)}


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


CPU_TIMES = []   # (label, CPU seconds) of each compile, with --cpu


def _timed_compile(make, label=None):
    t0, c0 = time.perf_counter(), time.process_time()
    fn, first = make()
    if label is not None:
        CPU_TIMES.append((label, time.process_time() - c0))
    return fn, first, time.perf_counter() - t0


def _opgraph_outputs(build, with_grad):
    from opgraph.gradient import grad

    inputs, lp = build()
    return inputs, ([lp, *grad(lp, inputs)] if with_grad else [lp])


def _cold_pytensor_compiledir():
    """An empty PyTensor compiledir (cold compiles, as opgraph's empty cache) when pytensor is
    not imported yet; None when it is (its compiles may then come from its cache)."""
    if "pytensor" in sys.modules:
        return None
    tmp = tempfile.TemporaryDirectory()
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    os.environ["PYTENSOR_FLAGS"] = ",".join(filter(None, [flags, f"compiledir={tmp.name}"]))
    return tmp


MODEL_NAMES = {"eight_schools": "eight schools", "mixture": "mixture", "hmm": "hmm"}


def main(argv=()):
    import opgraph

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(MODEL_NAMES),
                        help="comma-separated models to run: " + ", ".join(MODEL_NAMES))
    parser.add_argument("--compile-only", action="store_true", help="skip the per-call rounds")
    parser.add_argument("--cpu", action="store_true", help="print each compile's process CPU time too")
    opts = parser.parse_args(argv)
    unknown = [m for m in opts.only.split(",") if m not in MODEL_NAMES]
    if unknown:
        parser.error(f"--only: unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODEL_NAMES)}")
    selected = [MODEL_NAMES[m] for m in opts.only.split(",")]
    y_mix, y_hmm = _data()
    points = {
        "eight schools": [np.array(1.0), np.array(1.2), np.linspace(-2.0, 9.0, 8)],
        "mixture": [np.array(0.4), np.array([-1.0, 1.5]), np.array([0.1, -0.2])],
        "hmm": [np.eye(3) * 2.0 + 0.1, np.array([-1.5, 0.2, 2.0])],
    }
    builders = {"eight schools": opgraph_eight_schools, "mixture": lambda: opgraph_mixture(y_mix),
                "hmm": lambda: opgraph_hmm(y_hmm)}
    builders = {name: b for name, b in builders.items() if name in selected}
    jx = jax_module()
    jfns = jax_models(jx[0], jx[1], y_mix, y_hmm) if jx else {}
    pmodels, pytensor_dir = {}, None
    if available("pymc") and available("pymc_extras"):
        pytensor_dir = _cold_pytensor_compiledir()
        if pytensor_dir is None:
            print("pytensor was imported before this benchmark: PyMC's compile times may be warm (its cache)")
        import pymc
        import pymc_extras
        import pytensor

        print(f"PyMC {pymc.__version__}, pymc-extras {pymc_extras.__version__}, PyTensor {pytensor.__version__}")
        pmodels = pymc_models(y_mix, y_hmm)
    else:
        print("pymc / pymc-extras are not installed: the PyMC compile_logp/compile_dlogp rows are skipped")
    lines = []
    old_cache = os.environ.get("OPGRAPH_CACHE_DIR")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["OPGRAPH_CACHE_DIR"] = cache     # cold compile: nothing from earlier runs
        try:
            for name, build in builders.items():
                args = points[name]
                for with_grad in (False, True):
                    lines += _one_workload(opgraph, name, build, args, with_grad, jx, jfns, pmodels,
                                           opts.compile_only, opts.cpu)
        finally:
            if old_cache is None:
                os.environ.pop("OPGRAPH_CACHE_DIR", None)
            else:
                os.environ["OPGRAPH_CACHE_DIR"] = old_cache
            if pytensor_dir is not None:
                pytensor_dir.cleanup()
    return lines


def _one_workload(opgraph, name, build, args, with_grad, jx, jfns, pmodels, compile_only=False, cpu=False):
    what = "logp+grad" if with_grad else "logp"
    CPU_TIMES.clear()

    def make_opgraph():
        inputs, outputs = _opgraph_outputs(build, with_grad)
        f = opgraph.function(inputs, outputs, mode="NUMBA", trust_input=True)
        return f, f(*args)

    f, ours, compile_sec = _timed_compile(make_opgraph, OPGRAPH)
    rows_compile = [(OPGRAPH, compile_sec)]
    calls = {OPGRAPH: lambda: f(*args)}
    if (name, with_grad) in jfns:
        jf = jfns[(name, with_grad)]

        def make_jax():
            out = jf(*args)
            jx[0].block_until_ready(out)
            return jf, out

        _, theirs, jcompile = _timed_compile(make_jax, "jax")
        theirs = list(theirs) if with_grad else [theirs]
        check_same([np.asarray(o) for o in theirs], ours, rtol=1e-8)
        rows_compile.append(("jax", jcompile))
        calls["jax"] = lambda: jx[0].block_until_ready(jf(*args))
    if name in pmodels:
        expected = _flat_grad(ours) if with_grad else ours
        for label, mode in PYMC_MODES:
            def make_pymc():
                pf = pymc_function(pmodels[name], name, mode, with_grad)
                return pf, pf(*args)

            try:
                pf, theirs, pcompile = _timed_compile(make_pymc, label)
            except Exception as exc:   # a third-party backend's failure is a result to report
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                print(f"  {label} {name} {what}: fails to compile or run: {type(exc).__name__}: {first[:160]}")
                continue
            theirs = list(theirs) if with_grad else [theirs]
            problem = _disagreement(theirs, expected)
            if problem:
                print(f"  {label} {name} {what}: values differ from opgraph's ({problem}); timed anyway")
                label = f"{label} [{problem}]"
            rows_compile.append((label, pcompile))
            if mode == "JAX" and jx:   # wait for the device, as the jax row does
                calls[label] = (lambda pf: lambda: jx[0].block_until_ready(pf(*args)))(pf)
            else:
                calls[label] = (lambda pf: lambda: pf(*args))(pf)
    lines = report(f"logprob {name} {what}: compile", rows_compile, baseline=None)
    if cpu:
        print(f"  {name} {what}: compile CPU time: " + ", ".join(f"{label} {sec:.2f} s" for label, sec in CPU_TIMES))
    if compile_only:
        return lines
    best, ratios = interleaved(calls)
    rows_call = list(best.items())
    print(f"  {name} {what}: per call, median of the rounds' ratios to opgraph: "
          + ", ".join(f"{label} {r:.2f}" for label, r in ratios.items() if label != OPGRAPH))
    return lines + report(f"logprob {name} {what}: per call", rows_call, baseline=None)


if __name__ == "__main__":
    main(sys.argv[1:])

"""W5: compile latency of a hierarchical-model logp+grad: cold, from the disk cache in a new process, per call.

Each implementation runs twice in fresh processes sharing one new temporary cache directory: the
first run is the cold compile, the second compiles from the disk cache. "Compile" is the time from
the built graph to the first result: ``function(...)`` plus the first call, since PyTensor's NUMBA
mode and ``jax.jit`` compile lazily at the first call (opgraph compiles in ``function``).
Imports and graph construction are not counted.

"opgraph NUMBA" compiles before ``function()`` returns (``tiered_compile=off``);
"opgraph NUMBA tiered" is the default (compile/tiered.py): its first result comes
from the generated-Python tier, and the run reports when the Numba tier takes over
(a loop calling the function all the while) and the per-call time on each tier.

opgraph's modules are byte-compiled first, as installing a package does: this
machine sets PYTHONDONTWRITEBYTECODE=1, under which an editable install would
otherwise recompile opgraph's sources in every new process (PyTensor and JAX
come from site-packages, byte-compiled by pip).
"""

import compileall
import os
import tempfile
import textwrap

from common import available, fresh_process_runs, report

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

# The graph, written once against the PyTensor-style API that opgraph mirrors.
GRAPH = '''
mu, log_tau = pt.scalar("mu"), pt.scalar("log_tau")
theta, y, sigma = pt.vector("theta"), pt.vector("y"), pt.vector("sigma")
tau = pt.exp(log_tau)
logp = (-0.5 * mu ** 2 / 25 - 0.5 * ((theta - mu) / tau) ** 2 - log_tau * theta.shape[0]
        - 0.5 * ((y - theta) / sigma) ** 2).sum() + log_tau
grads = grad(logp, [mu, log_tau, theta])
inputs, outputs = [mu, log_tau, theta, y, sigma], [logp, *grads]
'''

TIMING = '''
args = [np.array(0.1), np.array(0.2), np.zeros(8), np.arange(8.0), np.ones(8) * 10]
t1 = time.perf_counter()
f = make()
block(f(*args))
t2 = time.perf_counter()
n = 20000
t3 = time.perf_counter()
for _ in range(n):
    block(f(*args))
t4 = time.perf_counter()
print(t2 - t1, (t4 - t3) / n)
'''

OPGRAPH = '''
import sys, time
sys.path.insert(0, {src!r})
import numpy as np, opgraph, opgraph.tensor as pt
from opgraph.gradient import grad
''' + GRAPH + '''
block = lambda out: out
make = lambda: opgraph.function(inputs, outputs, mode="NUMBA", trust_input=True)
''' + TIMING

# Mode NUMBA's default, tiered: the first result comes from the generated-Python tier
# while Numba compiles in a background thread; the loop keeps calling (as a sampler or a
# fuzzing loop would) until the Numba tier takes over, then times calls on it.
OPGRAPH_TIERED = '''
import sys, time
sys.path.insert(0, {src!r})
import numpy as np, opgraph, opgraph.tensor as pt
from opgraph.gradient import grad
''' + GRAPH + '''
args = [np.array(0.1), np.array(0.2), np.zeros(8), np.arange(8.0), np.ones(8) * 10]
t1 = time.perf_counter()
f = opgraph.function(inputs, outputs, mode="NUMBA", trust_input=True)
f(*args)
t2 = time.perf_counter()
assert f.backend == "python", f.backend
n_python = 0
while f.backend == "python":
    f(*args)
    n_python += 1
t3 = time.perf_counter()
n = 20000
t4 = time.perf_counter()
for _ in range(n):
    f(*args)
t5 = time.perf_counter()
print(t2 - t1, t3 - t1, (t3 - t2) / max(n_python, 1), (t5 - t4) / n)
'''

PYTENSOR = '''
import time
import numpy as np, pytensor, pytensor.tensor as pt
from pytensor.compile.mode import Mode
from pytensor.gradient import grad
''' + GRAPH + '''
mode = Mode(linker="cvm", optimizer="fast_run") if {mode!r} == "C" else "NUMBA"
block = lambda out: out
make = lambda: pytensor.function(inputs, outputs, mode=mode, trust_input=True)
''' + TIMING

JAX = '''
import time
import numpy as np, jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_compilation_cache_dir", {cache!r})
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)

def logp(mu, log_tau, theta, y, sigma):
    tau = jnp.exp(log_tau)
    return (-0.5 * mu ** 2 / 25 - 0.5 * ((theta - mu) / tau) ** 2 - log_tau * theta.shape[0]
            - 0.5 * ((y - theta) / sigma) ** 2).sum() + log_tau

block = jax.block_until_ready
make = lambda: jax.jit(jax.value_and_grad(logp, argnums=(0, 1, 2)))
''' + TIMING


def two_runs(script, env):
    """(cold compile, compile from cache, per call) from two fresh processes sharing ``env``'s cache."""
    runs = [values[-2:] for values in fresh_process_runs(script, env, "W5")]
    return runs[0][0], runs[1][0], runs[1][1]


def tiered_runs(script, env):
    """Cold and warm (disk cache present) runs of the tiered script: per run (first result,
    Numba takes over, per call on the Python tier, per call on Numba)."""
    return [values[-4:] for values in fresh_process_runs(script, env, "W5 tiered")]


def main():
    compileall.compile_dir(os.path.join(SRC, "opgraph"), quiet=1)
    results = {}
    tiers = None
    with tempfile.TemporaryDirectory() as cache:
        flags = ",".join(f for f in os.environ.get("OPGRAPH_FLAGS", "").split(",")
                         if f and not f.startswith("tiered_compile"))
        env = dict(os.environ, OPGRAPH_CACHE_DIR=os.path.join(cache, "opgraph"),
                   OPGRAPH_FLAGS=",".join(filter(None, [flags, "tiered_compile=off"])))
        results["opgraph NUMBA"] = two_runs(OPGRAPH.format(src=SRC), env)
        env = dict(env, OPGRAPH_CACHE_DIR=os.path.join(cache, "opgraph_tiered"),
                   OPGRAPH_FLAGS=",".join(filter(None, [flags, "tiered_compile=background"])))
        tiers = tiered_runs(OPGRAPH_TIERED.format(src=SRC), env)
        (cold, cold_switch, cold_py, _), (warm, warm_switch, warm_py, per_call) = tiers
        results["opgraph NUMBA tiered"] = (cold, warm, per_call)
        if available("pytensor"):
            for mode in ("C", "NUMBA"):
                # A fresh compiledir (which also holds PyTensor's Numba cache) makes the first run cold.
                flags = f"base_compiledir={os.path.join(cache, 'pytensor_' + mode)}"
                env = dict(os.environ, PYTENSOR_FLAGS=flags)
                results[f"pytensor {mode}"] = two_runs(PYTENSOR.format(mode=mode), env)
        if available("jax"):
            results["jax"] = two_runs(JAX.format(cache=os.path.join(cache, "jax")), dict(os.environ))
    lines = []
    for i, metric in enumerate(("cold compile", "compile from disk cache", "per call")):
        lines += report(f"W5 hierarchical logp+grad, {metric}",
                        [(label, times[i]) for label, times in results.items()], baseline=None)
    # The tiers: when Numba takes over (from function(), calling all the while) and what a
    # call costs on the Python tier meanwhile.
    lines += report("W5 tiered, Numba tier takes over", [("opgraph cold cache", cold_switch),
                                                         ("opgraph warm cache", warm_switch)], baseline=None)
    lines += report("W5 tiered, per call on the Python tier", [("opgraph cold cache", cold_py),
                                                               ("opgraph warm cache", warm_py)], baseline=None)
    return lines


if __name__ == "__main__":
    main()

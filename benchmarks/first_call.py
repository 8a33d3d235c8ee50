"""W1-W4 time to first result: ``function(...)`` plus the first call, in a fresh process.

Each row is measured in new processes sharing one new cache directory: the first
process is cold (empty cache), the second warm (the disk cache present).  Imports and
graph construction are not counted.  "opgraph NUMBA" is mode NUMBA's default, tiered
(compile/tiered.py: the first result comes from the generated-Python tier while Numba
compiles in the background); "opgraph NUMBA tiered=off" compiles with Numba before
``function()`` returns; "jax" is ``jax.jit`` of the hand-written function of each
workload file (JAX compiles at the first call; its persistent compilation cache
plays the disk cache's part).  opgraph's modules are byte-compiled first, as in W5.
"""

import compileall
import os
import tempfile

from common import available, fresh_process_runs, report

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "src")

# name -> (the workload module, the arguments of its first call, its JAX function)
WORKLOADS = {
    "W1 exp(1e3)": ("w1_call_overhead", "[rng.standard_normal(1000)]",
                    "jax.jit(jnp.exp)"),
    "W2 logp+grad n=1e5": ("w2_fused_logp", "[rng.standard_normal(10**5), np.array(0.3)]",
                           "mod.jax_logp_grad(jax)"),
    "W3 exp(2xy+y) 200x500": ("w3_elemwise_2d", "[rng.standard_normal((200, 500)), rng.standard_normal((200, 500))]",
                              "jax.jit(lambda a, b: jnp.exp(2 * a * b + b))"),
    "W4 logistic step 100x5": ("w4_logistic_step",
                               "[rng.standard_normal((100, 5)), (rng.random(100) > 0.5).astype(float), "
                               "np.array(0.1), rng.standard_normal(5), np.array(0.01)]",
                               "mod.jax_step(jax, jnp)"),
}

PRELUDE = '''
import sys, time
sys.path.insert(0, {here!r}); sys.path.insert(0, {src!r})
import numpy as np
import importlib
mod = importlib.import_module({module!r})
rng = np.random.default_rng(0)
args = {args}
'''

OPGRAPH = PRELUDE + '''
import opgraph, opgraph.tensor as pt
from opgraph.gradient import grad
inputs, outputs = mod.build(pt, grad)
t0 = time.perf_counter()
f = opgraph.function(inputs, outputs, mode="NUMBA", trust_input=True)
f(*args)
print(time.perf_counter() - t0)
'''

JAX = PRELUDE + '''
import jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_compilation_cache_dir", {cache!r})
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
fn = {jax_fn}
t0 = time.perf_counter()
jax.block_until_ready(fn(*args))
print(time.perf_counter() - t0)
'''


def cold_and_warm(script, env):
    return [values[-1] for values in fresh_process_runs(script, env, "first-call")]


def opgraph_env(cache, tiered):
    flags = [f for f in os.environ.get("OPGRAPH_FLAGS", "").split(",") if f and not f.startswith("tiered_compile")]
    flags.append(f"tiered_compile={tiered}")
    return dict(os.environ, OPGRAPH_CACHE_DIR=cache, OPGRAPH_FLAGS=",".join(flags))


def main():
    compileall.compile_dir(os.path.join(SRC, "opgraph"), quiet=1)
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (module, args, jax_fn) in WORKLOADS.items():
            fields = dict(here=HERE, src=SRC, module=module, args=args)
            rows = {}
            for label, tiered in (("opgraph NUMBA", "background"), ("opgraph NUMBA tiered=off", "off")):
                cache = os.path.join(tmp, f"{module}-{tiered}")
                rows[label] = cold_and_warm(OPGRAPH.format(**fields), opgraph_env(cache, tiered))
            if available("jax"):
                cache = os.path.join(tmp, f"{module}-jax")
                rows["jax"] = cold_and_warm(JAX.format(**fields, cache=cache, jax_fn=jax_fn), dict(os.environ))
            for i, state in enumerate(("cold cache", "warm cache")):
                lines += report(f"{name}, first result, {state}",
                                [(label, times[i]) for label, times in rows.items()], baseline=None)
    return lines


if __name__ == "__main__":
    main()

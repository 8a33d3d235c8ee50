"""How much the caller's thread keeps while Numba compiles the W5 graph off it: thread vs worker process.

Each measurement runs in a fresh process with an empty cache: a loop calls the Python tier
(``f.backend == "python"``) until the Numba tier takes over, and its call rate is compared with
the same loop's rate when nothing compiles.  compile/tiered.py's docstring quotes the figures.

Usage: ``python benchmarks/tier_thread_vs_process.py [repeats]`` (default 2).
"""

import os
import subprocess
import sys
import tempfile

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

CHILD = '''
import sys, time
sys.path.insert(0, {src!r})
import numpy as np, opgraph, opgraph.tensor as pt
from opgraph.compile.mode import Mode
from opgraph.gradient import grad
from opgraph.kernel_core.compile.tiered import TieredLinker
''' + '''
mu, log_tau = pt.scalar("mu"), pt.scalar("log_tau")
theta, y, sigma = pt.vector("theta"), pt.vector("y"), pt.vector("sigma")
tau = pt.exp(log_tau)
logp = (-0.5 * mu ** 2 / 25 - 0.5 * ((theta - mu) / tau) ** 2 - log_tau * theta.shape[0]
        - 0.5 * ((y - theta) / sigma) ** 2).sum() + log_tau
inputs, outputs = [mu, log_tau, theta, y, sigma], [logp, *grad(logp, [mu, log_tau, theta])]
args = [np.array(0.1), np.array(0.2), np.zeros(8), np.arange(8.0), np.ones(8) * 10]
idle = opgraph.function(inputs, outputs, trust_input=True,
                        mode=Mode(linker=TieredLinker("on_wait"), optimizer="fast_run"))
t0, n = time.perf_counter(), 0
while time.perf_counter() - t0 < 1.0:
    idle(*args)
    n += 1
idle_rate = n / (time.perf_counter() - t0)
t0 = time.perf_counter()
f = opgraph.function(inputs, outputs, trust_input=True,
                     mode=Mode(linker=TieredLinker("background", use_process={process}), optimizer="fast_run"))
f(*args)
t1, n = time.perf_counter(), 0
while f.backend == "python":
    f(*args)
    n += 1
t2 = time.perf_counter()
print(n / (t2 - t1) / idle_rate, t2 - t0)
'''


def main(repeats=2):
    for _ in range(repeats):
        for process in (False, True):
            with tempfile.TemporaryDirectory() as cache:
                r = subprocess.run([sys.executable, "-c", CHILD.format(src=SRC, process=process)],
                                   env=dict(os.environ, OPGRAPH_CACHE_DIR=cache), capture_output=True, text=True)
                if r.returncode:
                    raise RuntimeError(r.stderr[-2000:])
                share, switch = (float(v) for v in r.stdout.split()[-2:])
                print(f"{'worker process' if process else 'thread':<15} caller keeps {share:.2f} of its call "
                      f"rate; Numba takes over after {switch:.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)

"""W5: compile latency of a hierarchical-model logp+grad: cold, and from the disk cache in a new process."""

import os
import subprocess
import sys
import tempfile
import textwrap

from common import report

SCRIPT = textwrap.dedent('''
    import sys, time
    sys.path.insert(0, {src!r})
    t0 = time.perf_counter()
    import numpy as np, opgraph, opgraph.tensor as pt
    from opgraph.gradient import grad
    mu, log_tau = pt.scalar("mu"), pt.scalar("log_tau")
    theta, y, sigma = pt.vector("theta"), pt.vector("y"), pt.vector("sigma")
    tau = pt.exp(log_tau)
    logp = (-0.5 * mu ** 2 / 25 - 0.5 * ((theta - mu) / tau) ** 2 - log_tau * theta.shape[0]
            - 0.5 * ((y - theta) / sigma) ** 2).sum() + log_tau
    grads = grad(logp, [mu, log_tau, theta])
    t1 = time.perf_counter()
    f = opgraph.function([mu, log_tau, theta, y, sigma], [logp, *grads], mode="NUMBA", trust_input=True)
    t2 = time.perf_counter()
    args = [np.array(0.1), np.array(0.2), np.zeros(8), np.arange(8.0), np.ones(8) * 10]
    f(*args)
    n = 20000
    t3 = time.perf_counter()
    for _ in range(n):
        f(*args)
    t4 = time.perf_counter()
    print(t2 - t1, (t4 - t3) / n)
''')


def main():
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, OPGRAPH_CACHE_DIR=cache)
        runs = []
        for _ in range(2):
            r = subprocess.run([sys.executable, "-c", SCRIPT.format(src=src)], env=env,
                               capture_output=True, text=True, check=True)
            runs.append([float(v) for v in r.stdout.split()])
    rows = [("cold compile", runs[0][0]), ("compile from disk cache", runs[1][0]),
            ("per call", runs[1][1])]
    return report("W5 hierarchical logp+grad", rows, baseline=None)


if __name__ == "__main__":
    main()

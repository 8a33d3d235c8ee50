"""Compile time (and peak memory) against graph size, NUMBA mode, cold cache.

Two graph families of N elementwise terms (issue 21):

* ``sum``:   ``pt.add(*[pt.exp(x * (k / N)) for k in range(N)])`` -- one node of N
  inputs, 2N + 1 nodes in all;
* ``chain``: ``cos(sin(cos(... x)))`` -- N nodes, each feeding the next;
* ``stack``: ``pt.stack([pt.exp(x * (k / N)) for k in range(N)]).sum(axis=0)`` -- the
  sum's stack form: as written, N separate elementwise terms (they differ in a
  constant) and one Join of N inputs;
* ``join``:  ``pt.concatenate([pt.exp(x)] * N)`` -- one Join of N inputs alone.

The ``stack`` form is rewritten to one loop over an (N, len(x)) output
(``join_of_elemwise``, rewriting/join_elemwise.py); ``stack_unrewritten`` is
the same graph with that rule excluded (N separate Composite loops), for the
before/after ratio.

Each size runs in a fresh process with an empty cache directory, so "compile"
is rewriting + code generation + numba's compilation of the whole graph
(``opgraph.function`` with the NumbaLinker itself, not a faster-starting tier)
and the first call.  The growth ratio printed is
(time ratio) / (size ratio) between consecutive sizes: about 1 means linear.
Peak RSS is the child process's ``ru_maxrss``.

    python benchmarks/compile_scaling.py                 # default sizes
    python benchmarks/compile_scaling.py chain 1000 4000 16000
"""

import json
import os
import subprocess
import sys
import tempfile

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

CHILD = r'''
import json, os, resource, sys, time
sys.path.insert(0, {src!r})
import numpy as np, opgraph, opgraph.tensor as pt
from opgraph.kernel_core.backends.numba.linker import NumbaLinker
from opgraph.kernel_core.compile.mode import Mode
kind, n = {kind!r}, {n}
x = pt.vector("x")
exclude = ("join_of_elemwise",) if kind == "stack_unrewritten" else ()
if kind == "sum":
    y = pt.add(*[pt.exp(x * (k / n)) for k in range(n)])
    expected = lambda v: sum(np.exp(v * (k / n)) for k in range(n))
elif kind in ("stack", "stack_unrewritten"):
    y = pt.stack([pt.exp(x * (k / n)) for k in range(n)]).sum(axis=0)
    expected = lambda v: sum(np.exp(v * (k / n)) for k in range(n))
elif kind == "join":
    y = pt.concatenate([pt.exp(x)] * n)
    expected = lambda v: np.concatenate([np.exp(v)] * n)
else:
    y = x
    for k in range(n):
        y = pt.sin(y) if k % 2 else pt.cos(y)
    def expected(v):
        for k in range(n):
            v = np.sin(v) if k % 2 else np.cos(v)
        return v
xv = np.linspace(-1.0, 1.0, 101)
t0 = time.perf_counter()
f = opgraph.function([x], y, mode=Mode(linker=NumbaLinker(), optimizer="fast_run", exclude=exclude))
out = f(xv)
seconds = time.perf_counter() - t0
assert np.allclose(out, expected(xv), rtol=1e-9, atol=1e-12)
print(json.dumps({{"seconds": seconds, "cpu": time.process_time(), "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
'''

DEFAULT = {"chain": (500, 1000, 2000, 4000), "sum": (250, 500, 1000, 2000), "join": (250, 1000, 4000),
           "stack_unrewritten": (100, 200), "stack": (100, 1000, 10000)}


def measure(kind, n):
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, OPGRAPH_CACHE_DIR=cache)
        r = subprocess.run([sys.executable, "-c", CHILD.format(src=SRC, kind=kind, n=n)],
                           capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"{kind} {n}: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(kind_sizes):
    lines = []
    for kind, sizes in kind_sizes.items():
        prev = None
        for n in sizes:
            m = measure(kind, n)
            growth = ""
            if prev is not None:
                growth = f"   growth {(m['seconds'] / prev[1]) / (n / prev[0]):.2f}"
            line = (f"{kind:17s} N={n:6d}: {m['seconds']:8.2f} s (process CPU {m['cpu']:7.2f} s)"
                    f"  peak RSS {m['rss_mb']:7.0f} MB{growth}")
            print(line, flush=True)
            lines.append(line)
            prev = (n, m["seconds"])
    return lines


if __name__ == "__main__":
    if len(sys.argv) > 2:
        main({sys.argv[1]: tuple(int(a) for a in sys.argv[2:])})
    else:
        main(DEFAULT)

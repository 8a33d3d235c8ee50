"""First compile of one op in a fresh process: ``function()`` + the first call, mode NUMBA
with ``tiered=False``, process CPU time (``time.process_time``).

Each graph runs in a new process with an empty ``OPGRAPH_CACHE_DIR``; numba's own cache
of opgraph's shared kernels is left as it is (warm after the first run, as on a user's
machine), and numba is imported before the clock starts.  The cost measured is what a
notebook pays the first time a graph with this op is compiled in a new kernel: numba's
typing, lowering and LLVM for the graph and for every numba helper it pulls in that the
process has not compiled yet.  ``x + 1`` is the reference row.

    python benchmarks/first_compile_per_op.py [--runs 3] [names...]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "src")

# name -> the expression of the graph's one output (A, B: 4 x 4 / 4 x 3 matrices, b a
# 4-vector, T a 2 x 3 x 4 tensor).
GRAPHS = {
    "x + 1": "A + 1.0",
    "solve(A, b)": "la.solve(A, b)",
    "solve(A, B)": "la.solve(A, B)",
    "expm(A)": "la.expm(A)",
    "kron(A, B)": "la.kron(A, B)",
    "solve_triangular(A, B)": "la.solve_triangular(A, B, lower=True)",
    "lu(B, permute_l=True)": "la.lu(B, permute_l=True)[0]",
    "unique(T, axis=1)": "opgraph.tensor.unique(T, axis=1)",
    "inv(A)": "la.inv(A)",
    "cholesky(A)": "la.cholesky(A)",
}

SCRIPT = '''
import sys, time
sys.path.insert(0, {src!r})
import numpy as np
import numba  # its import is not the graph's cost
import opgraph, opgraph.tensor as pt, opgraph.tensor.linalg as la
A, B, b, T = pt.matrix("A"), pt.matrix("B"), pt.vector("b"), pt.tensor3("T")
rng = np.random.default_rng(0)
a = rng.normal(size=(4, 4)) * 0.3 + 4.0 * np.eye(4)
vals = [a @ a.T, rng.normal(size=(4, 3)), rng.normal(size=4), rng.integers(0, 2, size=(2, 3, 4)).astype(float)]
out = {expr}
t0 = time.process_time()
f = opgraph.function([A, B, b, T], [out], mode=opgraph.Mode("NUMBA", tiered=False), on_unused_input="ignore")
f(*vals)
print(time.process_time() - t0)
'''


def first_compile(expr):
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, OPGRAPH_CACHE_DIR=cache)
        r = subprocess.run([sys.executable, "-c", SCRIPT.format(src=SRC, expr=expr)], env=env,
                           capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{expr}: the subprocess failed:\n{r.stderr[-2000:]}")
    return float(r.stdout.split()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per graph (median reported)")
    parser.add_argument("names", nargs="*", help="graphs to run (default: all): " + ", ".join(GRAPHS))
    opts = parser.parse_args(argv)
    unknown = [n for n in opts.names if n not in GRAPHS]
    if unknown:
        parser.error(f"unknown graph(s) {unknown}; choose from {list(GRAPHS)}")
    first_compile(GRAPHS["x + 1"])   # numba's cache of the shared kernels, as on a user's machine
    names = ["x + 1"] + [n for n in (opts.names or GRAPHS) if n != "x + 1"]
    medians = {}
    print(f"== first compile in a fresh process (CPU s, median of {opts.runs})")
    for name in names:
        medians[name] = statistics.median(first_compile(GRAPHS[name]) for _ in range(opts.runs))
        print(f"  {name:26s} {medians[name]:6.2f} s   {medians[name] / medians['x + 1']:5.2f}x x + 1", flush=True)
    return medians


if __name__ == "__main__":
    main()

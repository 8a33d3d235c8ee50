"""W6: rewrite time of ``fast_run`` on large graphs (DESIGN section 7).

Two workloads, at n = 25 and n = 200:

* fuseable: the sum of n elementwise factors of a vector, and its gradient;
* chain:    n layers of ``y = sin(y.T) + cos(y)`` on a square matrix;
* pysum:    a Python ``sum()`` of 10 n terms ``exp(x + i)`` (a chain of binary adds the
            canonicalizer flattens in one step; it was quadratic, issue 21).

Each is rewritten with ``include=("fast_run",), exclude=("inplace",)``; the
script prints the times and the growth ratio (time at 200 / time at 25; a
linear driver gives about 8).  When PyTensor is installed it is timed on the
same graphs, side by side.  Times are the best of a few runs of CPU time of
this process (``time.process_time``): the benchmark machine is often shared,
and wall-clock jitter of a few milliseconds would swamp the n = 25 runs.  Run: ``PYTHONPATH=src python benchmarks/bench_rewrite.py``.
"""

from __future__ import annotations

import gc
import sys
import time

SIZES = (25, 200)


def fuseable(pt, grad, n):
    x = pt.vector("x")
    factors = [pt.exp(-x / (i + 1)) * (x - i) ** 2 for i in range(n)]
    cost = pt.add(*factors).sum()
    return [cost, grad(cost, x)]


def chain(pt, grad, n):
    x = pt.matrix("x")
    y = x
    for _ in range(n):
        y = pt.sin(y.T) + pt.cos(y)
    return [y]


def pysum(pt, grad, n):
    x = pt.vector("x")
    return [sum(pt.exp(x + i) for i in range(10 * n))]


def best_of(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        gc.collect()  # start each run from a clean heap: no leftover garbage to scan
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def bench_opgraph(build, n, repeat):
    import opgraph.tensor as pt
    from opgraph.graph import rewrite_graph
    from opgraph.kernel_core.gradient import grad

    outputs = build(pt, grad, n)
    return best_of(lambda: rewrite_graph(outputs, include=("fast_run",), exclude=("inplace",)), repeat)


def bench_pytensor(build, n, repeat):
    try:
        import pytensor.tensor as pt
        from pytensor.gradient import grad
        from pytensor.graph import rewrite_graph
    except ImportError:
        return None
    outputs = build(pt, grad, n)
    return best_of(lambda: rewrite_graph(outputs, include=("fast_run",), exclude=("inplace",)), repeat)


def main(argv=()):
    """Print the comparison; return table records (workload, implementation, seconds) for run_all."""
    from common import report

    sizes = tuple(int(a) for a in argv) or SIZES
    print(f"W6 rewrite time, include=('fast_run',), exclude=('inplace',); sizes {sizes}")
    records = []
    for name, build in (("fuseable", fuseable), ("chain", chain), ("pysum", pysum)):
        ours, theirs = {}, {}
        for n in sizes:
            # Several runs at every size (the growth ratio compares like with like); PyTensor's
            # large graphs take seconds each, so it gets fewer runs there.
            repeat = 5 if n <= 50 else 3 if n <= 1000 else 1
            ours[n] = bench_opgraph(build, n, repeat)
            theirs[n] = bench_pytensor(build, n, 3 if n <= 50 else 1)
            line = f"{name:9s} n={n:4d}  opgraph {ours[n]:8.3f} s"
            rows = [("opgraph fast_run rewrite", ours[n])]
            if theirs[n] is not None:
                line += f"   pytensor {theirs[n]:8.3f} s   ratio {theirs[n] / ours[n]:6.1f}x"
                rows.append(("pytensor fast_run rewrite", theirs[n]))
            print(line)
            records += [(f"W6 rewrite {name} n={n} (CPU time)", label, sec) for label, sec in rows]
        lo, hi = sizes[0], sizes[-1]
        growth = ours[hi] / ours[lo]
        line = f"{name:9s} growth {hi}/{lo}: opgraph {growth:5.1f}x"
        if theirs[hi] is not None and theirs[lo] is not None:
            line += f"   pytensor {theirs[hi] / theirs[lo]:5.1f}x"
        print(line)
    return records


if __name__ == "__main__":
    main(sys.argv[1:])

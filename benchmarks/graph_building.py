"""Graph construction and cloning at 10^5 nodes (issue 18: the 10^5-node tests, and users
building large models): opgraph against PyTensor (when installed), side by side.

Workloads, each the best of a few runs of this process's CPU time (``time.process_time``;
the machine is often shared), divided by the node count:

* ``y + 1.0``: a chain of 10^5 adds of a Python float (a constant made per node);
* ``y + c``:   the same chain adding one shared scalar variable (no constants);
* ``sin/cos``: a chain of alternating ``sin`` and ``cos`` (unary nodes);
* ``clone``:   ``clone`` of the ``y + 1.0`` chain (``graph.basic.clone`` in PyTensor).

Run: ``python benchmarks/graph_building.py`` (``--n`` to change the size).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time

from common import available


def _timed(fn):
    """A workload that times itself: the CPU time of ``fn()``."""
    def run():
        t = time.process_time()
        fn()
        return time.process_time() - t
    return run


def _best(run, repeat):
    # Each run starts from a collected heap: what is alive from earlier runs changes how
    # often and how long the cyclic GC scans (graphs are millions of objects).
    times = []
    for _ in range(repeat):
        gc.collect()
        times.append(run())
    return min(times)


def workloads(pt, clone, n):
    def add_float():
        x = pt.dscalar("x")
        y = x
        for _ in range(n):
            y = y + 1.0
        return x, y

    def add_var():
        x, c = pt.dscalar("x"), pt.dscalar("c")
        y = x
        for _ in range(n):
            y = y + c
        return y

    def unary():
        y = pt.dscalar("x")
        for k in range(n):
            y = pt.sin(y) if k % 2 else pt.cos(y)
        return y

    def clone_chain():
        x, y = add_float()   # (not timed: only the clone)
        t = time.process_time()
        clone([x], [y])
        return time.process_time() - t

    return {"y + 1.0": _timed(add_float), "y + c": _timed(add_var), "sin/cos": _timed(unary), "clone": clone_chain}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * args.n))   # PyTensor's clone recurses

    import opgraph.tensor as opt
    from opgraph.graph.basic import clone as oclone

    libraries = {"opgraph": (opt, oclone)}
    if available("pytensor"):
        import pytensor.tensor as ptt
        from pytensor.graph.basic import clone as pclone

        libraries["pytensor"] = (ptt, pclone)
    else:
        print("PyTensor is not installed: opgraph rows only")
    times = {}
    # Alternate the libraries workload by workload, so a change of load hits both alike.
    names = list(workloads(opt, oclone, 1))
    built = {lib: workloads(pt, cl, args.n) for lib, (pt, cl) in libraries.items()}
    for name in names:
        for lib in libraries:
            times[lib, name] = _best(built[lib][name], args.repeat)
    print(f"== graph building, {args.n} nodes: process CPU per node (best of {args.repeat})")
    for name in names:
        row = f"  {name:10s} opgraph {times['opgraph', name] / args.n * 1e6:7.2f} µs"
        if "pytensor" in libraries:
            p = times["pytensor", name]
            row += f"   pytensor {p / args.n * 1e6:7.2f} µs   pytensor / opgraph {p / times['opgraph', name]:.2f}x"
        print(row)


if __name__ == "__main__":
    main()

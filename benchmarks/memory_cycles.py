"""Memory over many compilations: RSS across compile / call / delete cycles of distinct
small NUMBA graphs (issues 12 and 21: a fuzzing process grew to 2 GB).

Each cycle builds a graph of its own (distinct constants, so distinct generated
code and a real numba compilation), compiles it with a cold cache, calls it and
deletes the Function.  RSS is read from /proc after ``gc.collect()``.

    python benchmarks/memory_cycles.py [cycles] [--keep]

``--keep`` holds every Function (what a process that never frees compiled
functions costs, for comparison).  What remains per cycle after deletion is
numba's: see NumbaLinker's docstring.
"""

import gc
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(cycles=200, keep=False):
    os.environ["OPGRAPH_CACHE_DIR"] = tempfile.mkdtemp(prefix="opgraph-memory-")
    import numpy as np

    import opgraph
    import opgraph.tensor as pt
    from opgraph.kernel_core.backends.numba.linker import NumbaLinker
    from opgraph.kernel_core.compile.mode import Mode

    numba_mode = Mode(linker=NumbaLinker(), optimizer="fast_run")   # the compiled tier itself

    x = pt.vector("x")
    xv = np.linspace(0.0, 1.0, 16)
    kept, lines = [], []
    # Warm-up: numba's own one-time state (typing / target contexts, registries).
    for k in range(3):
        f = opgraph.function([x], pt.tanh(x * (1.0 + k / 7.0)) + k, mode=numba_mode)
        f(xv)
    del f
    gc.collect()
    start, t0 = rss_mb(), time.perf_counter()
    lines.append(f"after warm-up: {start:.0f} MB")
    for k in range(1, cycles + 1):
        c = 1.0 + k / 1000.0
        f = opgraph.function([x], [pt.exp(x * c) + pt.sin(x) * k, (x - c).sum()], mode=numba_mode)
        f(xv)
        if keep:
            kept.append(f)
        del f
        if k % 25 == 0 or k == cycles:
            gc.collect()
            now = rss_mb()
            lines.append(f"cycle {k:4d}: RSS {now:7.0f} MB  (+{(now - start) / k * 1024:6.0f} KB per cycle, "
                         f"{time.perf_counter() - t0:6.0f} s)")
            print(lines[-1], flush=True)
    return lines


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(args[0]) if args else 200, keep="--keep" in sys.argv)

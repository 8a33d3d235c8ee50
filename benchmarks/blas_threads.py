"""Matrix products and OpenBLAS threads, unloaded and on oversubscribed cores (issue 18).

Each shape is timed as NumPy ``np.dot`` and numba's ``np.dot`` (SciPy's OpenBLAS: what the
NUMBA backend calls) with the default thread count and with one thread, and as opgraph's
``blas_dot`` (the backend's policy: ``backends/numba/blas_threads.py``).  Thread counts are
switched in-process (each library's ``*_set_num_threads``), the variants interleaved round by
round.  ``--load N`` repeats everything with ``N`` busy-loop processes running (started and
stopped here): the condition where OpenBLAS's threads stall.  Per variant: the median and
the best of the rounds' per-call medians.  Prints ``uptime`` next to the figures.

    python benchmarks/blas_threads.py [--load 6] [--seconds 0.1] [--rounds 5]
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import common  # noqa: F401  (puts src/ on the path)
from common import fmt

SHAPES = [  # (m, k, n): (m x k) @ (k x n)
    (50, 1000, 50),
    (100, 100, 100),
    (128, 128, 128),
    (200, 200, 200),
    (256, 256, 256),
    (400, 400, 400),
    (1000, 1000, 1000),
    (500, 500, 1),
    (1000, 1000, 1),
    (2000, 2000, 1),
]


def _numpy_threads():
    lib = glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "libscipy_openblas*.so*"))
    dll = ctypes.CDLL(lib[0])
    names = [n for n in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads")
             if hasattr(dll, n)]
    get = [n for n in ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads") if hasattr(dll, n)]
    return getattr(dll, names[0]), getattr(dll, get[0])


def _per_call(fn, seconds):
    """Median seconds per call of ``fn`` over about ``seconds`` (at least 3 calls)."""
    fn()
    times = []
    end = time.perf_counter() + seconds
    while len(times) < 3 or time.perf_counter() < end:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def variants(a, b):
    import numba

    from opgraph.kernel_core.backends.numba import blas_threads

    scipy_blas = ctypes.CDLL(blas_threads.SCIPY_OPENBLAS)
    set_sp, get_sp = scipy_blas.scipy_openblas_set_num_threads, scipy_blas.scipy_openblas_get_num_threads
    set_np, get_np = _numpy_threads()
    sp_default, np_default = get_sp(), get_np()

    raw = numba.njit(lambda x, y: np.dot(x, y))
    policy = blas_threads.blas_dot
    raw(a, b), policy(a, b)

    return [
        ("numpy, default threads", lambda: set_np(np_default), lambda: np.dot(a, b)),
        ("numpy, 1 thread", lambda: set_np(1), lambda: np.dot(a, b)),
        ("numba np.dot, default threads", lambda: set_sp(sp_default), lambda: raw(a, b)),
        ("numba np.dot, 1 thread", lambda: set_sp(1), lambda: raw(a, b)),
        ("opgraph blas_dot (policy)", lambda: set_sp(sp_default), lambda: policy(a, b)),
    ], lambda: (set_sp(sp_default), set_np(np_default))


def measure(seconds, rounds):
    rng = np.random.default_rng(0)
    out = {}
    for m, k, n in SHAPES:
        a = rng.normal(size=(m, k))
        b = rng.normal(size=(k, n)) if n > 1 else rng.normal(size=k)
        vs, restore = variants(a, b)
        np.testing.assert_allclose(vs[4][2](), np.dot(a, b), rtol=1e-12, atol=1e-9)
        per = {label: [] for label, _, _ in vs}
        try:
            for _ in range(rounds):
                for label, setup, fn in vs:
                    setup()
                    per[label].append(_per_call(fn, seconds))
        finally:
            restore()
        out[(m, k, n)] = per
    return out


def show(title, results):
    print(f"\n{title}  ({os.popen('uptime').read().strip()})")
    print("| (m x k) @ (k x n) | variant | median | best round |")
    print("|---|---|---|---|")
    for (m, k, n), per in results.items():
        shape = f"({m}x{k}) @ ({k}x{n})" if n > 1 else f"({m}x{k}) @ ({k},)"
        for label, ts in per.items():
            print(f"| {shape} | {label} | {fmt(statistics.median(ts))} | {fmt(min(ts))} |")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--load", type=int, default=0, help="busy-loop processes for the loaded run (0: none)")
    p.add_argument("--seconds", type=float, default=0.1, help="time per variant per round")
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    show("unloaded", measure(args.seconds, args.rounds))
    if args.load:
        busy = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(args.load)]
        try:
            time.sleep(1.0)
            show(f"loaded: {args.load} busy-loop processes", measure(args.seconds, args.rounds))
        finally:
            for proc in busy:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main()

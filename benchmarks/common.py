"""Shared timing helpers: best-of-N wall time per call, ratios printed from the same run."""

from __future__ import annotations

import importlib.util
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))


def timeit(fn, min_time=0.2, repeat=5):
    """Best per-call seconds over ``repeat`` batches lasting about ``min_time`` each."""
    fn()
    n, t = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - t0
        if t >= min_time / repeat or n > 1e6:
            break
        n *= 2
    best = t / n
    for _ in range(repeat - 1):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def available(module):
    return importlib.util.find_spec(module) is not None


def fmt(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def report(workload, rows, baseline="numpy"):
    """rows: list of (label, seconds); prints each with its ratio to ``baseline``; returns markdown rows."""
    base = dict(rows).get(baseline)
    out = []
    print(f"== {workload}")
    for label, sec in rows:
        ratio = f"{sec / base:.2f}x {baseline}" if base else ""
        print(f"  {label:<28} {fmt(sec):>12}   {ratio}")
        out.append(f"| {workload} | {label} | {fmt(sec)} | {ratio} |")
    return out

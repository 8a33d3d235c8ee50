"""Shared timing helpers: best-of-N wall time per call, ratios printed from the same run.

Every workload times opgraph against NumPy and, when they are installed, against PyTensor (C mode:
``fast_run`` rewrites with the ``cvm`` C linker; and NUMBA mode) and JAX (``jax.jit``, float64).
PyTensor and JAX are optional: only this benchmarks folder imports them, behind ``available``.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

# Benchmarks time the Numba backend: mode NUMBA compiles before function() returns
# (no Python tier first; compile/tiered.py), here and in the processes they start.
# W5 measures the tiers separately (it sets tiered_compile itself).
if "tiered_compile" not in os.environ.get("OPGRAPH_FLAGS", ""):
    os.environ["OPGRAPH_FLAGS"] = ",".join(filter(None, [os.environ.get("OPGRAPH_FLAGS", ""),
                                                         "tiered_compile=off"]))

OPGRAPH = "opgraph NUMBA"


def opgraph_time(times):
    """The time "ratio to opgraph" refers to: the first row whose label starts with "opgraph"."""
    return next((sec for label, sec in times.items() if label.startswith("opgraph")), None)


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


def pytensor_modes():
    """[(label, mode)] for PyTensor's C and NUMBA modes; [] when PyTensor is not installed.

    PyTensor 3's "FAST_RUN" links with Numba by default, so the C mode is spelled out: the same
    ``fast_run`` rewrites with the ``cvm`` (C virtual machine) linker.
    """
    if not available("pytensor"):
        return []
    from pytensor.compile.mode import Mode

    return [("pytensor C", Mode(linker="cvm", optimizer="fast_run")), ("pytensor NUMBA", "NUMBA")]


def jax_module():
    """(jax, jax.numpy) with float64 enabled, or None when JAX is not installed."""
    if not available("jax"):
        return None
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    return jax, jnp


def compile_all(build, trust_input=True):
    """Compile ``build(pt, grad) -> (inputs, outputs)`` with opgraph NUMBA and each PyTensor mode.

    opgraph mirrors PyTensor's graph API, so one builder describes the same graph for both.
    Returns [(label, function)].
    """
    import opgraph
    import opgraph.tensor as opt
    from opgraph.gradient import grad as ograd

    inputs, outputs = build(opt, ograd)
    fns = [(OPGRAPH, opgraph.function(inputs, outputs, mode="NUMBA", trust_input=trust_input))]
    modes = pytensor_modes()
    if modes:
        import pytensor
        import pytensor.tensor as ppt
        from pytensor.gradient import grad as pgrad

        for label, mode in modes:
            inputs, outputs = build(ppt, pgrad)
            fns.append((label, pytensor.function(inputs, outputs, mode=mode, trust_input=trust_input)))
    return fns


def compile_opgraph_jax(build, trust_input=True, suffix="", wait=True):
    """[(label, function)] for opgraph's mode JAX on ``build``: NumPy results (the default) and
    ``jax_arrays=True`` (device arrays, waited for with ``block_until_ready``); [] without JAX.

    ``wait=False``: the ``jax_arrays`` function is returned as it is, for a caller that waits
    on its result the way its jax row waits (the same lambda shape, so both rows pay the same
    harness cost: W1, where a wrapper frame is measurable)."""
    if not available("jax"):
        return []
    import jax

    import opgraph
    import opgraph.tensor as opt
    from opgraph.compile.mode import Mode
    from opgraph.gradient import grad as ograd

    inputs, outputs = build(opt, ograd)
    f = opgraph.function(inputs, outputs, mode="JAX", trust_input=trust_input)
    inputs, outputs = build(opt, ograd)
    fa = opgraph.function(inputs, outputs, mode=Mode("JAX", jax_arrays=True), trust_input=trust_input)
    if not wait:
        return [(f"opgraph JAX{suffix}", f), (f"opgraph JAX jax_arrays{suffix}", fa)]

    def ready(out):
        # One array: its own method, as the jax rows wait (jax.block_until_ready walks a pytree: ~4 us more).
        return jax.block_until_ready(out) if isinstance(out, (list, tuple)) else out.block_until_ready()

    return [(f"opgraph JAX{suffix}", f),
            (f"opgraph JAX jax_arrays{suffix}", lambda *args: ready(fa(*args)))]


def check_same(results, reference, rtol=1e-7, atol=1e-10):
    """Assert that every implementation computed what the NumPy reference computed."""
    import numpy as np

    ref = reference if isinstance(reference, (list, tuple)) else [reference]
    res = results if isinstance(results, (list, tuple)) else [results]
    assert len(res) == len(ref), (len(res), len(ref))
    for a, b in zip(res, ref):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


def fmt(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def ratio(sec, base):
    return f"{sec / base:.2f}x" if base else ""


def report(workload, rows, baseline="numpy"):
    """rows: list of (label, seconds). Prints each with its ratio to ``baseline`` and to opgraph.

    Returns records (workload, label, seconds) for ``markdown``; ``baseline=None`` means no NumPy row.
    """
    times = dict(rows)
    base, ours = times.get(baseline), opgraph_time(times)
    print(f"== {workload}")
    for label, sec in rows:
        print(f"  {label:<28} {fmt(sec):>12}   {ratio(sec, base) + ' numpy' if base else '':>12}"
              f"   {ratio(sec, ours) + ' opgraph' if ours else ''}")
    return [(workload, label, sec) for label, sec in rows]


def median_records(runs):
    """Median seconds per (workload, label) over several runs' records, first-seen order."""
    collected = {}
    for records in runs:
        for workload, label, sec in records:
            collected.setdefault((workload, label), []).append(sec)
    return [(w, l, statistics.median(v)) for (w, l), v in collected.items()]


def markdown(records, baseline="numpy"):
    """Table rows: | workload | implementation | time | ratio to NumPy | ratio to opgraph |."""
    lines = ["| workload | implementation | time | ratio to NumPy | ratio to opgraph |",
             "|---|---|---|---|---|"]
    by_workload = {}
    for workload, label, sec in records:
        by_workload.setdefault(workload, {})[label] = sec
    for workload, label, sec in records:
        times = by_workload[workload]
        lines.append(f"| {workload} | {label} | {fmt(sec)} | {ratio(sec, times.get(baseline))} "
                     f"| {ratio(sec, opgraph_time(times))} |")
    return lines


def fresh_process_runs(script, env, what, runs=2):
    """Run ``script`` in ``runs`` new processes one after another (sharing ``env``'s cache
    directories: the first is cold, the next warm); per run, the floats it printed last."""
    import subprocess

    results = []
    for _ in range(runs):
        r = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"{what} subprocess failed:\n{r.stderr[-2000:]}")
        results.append([float(v) for v in r.stdout.split()])
    return results

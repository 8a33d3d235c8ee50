"""W1: call overhead, exp of 1,000 floats.

``python w1_call_overhead.py`` prints the usual table (best-of-5 wall time per row, rows one after
the other).  ``python w1_call_overhead.py --jax-rounds [N]`` measures the mode-JAX rows the way a
shared, loaded machine allows: process CPU time, every row once per round (side by side, seconds
apart), N rounds (default 15), and prints per row the median time and the median of its per-round
ratios to the matching jax.jit row -- device results against ``jf(x).block_until_ready()``, NumPy
results against ``np.asarray(jf(x))`` (the same conversion to NumPy, a read-only view of JAX's
buffer on CPU).

Both modes time every JAX row through the same harness: one lambda per row, built by the same
factory (``device_call``: ``lambda: g(x).block_until_ready()`` for ``jf`` and for opgraph's
``jax_arrays`` function alike; ``numpy_call``: ``lambda: convert(g(x))``), so a row's ratio is
the library's own cost, not a wrapper's.
"""

import sys
import time

import numpy as np

from common import check_same, compile_all, compile_opgraph_jax, jax_module, report, timeit


def build(pt, grad):
    x = pt.vector("x")
    return [x], pt.exp(x)


def device_call(g, xv):
    """One call of ``g`` whose result stays on the device, waited for (jax and opgraph alike)."""
    return lambda: g(xv).block_until_ready()


def numpy_call(g, xv, convert=None):
    """One call of ``g`` returning NumPy: ``convert`` (``np.asarray`` for jax) or none (opgraph's
    NumPy-result function converts itself)."""
    return (lambda: g(xv)) if convert is None else (lambda: convert(g(xv)))


def jax_calls(xv, jf):
    """[(label, call, baseline label)]: the jax rows and opgraph's mode-JAX rows, same harness."""
    rows = [("jax", device_call(jf, xv), None), ("jax NumPy results", numpy_call(jf, xv, np.asarray), None)]
    for label, f in compile_opgraph_jax(build, False, wait=False) + \
            compile_opgraph_jax(build, True, " trust_input", wait=False):
        check_same(f(xv), np.exp(xv))
        if "jax_arrays" in label:
            rows.append((label, device_call(f, xv), "jax"))
        else:
            rows.append((label, numpy_call(f, xv), "jax NumPy results"))
    return rows


def main():
    xv = np.random.default_rng(0).standard_normal(1000)
    rows = [("numpy", timeit(lambda: np.exp(xv)))]
    # Checked inputs (the default) and trust_input=True, for opgraph and each PyTensor mode.
    checked, trusted = compile_all(build, trust_input=False), compile_all(build, trust_input=True)
    for (label, f), (_, ft) in zip(checked, trusted):
        check_same(f(xv), np.exp(xv))
        rows.append((label, timeit(lambda: f(xv))))
        rows.append((f"{label} trust_input", timeit(lambda: ft(xv))))
    jx = jax_module()
    if jx:
        jax, jnp = jx
        jf = jax.jit(jnp.exp)
        check_same(jf(xv), np.exp(xv))
        rows += [(label, timeit(call)) for label, call, _ in jax_calls(xv, jf)]
    return report("W1 exp(1e3)", rows)


def jax_rounds(rounds=15, calls=5000):
    """The mode-JAX rows against jax.jit, interleaved, in process CPU time (see the module docstring)."""
    jx = jax_module()
    if not jx:
        print("JAX is not installed: no mode-JAX rows")
        return {}
    jax, jnp = jx
    xv = np.random.default_rng(0).standard_normal(1000)
    jf = jax.jit(jnp.exp)
    rows = {label: (call, base) for label, call, base in jax_calls(xv, jf)}
    times = {label: [] for label in rows}
    for fn, _ in rows.values():
        for _ in range(200):
            fn()
    labels = list(rows)
    for r in range(rounds):
        # The order rotates each round: every row runs in every position equally often (a
        # fixed order biased the rows after the first, e.g. by what the previous row left in
        # the caches).
        for label in labels[r % len(labels):] + labels[:r % len(labels)]:
            fn = rows[label][0]
            t0 = time.process_time()
            for _ in range(calls):
                fn()
            times[label].append((time.process_time() - t0) / calls)
    print(f"== W1 exp(1e3), mode JAX: process CPU time per call, median of {rounds} interleaved rounds "
          f"(ratio: median of the per-round ratios, [quartiles])")
    result = {}
    for label, (_, base) in rows.items():
        per_call = float(np.median(times[label]))
        ratio = quartiles = None
        vs = ""
        if base:
            per_round = np.divide(times[label], times[base])
            ratio, quartiles = float(np.median(per_round)), np.percentile(per_round, [25, 75])
            vs = f"{ratio:.2f}x {base} [{quartiles[0]:.2f}-{quartiles[1]:.2f}]"
        result[label] = (per_call, base, ratio)
        print(f"  {label:<36} {per_call * 1e6:8.2f} µs   {vs}")
    return result


if __name__ == "__main__":
    if "--jax-rounds" in sys.argv:
        rest = sys.argv[sys.argv.index("--jax-rounds") + 1:]
        jax_rounds(int(rest[0]) if rest else 15)
    else:
        main()

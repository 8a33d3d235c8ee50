"""A cumulative-sum scan of 10^6 scalar steps: ``acc_t = acc_{t-1} + x_t``.

opgraph NUMBA (``opgraph.scan`` over a vector, the whole trace returned) against
``np.cumsum`` (target: within 3x per call), and JAX ``lax.scan`` / ``jnp.cumsum`` under
``jax.jit`` when installed.  The scan's loop runs inside the one jitted graph function:
the per-step work is one add and one store, so the gap to ``np.cumsum`` is the loop's
bookkeeping.
"""

import numpy as np

from common import OPGRAPH, check_same, jax_module, report, timeit

N = 1_000_000


def main():
    import opgraph
    import opgraph.tensor as opt

    x = np.random.default_rng(0).normal(size=N)
    reference = np.cumsum(x)
    rows = [("numpy", lambda: np.cumsum(x))]

    xv = opt.vector("x")
    trace, _ = opgraph.scan(lambda v, acc: acc + v, sequences=xv, outputs_info=opt.constant(0.0))
    f = opgraph.function([xv], trace, mode="NUMBA", trust_input=True)
    rows.append((OPGRAPH, lambda: f(x)))

    jx = jax_module()
    if jx:
        jax, jnp = jx

        def scan_cumsum(x):
            def step(acc, v):
                acc = acc + v
                return acc, acc
            return jax.lax.scan(step, jnp.zeros((), x.dtype), x)[1]

        jitted = jax.jit(scan_cumsum)
        rows.append(("jax lax.scan", lambda: jax.block_until_ready(jitted(x))))
        cumsum = jax.jit(jnp.cumsum)
        rows.append(("jax jnp.cumsum", lambda: jax.block_until_ready(cumsum(x))))

    timed = []
    for label, fn in rows:
        check_same(fn(), reference, rtol=1e-9, atol=1e-9)
        timed.append((label, timeit(fn)))
    return report("scan cumulative sum n=1e+06 (scalar steps)", timed)


if __name__ == "__main__":
    main()

"""W1: call overhead, exp of 1,000 floats."""

import numpy as np

from common import available, report, timeit

import opgraph
import opgraph.tensor as pt


def main():
    x = pt.vector("x")
    xv = np.random.default_rng(0).standard_normal(1000)
    f = opgraph.function([x], pt.exp(x), mode="NUMBA")
    ft = opgraph.function([x], pt.exp(x), mode="NUMBA", trust_input=True)
    rows = [("numpy", timeit(lambda: np.exp(xv))),
            ("opgraph NUMBA", timeit(lambda: f(xv))),
            ("opgraph NUMBA trust_input", timeit(lambda: ft(xv)))]
    if available("jax"):
        import jax
        import jax.numpy as jnp

        jf = jax.jit(jnp.exp)
        rows.append(("jax", timeit(lambda: jf(xv).block_until_ready())))
    return report("W1 exp(1e3)", rows)


if __name__ == "__main__":
    main()

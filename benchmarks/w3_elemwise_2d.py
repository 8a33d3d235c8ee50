"""W3: exp(2*x*y + y) on 200x500."""

import numpy as np

from common import available, report, timeit

import opgraph
import opgraph.tensor as pt


def main():
    x, y = pt.matrix("x"), pt.matrix("y")
    f = opgraph.function([x, y], pt.exp(2 * x * y + y), mode="NUMBA", trust_input=True)
    rng = np.random.default_rng(0)
    xv, yv = rng.standard_normal((200, 500)), rng.standard_normal((200, 500))
    rows = [("numpy", timeit(lambda: np.exp(2 * xv * yv + yv))),
            ("opgraph NUMBA", timeit(lambda: f(xv, yv)))]
    if available("jax"):
        import jax
        import jax.numpy as jnp

        jf = jax.jit(lambda a, b: jnp.exp(2 * a * b + b))
        rows.append(("jax", timeit(lambda: jf(xv, yv).block_until_ready())))
    return report("W3 exp(2xy+y) 200x500", rows)


if __name__ == "__main__":
    main()

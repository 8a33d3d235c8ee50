"""W2: fused logp = -((x - mu)**2)/2 and its gradient; floor = memcpy of the same bytes."""

import numpy as np

from common import report, timeit

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad


def main(sizes=(10**5, 10**6, 10**7)):
    x, mu = pt.vector("x"), pt.scalar("mu")
    logp = -((x - mu) ** 2) / 2
    g = grad(logp.sum(), x)
    f = opgraph.function([x, mu], [logp, g], mode="NUMBA", trust_input=True)
    lines = []
    for n in sizes:
        xv = np.random.default_rng(0).standard_normal(n)
        muv = np.array(0.3)

        def numpy_version():
            d = xv - 0.3
            return -(d ** 2) / 2, -d

        out = np.empty_like(xv)
        rows = [("numpy", timeit(numpy_version)),
                ("opgraph NUMBA", timeit(lambda: f(xv, muv))),
                ("memcpy (2 outputs)", 2 * timeit(lambda: np.copyto(out, xv)))]
        lines += report(f"W2 logp+grad n={n:.0e}", rows)
    return lines


if __name__ == "__main__":
    main()

"""W2: fused logp = -((x - mu)**2)/2 and its gradient; floor = memcpy of the same bytes."""

import numpy as np

from common import check_same, compile_all, compile_opgraph_jax, jax_module, report, timeit


def build(pt, grad):
    x, mu = pt.vector("x"), pt.scalar("mu")
    logp = -((x - mu) ** 2) / 2
    return [x, mu], [logp, grad(logp.sum(), x)]


def jax_logp_grad(jax):
    def logp(x, mu):
        return -((x - mu) ** 2) / 2

    return jax.jit(lambda x, mu: (logp(x, mu), jax.grad(lambda v: logp(v, mu).sum())(x)))


def main(sizes=(10**5, 10**6, 10**7)):
    fns = compile_all(build, trust_input=True)
    jx = jax_module()
    jf = jax_logp_grad(jx[0]) if jx else None
    ofj = compile_opgraph_jax(build)
    lines = []
    for n in sizes:
        xv = np.random.default_rng(0).standard_normal(n)
        muv = np.array(0.3)

        def numpy_version():
            d = xv - 0.3
            return -(d ** 2) / 2, -d

        out = np.empty_like(xv)
        rows = [("numpy", timeit(numpy_version))]
        for label, f in fns:
            check_same(f(xv, muv), numpy_version())
            rows.append((label, timeit(lambda: f(xv, muv))))
        if jf:
            check_same(jf(xv, muv), numpy_version())
            rows.append(("jax", timeit(lambda: jx[0].block_until_ready(jf(xv, muv)))))
        for label, f in ofj:
            check_same(f(xv, muv), numpy_version())
            rows.append((label, timeit(lambda: f(xv, muv))))
        rows.append(("memcpy (2 outputs)", 2 * timeit(lambda: np.copyto(out, xv))))
        lines += report(f"W2 logp+grad n={n:.0e}", rows)
    return lines


if __name__ == "__main__":
    main()

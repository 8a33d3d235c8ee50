"""W3: exp(2*x*y + y) on 200x500."""

import numpy as np

from common import check_same, compile_all, compile_opgraph_jax, jax_module, report, timeit


def build(pt, grad):
    x, y = pt.matrix("x"), pt.matrix("y")
    return [x, y], pt.exp(2 * x * y + y)


def main():
    rng = np.random.default_rng(0)
    xv, yv = rng.standard_normal((200, 500)), rng.standard_normal((200, 500))
    expected = np.exp(2 * xv * yv + yv)
    rows = [("numpy", timeit(lambda: np.exp(2 * xv * yv + yv)))]
    for label, f in compile_all(build, trust_input=True):
        check_same(f(xv, yv), expected)
        rows.append((label, timeit(lambda: f(xv, yv))))
    jx = jax_module()
    if jx:
        jax, jnp = jx
        jf = jax.jit(lambda a, b: jnp.exp(2 * a * b + b))
        check_same(jf(xv, yv), expected)
        rows.append(("jax", timeit(lambda: jf(xv, yv).block_until_ready())))
        for label, f in compile_opgraph_jax(build):
            check_same(f(xv, yv), expected)
            rows.append((label, timeit(lambda: f(xv, yv))))
    return report("W3 exp(2xy+y) 200x500", rows)


if __name__ == "__main__":
    main()

"""W1: call overhead, exp of 1,000 floats."""

import numpy as np

from common import check_same, compile_all, compile_opgraph_jax, jax_module, report, timeit


def build(pt, grad):
    x = pt.vector("x")
    return [x], pt.exp(x)


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
        rows.append(("jax", timeit(lambda: jf(xv).block_until_ready())))
        for label, f in compile_opgraph_jax(build, False) + compile_opgraph_jax(build, True, " trust_input"):
            check_same(f(xv), np.exp(xv))
            rows.append((label, timeit(lambda: f(xv))))
    return report("W1 exp(1e3)", rows)


if __name__ == "__main__":
    main()

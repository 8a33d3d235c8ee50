"""W4: one logistic-regression gradient-descent step (seed 002) at 100x5 and 100,000x50."""

import numpy as np

from common import check_same, compile_all, compile_opgraph_jax, jax_module, report, timeit


def build(pt, grad):
    X, y = pt.matrix("X"), pt.vector("y")
    alpha, beta, lr = pt.scalar("alpha"), pt.vector("beta"), pt.scalar("lr")
    p = pt.sigmoid(alpha + X @ beta)
    loss = -(y * pt.log(p) + (1 - y) * pt.log(1 - p)).mean()
    ga, gb = grad(loss, [alpha, beta])
    return [X, y, alpha, beta, lr], [loss, alpha - lr * ga, beta - lr * gb]


def numpy_step(X, y, alpha, beta, lr):
    z = alpha + X @ beta
    p = 1 / (1 + np.exp(-z))
    loss = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
    d = (p - y) / len(y)
    return loss, alpha - lr * d.sum(), beta - lr * (X.T @ d)


def jax_step(jax, jnp):
    def loss(alpha, beta, X, y):
        p = jax.nn.sigmoid(alpha + X @ beta)
        return -(y * jnp.log(p) + (1 - y) * jnp.log(1 - p)).mean()

    def step(X, y, alpha, beta, lr):
        value, (ga, gb) = jax.value_and_grad(loss, argnums=(0, 1))(alpha, beta, X, y)
        return value, alpha - lr * ga, beta - lr * gb

    return jax.jit(step)


def main(shapes=((100, 5), (100_000, 50))):
    fns = compile_all(build, trust_input=True)
    jx = jax_module()
    jf = jax_step(*jx) if jx else None
    ofj = compile_opgraph_jax(build)
    lines = []
    rng = np.random.default_rng(0)
    for n, k in shapes:
        X = rng.standard_normal((n, k))
        y = (rng.random(n) > 0.5).astype(float)
        args = (X, y, np.array(0.1), rng.standard_normal(k), np.array(0.01))
        expected = numpy_step(*args)
        rows = [("numpy", timeit(lambda: numpy_step(*args)))]
        for label, f in fns:
            check_same(f(*args), expected)
            rows.append((label, timeit(lambda: f(*args))))
        if jf:
            check_same(jf(*args), expected)
            rows.append(("jax", timeit(lambda: jx[0].block_until_ready(jf(*args)))))
        for label, f in ofj:
            check_same(f(*args), expected)
            rows.append((label, timeit(lambda: f(*args))))
        lines += report(f"W4 logistic step {n}x{k}", rows)
    return lines


if __name__ == "__main__":
    main()

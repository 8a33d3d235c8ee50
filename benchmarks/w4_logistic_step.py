"""W4: one logistic-regression gradient-descent step (seed 002) at 100x5 and 100,000x50."""

import numpy as np

from common import report, timeit

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad


def build():
    X, y = pt.matrix("X"), pt.vector("y")
    alpha, beta, lr = pt.scalar("alpha"), pt.vector("beta"), pt.scalar("lr")
    p = pt.sigmoid(alpha + X @ beta)
    loss = -(y * pt.log(p) + (1 - y) * pt.log(1 - p)).mean()
    ga, gb = grad(loss, [alpha, beta])
    return opgraph.function([X, y, alpha, beta, lr], [loss, alpha - lr * ga, beta - lr * gb],
                            mode="NUMBA", trust_input=True)


def numpy_step(X, y, alpha, beta, lr):
    z = alpha + X @ beta
    p = 1 / (1 + np.exp(-z))
    loss = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
    d = (p - y) / len(y)
    return loss, alpha - lr * d.sum(), beta - lr * (X.T @ d)


def main(shapes=((100, 5), (100_000, 50))):
    f = build()
    lines = []
    rng = np.random.default_rng(0)
    for n, k in shapes:
        X = rng.standard_normal((n, k))
        y = (rng.random(n) > 0.5).astype(float)
        args = (X, y, np.array(0.1), rng.standard_normal(k), np.array(0.01))
        np.testing.assert_allclose(f(*args)[0], numpy_step(*args)[0])
        rows = [("numpy", timeit(lambda: numpy_step(*args))), ("opgraph NUMBA", timeit(lambda: f(*args)))]
        lines += report(f"W4 logistic step {n}x{k}", rows)
    return lines


if __name__ == "__main__":
    main()

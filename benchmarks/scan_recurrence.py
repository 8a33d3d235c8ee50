"""A long recurrence: ``x_t = tanh(W x_{t-1} + u_t)``, T = 1,000 steps, 50 states.

Forward (the whole trace) and forward+grad (``cost = trace.sum()``, gradients w.r.t. ``W``
and ``x0``): opgraph NUMBA (``opgraph.scan``) against a NumPy loop, PyTensor NUMBA and C
(``pytensor.scan``, same graph) and JAX ``lax.scan`` under ``jax.jit`` when installed.
Compile time is reported as ``function(...)`` (``jax.jit``) plus the first call, opgraph
compiling into an empty disk cache (a temporary ``OPGRAPH_CACHE_DIR``).
"""

import os
import tempfile
import time

import numpy as np

from common import OPGRAPH, available, check_same, jax_module, pytensor_modes, report, timeit

T, N = 1000, 50


def _data():
    rng = np.random.default_rng(0)
    W = rng.normal(0.0, 1.0 / np.sqrt(N), size=(N, N))
    u = rng.normal(0.0, 0.5, size=(T, N))
    x0 = rng.normal(0.0, 0.5, size=N)
    return W, u, x0


def numpy_forward(W, u, x0):
    xs = np.empty((T, N))
    x = x0
    for t in range(T):
        x = np.tanh(W @ x + u[t])
        xs[t] = x
    return xs


def numpy_forward_grad(W, u, x0):
    xs = numpy_forward(W, u, x0)
    gW, gx = np.zeros_like(W), np.zeros(N)
    for t in range(T - 1, -1, -1):
        gx = gx + 1.0                       # d cost / d x_t (trace.sum()) plus what flows back
        d = gx * (1.0 - xs[t] ** 2)
        prev = xs[t - 1] if t else x0
        gW += np.outer(d, prev)
        gx = W.T @ d
    return xs.sum(), gW, gx


def build(pt, scan, grad):
    """The same graph for opgraph and PyTensor (opgraph mirrors the API)."""
    W, u, x0 = pt.matrix("W"), pt.matrix("u"), pt.vector("x0")
    xs, _ = scan(lambda u_t, x_prev, W: pt.tanh(pt.dot(W, x_prev) + u_t), sequences=u, outputs_info=x0,
                 non_sequences=W)
    cost = xs.sum()
    gW, gx0 = grad(cost, [W, x0])
    return [W, u, x0], {"forward": [xs], "forward+grad": [cost, gW, gx0]}


def _timed_compile(make, args):
    t0 = time.perf_counter()
    f = make()
    f(*args)
    return f, time.perf_counter() - t0


def main():
    W, u, x0 = _data()
    args = (W, u, x0)
    reference = {"forward": [numpy_forward(*args)], "forward+grad": list(numpy_forward_grad(*args))}
    impls = {kind: [("numpy", (lambda kind=kind: numpy_forward(*args) if kind == "forward"
                                    else numpy_forward_grad(*args)))] for kind in reference}
    compiles = {kind: [] for kind in reference}

    import opgraph
    import opgraph.tensor as opt
    from opgraph.gradient import grad as ograd

    inputs, outs = build(opt, opgraph.scan, ograd)
    saved = os.environ.get("OPGRAPH_CACHE_DIR")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["OPGRAPH_CACHE_DIR"] = cache   # an empty disk cache: the cold compile
        try:
            for kind, o in outs.items():
                f, sec = _timed_compile(lambda o=o: opgraph.function(inputs, o, mode="NUMBA", trust_input=True), args)
                impls[kind].append((OPGRAPH, lambda f=f: f(*args)))
                compiles[kind].append((OPGRAPH, sec))
        finally:
            if saved is None:
                os.environ.pop("OPGRAPH_CACHE_DIR", None)
            else:
                os.environ["OPGRAPH_CACHE_DIR"] = saved

    modes = pytensor_modes()
    if modes:
        import pytensor
        import pytensor.tensor as ppt
        from pytensor.gradient import grad as pgrad

        for label, mode in modes:
            inputs_p, outs_p = build(ppt, pytensor.scan, pgrad)
            for kind, o in outs_p.items():
                f, sec = _timed_compile(lambda o=o: pytensor.function(inputs_p, o, mode=mode, trust_input=True),
                                        args)
                impls[kind].append((label, lambda f=f: f(*args)))
                compiles[kind].append((label, sec))
    elif not available("pytensor"):
        print("  (PyTensor is not installed: no pytensor rows)")

    jx = jax_module()
    if jx:
        jax, jnp = jx

        def forward(W, u, x0):
            def step(x, u_t):
                x = jnp.tanh(W @ x + u_t)
                return x, x
            return jax.lax.scan(step, x0, u)[1]

        def cost(W, x0, u):
            return forward(W, u, x0).sum()

        value_and_grad = jax.value_and_grad(cost, argnums=(0, 1))

        def fwd_grad(W, u, x0):
            c, (gW, gx) = value_and_grad(W, x0, u)
            return c, gW, gx

        for kind, fn in (("forward", forward), ("forward+grad", fwd_grad)):
            jitted = jax.jit(fn)

            def call(jitted=jitted):
                return jax.block_until_ready(jitted(W, u, x0))

            t0 = time.perf_counter()
            call()
            compiles[kind].append(("jax lax.scan", time.perf_counter() - t0))
            impls[kind].append(("jax lax.scan", call))

    records = []
    for kind, rows in impls.items():
        timed = []
        for label, fn in rows:
            got = fn()
            check_same(list(got) if isinstance(got, (list, tuple)) else [got], reference[kind], rtol=1e-6,
                       atol=1e-8)
            timed.append((label, timeit(fn, min_time=0.5, repeat=5)))
        records += report(f"scan tanh(W x + u) T={T} n={N}, {kind}", timed, baseline="numpy")
    for kind, rows in compiles.items():
        records += report(f"scan tanh(W x + u) T={T} n={N}, {kind}: compile + first call", rows, baseline=None)
    return records


if __name__ == "__main__":
    main()

"""Attention forward + backward: 4 heads, d = 64, sequence 1,024 and 4,096, float64.

The graph is ``scaled_dot_product_attention(q, k, v)`` and the gradients of
``sum(out * w)`` with respect to q, k and v (w a fixed cotangent):

- opgraph NUMBA fused: ``fuse_attention`` before ``grad`` (FusedAttention and
  FusedAttentionGrad, the tiled online-softmax kernels);
- opgraph NUMBA unfused: the same graph compiled with the rewrite excluded
  (matmul, softmax, matmul and their pullbacks: n x n scores and weights);
- numpy: the unfused forward and backward written by hand (also the reference);
- PyTensor NUMBA (when installed) and JAX (``jax.jit`` of ``jax.vjp``, float64).

Peak memory is the process's resident-set high-water mark during one call above its
resident size before it (``/proc/self/clear_refs`` resets the mark): it sees every
allocator (NumPy, Numba's, XLA's), which tracemalloc does not.

    python benchmarks/attention.py [n ...]
"""

import sys

import numpy as np

from common import fmt, jax_module, report, timeit

HEADS, D = 4, 64
SIZES = (1024, 4096)
LAST_MEMORY = []   # (n, label, peak bytes) of the last main() run: memory_markdown(LAST_MEMORY)


def _status():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmHWM", "VmRSS")):
                key, val = line.split(":")
                out[key] = int(val.split()[0]) * 1024
    return out


def peak_bytes(fn):
    """Resident memory the call adds at its peak (bytes)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _status()["VmRSS"]
    fn()
    return max(_status()["VmHWM"] - before, 0)


def numpy_attention(q, k, v, w):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    out = p @ v
    dv = np.swapaxes(p, -1, -2) @ w
    dp = w @ np.swapaxes(v, -1, -2)
    ds = p * (dp - np.sum(dp * p, -1, keepdims=True)) / np.sqrt(q.shape[-1])
    return out, ds @ k, np.swapaxes(ds, -1, -2) @ q, dv


def _opgraph_fns():
    import opgraph
    import opgraph.tensor as pt
    from opgraph.gradient import grad
    from opgraph.kernel_core.compile.mode import get_mode
    from opgraph.kernel_core.rewriting.attention import fuse_attention

    q, k, v, w = (pt.tensor(n, shape=(HEADS, None, D)) for n in "qkvw")
    y = pt.nnet.scaled_dot_product_attention(q, k, v)
    fused = fuse_attention(y)
    fns = {}
    for label, out, mode in (("opgraph NUMBA fused", fused, "NUMBA"),
                             ("opgraph NUMBA unfused", y, get_mode("NUMBA").excluding("fused_attention"))):
        outs = [out] + grad((out * w).sum(), [q, k, v])
        fns[label] = opgraph.function([q, k, v, w], outs, mode=mode, trust_input=True)
    return fns


def _pytensor_fn():
    from common import available

    if not available("pytensor"):
        return None
    import pytensor
    import pytensor.tensor as ppt

    q, k, v, w = (ppt.tensor(n, shape=(HEADS, None, D)) for n in "qkvw")
    s = (q @ k.transpose(0, 2, 1)) / np.sqrt(D)
    y = ppt.special.softmax(s, axis=-1) @ v
    outs = [y] + pytensor.grad((y * w).sum(), [q, k, v])
    return pytensor.function([q, k, v, w], outs, mode="NUMBA", trust_input=True)


def _jax_fn():
    jx = jax_module()
    if jx is None:
        return None
    jax, jnp = jx

    def attention(q, k, v):
        s = q @ jnp.swapaxes(k, -1, -2) / jnp.sqrt(q.shape[-1])
        return jax.nn.softmax(s, axis=-1) @ v

    @jax.jit
    def fwd_bwd(q, k, v, w):
        out, vjp = jax.vjp(attention, q, k, v)
        return (out, *vjp(w))

    return lambda *a: [x.block_until_ready() for x in fwd_bwd(*a)]


def main(sizes=SIZES):
    g = np.random.default_rng(0)
    ours = _opgraph_fns()
    others = {"pytensor NUMBA": _pytensor_fn(), "jax": _jax_fn()}
    records, memory = [], []
    for n in sizes:
        q, k, v, w = (g.normal(size=(HEADS, n, D)) for _ in range(4))
        want = numpy_attention(q, k, v, w)
        impls = [("numpy", lambda: numpy_attention(q, k, v, w))]
        impls += [(label, lambda f=f: f(q, k, v, w)) for label, f in ours.items()]
        impls += [(label, lambda f=f: f(q, k, v, w)) for label, f in others.items() if f is not None]
        rows = []
        for label, fn in impls:
            got = fn()
            for a, b in zip(got, want):
                np.testing.assert_allclose(np.asarray(a), b, rtol=1e-8, atol=1e-10)
            rows.append((label, timeit(fn, min_time=0.5, repeat=3)))
            peak = peak_bytes(fn)
            memory.append((n, label, peak))
            records.append((f"attention fwd+bwd n={n} peak memory", label, peak))
        records += report(f"attention fwd+bwd h={HEADS} n={n} d={D}", rows)
        unfused = {label: p for m, label, p in memory if m == n}.get("opgraph NUMBA unfused")
        for m, label, p in memory:
            if m == n:
                share = f"  ({p / unfused:.3f} of unfused)" if unfused else ""
                print(f"  peak memory {label:<24} {p / 2**20:9.1f} MiB{share}")
    LAST_MEMORY[:] = memory
    return [r for r in records if "peak memory" not in r[0]]


def memory_markdown(memory):
    lines = ["| n | implementation | peak memory | share of opgraph unfused |", "|---|---|---|---|"]
    unfused = {n: p for n, label, p in memory if label == "opgraph NUMBA unfused"}
    for n, label, p in memory:
        base = unfused.get(n)
        lines.append(f"| {n} | {label} | {p / 2**20:.1f} MiB | {p / base:.3f} |" if base else
                     f"| {n} | {label} | {p / 2**20:.1f} MiB | |")
    return lines


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or SIZES)


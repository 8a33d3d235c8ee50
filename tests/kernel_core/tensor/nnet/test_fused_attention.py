"""FusedAttention / FusedAttentionGrad against the unfused attention graph: values and
gradients (no mask, additive and boolean masks, heads, n_q != n_k, several blocks),
errors, dropout, and the memory of the fused kernel at n = 8,192 (no n x n array).
NUMBA = PYTHON and the compiled kernels are tested in
tests/kernel_core/backends/numba/test_dual_mode_attention.py."""

import tracemalloc

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad
from opgraph.kernel_core.compile.mode import get_mode
from opgraph.kernel_core.tensor.blockwise import Blockwise
from opgraph.kernel_core.tensor.nnet.attention_fused import (
    BLOCK_K, BLOCK_Q, FusedAttention, FusedAttentionGrad, attention_forward, fused_attention, workspace_bytes)

nn = pt.nnet
RNG = np.random.default_rng(7)
# The unfused reference must stay unfused: compile it without the rewrite.
UNFUSED = get_mode("PYTHON").excluding("fused_attention")


def _pair(q, k, v, mask, scale, wrt, shape_out):
    """(fused outputs + grads, unfused outputs + grads) as graphs, for the cost sum(out * w)."""
    w = pt.tensor("w", shape=(None,) * len(shape_out))
    fused = fused_attention(q, k, v, scale, mask=mask)
    plain = nn.scaled_dot_product_attention(q, k, v, mask=mask, scale=scale)
    outs = []
    for y in (fused, plain):
        outs.append([y] + grad((y * w).sum(), wrt))
    return w, outs


CASES = {
    # name: (batch, n_q, n_k, d, e, mask shape or None, mask kind)
    "single head, no mask": ((), 7, 5, 3, 4, None, None),
    "heads, several blocks, n_q != n_k": ((2, 3), BLOCK_Q + 9, BLOCK_K + 17, 4, 3, None, None),
    "additive mask, full": ((2,), 40, 70, 5, 2, (2, 40, 70), "add"),
    "additive mask, broadcast row": ((3,), 33, BLOCK_K + 5, 4, 4, (1, 1, BLOCK_K + 5), "add"),
    "boolean causal mask": ((2,), BLOCK_Q + 3, BLOCK_Q + 3, 4, 3, (BLOCK_Q + 3, BLOCK_Q + 3), "bool"),
}


def _values(batch, nq, nk, d, e, mshape, kind):
    q, k, v = (RNG.normal(size=batch + (n, c)) for n, c in ((nq, d), (nk, d), (nk, e)))
    mask = None
    if kind == "add":
        mask = RNG.normal(size=mshape)
    elif kind == "bool":
        mask = np.tril(np.ones(mshape, dtype=bool))       # every row keeps its first key
    w = RNG.normal(size=batch + (nq, e))
    return q, k, v, mask, w


@pytest.mark.parametrize("name", list(CASES))
def test_fused_equals_unfused_values_and_gradients(name):
    batch, nq, nk, d, e, mshape, kind = CASES[name]
    qv, kv, vv, mv, wv = _values(batch, nq, nk, d, e, mshape, kind)
    nd = len(batch) + 2
    q, k, v = (pt.tensor(n, shape=(None,) * nd) for n in "qkv")
    mask = None if kind is None else pt.tensor("m", shape=tuple(1 if s == 1 else None for s in mshape),
                                               dtype="bool" if kind == "bool" else "float64")
    scale = pt.dscalar("scale")
    wrt = [q, k, v, scale] + ([mask] if kind == "add" else [])
    w, (fused, plain) = _pair(q, k, v, mask, scale, wrt, batch + (nq, e))
    inputs = [q, k, v, scale, w] + ([mask] if mask is not None else [])
    args = [qv, kv, vv, np.float64(0.4), wv] + ([mv] if mv is not None else [])
    got = opgraph.function(inputs, fused, mode="PYTHON")(*args)
    want = opgraph.function(inputs, plain, mode=UNFUSED)(*args)
    for g, wnt, label in zip(got, want, ["out", "dq", "dk", "dv", "dscale", "dmask"]):
        np.testing.assert_allclose(g, wnt, rtol=1e-10, atol=1e-12, err_msg=label)
    # the fused graph really is fused: one forward and one backward node, no softmax
    f = opgraph.function(inputs, fused, mode="PYTHON")
    cores = [type(n.op.core_op if isinstance(n.op, Blockwise) else n.op).__name__ for n in f.maker.fgraph.apply_nodes]
    assert cores.count("FusedAttention") == 1 and cores.count("FusedAttentionGrad") == 1
    assert "Softmax" not in cores


def test_the_log_sum_exp_output_and_its_gradient():
    """lse is logsumexp of the scores; its cotangent is the softmax (d lse / d s = p)."""
    q, k, v = pt.dmatrix("q"), pt.dmatrix("k"), pt.dmatrix("v")
    qv, kv, vv = RNG.normal(size=(6, 3)), RNG.normal(size=(9, 3)), RNG.normal(size=(9, 2))
    out, lse = FusedAttention()(q, k, v, 0.5)
    s = 0.5 * qv @ kv.T
    want_lse = np.log(np.exp(s - s.max(1, keepdims=True)).sum(1)) + s.max(1)
    cost = lse.sum() + out.sum()
    g = grad(cost, [q, k])
    got = opgraph.function([q, k, v], [lse] + g, mode="PYTHON")(qv, kv, vv)
    np.testing.assert_allclose(got[0], want_lse, rtol=1e-13)
    plain_s = (q @ k.T) * 0.5
    plain_cost = pt.logsumexp(plain_s, axis=1).sum() + (pt.special.softmax(plain_s, axis=1) @ v).sum()
    want = opgraph.function([q, k, v], grad(plain_cost, [q, k]), mode=UNFUSED)(qv, kv, vv)
    for a, b in zip(got[1:], want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_fully_masked_rows_give_nan_like_softmax():
    q, k, v = pt.dmatrix("q"), pt.dmatrix("k"), pt.dmatrix("v")
    m = pt.matrix("m", dtype="bool")
    mv = np.ones((4, 2 * BLOCK_K), dtype=bool)
    mv[1] = False                       # row 1: every key masked
    mv[2, :BLOCK_K] = False             # row 2: the whole first block masked, then live keys
    args = RNG.normal(size=(4, 3)), RNG.normal(size=(2 * BLOCK_K, 3)), RNG.normal(size=(2 * BLOCK_K, 2)), mv
    got = fused_attention(q, k, v, 1.0, mask=m).eval(dict(zip([q, k, v, m], args)))
    want = opgraph.function([q, k, v, m], nn.scaled_dot_product_attention(q, k, v, mask=m, scale=1.0),
                            mode=UNFUSED)(*args)
    assert np.isnan(got[1]).all() and np.isnan(want[1]).all()
    np.testing.assert_allclose(got[[0, 2, 3]], want[[0, 2, 3]], rtol=1e-12)


def test_errors():
    q, k, v = pt.dmatrix("q"), pt.dmatrix("k"), pt.dmatrix("v")
    with pytest.raises(ValueError, match="mask_kind must be one of"):
        FusedAttention("causal")
    with pytest.raises(ValueError, match="the core op takes matrices"):
        FusedAttention()(pt.tensor3("q"), k, v, 1.0)
    with pytest.raises(ValueError, match="scale must be a scalar"):
        FusedAttention()(q, k, v, pt.dvector("s"))
    with pytest.raises(TypeError, match="must be boolean"):
        FusedAttention("bool")(q, k, v, 1.0, pt.dmatrix("m"))
    m = pt.dmatrix("m")
    y = fused_attention(q, k, v, 1.0, mask=m)
    f = opgraph.function([q, k, v, m], y, mode="PYTHON")
    with pytest.raises(ValueError, match=r"the mask has shape \(2, 3\); the scores are \(4, 5\)"):
        f(np.ones((4, 2)), np.ones((5, 2)), np.ones((5, 1)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="q has 2 features per row, k has 3"):
        f(np.ones((4, 2)), np.ones((5, 3)), np.ones((5, 1)), np.ones((4, 5)))
    assert isinstance(FusedAttentionGrad("add"), FusedAttentionGrad)


def _peak_bytes(nq, nk, d):
    g = np.random.default_rng(0)
    q, k, v = g.normal(size=(nq, d)), g.normal(size=(nk, d)), g.normal(size=(nk, d))
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        out, lse = attention_forward(q, k, v, 1 / 8)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.shape == (nq, d) and np.isfinite(out).all()
    return peak


def test_no_n_q_by_n_k_array_with_8192_keys():
    """2 blocks of queries against 8,192 keys: the forward kernel's peak allocation is the
    output, the accumulators and the declared block workspace, not an n_q x n_k array."""
    nq, nk, d = 2 * BLOCK_Q, 8192, 64
    assert workspace_bytes() < nq * nk * 8 / 4
    peak = _peak_bytes(nq, nk, d)
    assert peak < nq * nk * 8 / 4, peak
    assert peak < 4 * nq * d * 8 + 4 * workspace_bytes(), peak


@pytest.mark.slow
def test_no_n_by_n_array_at_n_8192():
    """n = 8,192, d = 64: a peak of a few n x d arrays plus the block workspace -- far below
    one n x n array (512 MiB).  A size, not a time (about 20 s of BLAS on a loaded machine)."""
    n, d = 8192, 64
    peak = _peak_bytes(n, n, d)
    assert peak < n * n * 8 / 20, peak
    assert peak < 4 * n * d * 8 + 4 * workspace_bytes(), peak


# -- dropout inside the fused op ----------------------------------------------------------
from opgraph.kernel_core.tensor.nnet.attention_fused import attention_backward, dropout_keep  # noqa: E402


def _fused_dropout_fn(p, mode="PYTHON", mask_kind=None):
    q, k, v, w = pt.dmatrix("q"), pt.dmatrix("k"), pt.dmatrix("v"), pt.dmatrix("w")
    seed = pt.lscalar("seed")
    y = fused_attention(q, k, v, 0.7, dropout_p=p, seed=seed)
    outs = [y] + grad((y * w).sum(), [q, k, v])
    return opgraph.function([q, k, v, w, seed], outs, mode=mode)


def _qkvw(nq=9, nk=BLOCK_K + 7, d=3, e=2, seed=0):
    g = np.random.default_rng(seed)
    return [g.normal(size=s) for s in ((nq, d), (nk, d), (nk, e), (nq, e))]


def test_dropout_p0_equals_no_dropout_and_the_seed_fixes_the_mask():
    q, k, v, w = _qkvw()
    base = attention_forward(q, k, v, 0.7)
    p0 = attention_forward(q, k, v, 0.7, dropout_p=0.0, seed=3)
    np.testing.assert_array_equal(base[0], p0[0])
    assert dropout_keep(3, 0, 9, 0, 50, 50, 0.0).all()
    f = _fused_dropout_fn(0.3)
    a, b, c = f(q, k, v, w, 11), f(q, k, v, w, 11), f(q, k, v, w, 12)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert np.abs(a[0] - c[0]).max() > 1e-3
    assert np.abs(a[0] - base[0]).max() > 1e-3


def test_dropout_keep_rate_and_scaling():
    """v = identity: the output is the dropped weights themselves, z = softmax * keep / (1 - p)."""
    p, nq, nk = 0.3, 64, BLOCK_K + 44
    g = np.random.default_rng(1)
    q, k = g.normal(size=(nq, 4)), g.normal(size=(nk, 4))
    z, lse = attention_forward(q, k, np.eye(nk), 0.5, dropout_p=p, seed=5)
    s = 0.5 * q @ k.T
    soft = np.exp(s - lse[:, None])
    kept = z != 0
    rate = kept.mean()
    assert abs(rate - (1 - p)) < 4 * np.sqrt(p * (1 - p) / z.size), rate
    np.testing.assert_allclose(z[kept], soft[kept] / (1 - p), rtol=1e-12)
    np.testing.assert_array_equal(kept, dropout_keep(5, 0, nq, 0, nk, nk, p))
    # heads get different masks: seeds differ by one
    assert (dropout_keep(5, 0, nq, 0, nk, nk, p) != dropout_keep(6, 0, nq, 0, nk, nk, p)).mean() > 0.3


def test_dropout_gradient_by_finite_differences_at_a_fixed_seed():
    q, k, v, w = _qkvw(nq=5, nk=BLOCK_K + 3)
    seed, p, scale = 4, 0.25, 0.7

    def cost(q_, k_, v_):
        return float(np.sum(attention_forward(q_, k_, v_, scale, dropout_p=p, seed=seed)[0] * w))

    out, lse = attention_forward(q, k, v, scale, dropout_p=p, seed=seed)
    grads = attention_backward(q, k, v, scale, None, None, out, lse, w, np.zeros(len(q)), p, seed)[:3]
    g = np.random.default_rng(2)
    eps = 1e-6
    for i, x in enumerate((q, k, v)):
        d = g.normal(size=x.shape)
        args_p, args_m = [q, k, v], [q, k, v]
        args_p[i], args_m[i] = x + eps * d, x - eps * d
        numeric = (cost(*args_p) - cost(*args_m)) / (2 * eps)
        np.testing.assert_allclose(np.sum(grads[i] * d), numeric, rtol=1e-6, atol=1e-9, err_msg="qkv"[i])
    # the graph's gradient is the op's
    got = _fused_dropout_fn(p)(q, k, v, w, seed)
    for a, b in zip(got[1:], grads):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def _rewrite_graph_with_dropout(rng):
    q, k, v = pt.tensor3("q"), pt.tensor3("k"), pt.tensor3("v")
    y = nn.scaled_dot_product_attention(q, k, v, dropout_p=0.2, rng=rng)
    return [q, k, v], y


def test_the_rewrite_fuses_dropout_and_the_generator_still_advances():
    from opgraph.kernel_core.rewriting.attention import fuse_attention
    from opgraph.kernel_core.rewriting.inference import to_inference

    srng = pt.random.RandomStream(seed=3)
    inputs, y = _rewrite_graph_with_dropout(srng)
    (upd_rng, upd), = srng.updates()
    fused, fused_upd = fuse_attention([y, upd])
    f = opgraph.function(inputs, fused, updates=[(upd_rng, fused_upd)], mode="PYTHON")
    cores = [n.op.core_op if isinstance(n.op, Blockwise) else n.op for n in f.maker.fgraph.apply_nodes]
    fa = [c for c in cores if isinstance(c, FusedAttention)]
    assert len(fa) == 1 and fa[0].dropout_p == 0.2 and "Softmax" not in [type(c).__name__ for c in cores]
    assert "BernoulliRV" not in [type(c).__name__ for c in cores]
    q, k, v = (RNG.normal(size=(2, 6, 3)) for _ in range(3))
    a, b = f(q, k, v), f(q, k, v)
    assert np.abs(a - b).max() > 1e-3          # the generator advanced between the calls
    # inference: no dropout at all, equal to the plain attention
    inf = to_inference(fused)
    g = opgraph.function(inputs, inf, mode="PYTHON")
    cores = [n.op.core_op if isinstance(n.op, Blockwise) else n.op for n in g.maker.fgraph.apply_nodes]
    assert [c.dropout_p for c in cores if isinstance(c, FusedAttention)] == [0.0]
    assert not any("RV" in type(c).__name__ for c in cores)
    want = opgraph.function(inputs, nn.scaled_dot_product_attention(*inputs), mode=UNFUSED)(q, k, v)
    np.testing.assert_allclose(g(q, k, v), want, rtol=1e-12)


def test_the_rewrite_fuses_dropout_at_compile_time_with_a_default_update():
    """rng=None: the dropout's own shared generator, advanced by its default_update; the
    fast_run rewrite (as NUMBA compiles) fuses it and the update now follows the seed draw."""
    from opgraph.kernel_core.graph.traversal import applys_between, graph_inputs
    from opgraph.kernel_core.rewriting.api import rewrite_graph

    inputs, y = _rewrite_graph_with_dropout(None)
    rng = next(v for v in graph_inputs([y]) if getattr(v, "default_update", None) is not None)
    out, upd = rewrite_graph([y, rng.default_update], include=("fast_run",), exclude=("inplace",))
    names = [type(n.op).__name__ for n in applys_between(inputs + [rng], [out, upd])]
    assert "BernoulliRV" not in names and "Softmax" not in names
    assert type(upd.owner.op).__name__ == "IntegersRV"
    assert "FusedAttention{mask=None, dropout=0.2}" in str(out.owner.op)


def test_dropout_jax_equals_python():
    """The JAX kernel computes the same keep mask (heads: seed + h) and gradients."""
    q, k, v, w = pt.tensor3("q"), pt.tensor3("k"), pt.tensor3("v"), pt.tensor3("w")
    mask = pt.matrix("m", dtype="bool")
    seed = pt.lscalar("seed")
    outs = []
    for m in (None, mask):
        y = fused_attention(q, k, v, 0.6, mask=m, dropout_p=0.35, seed=seed)
        outs += [y] + grad((y * w).sum(), [q, k, v])
    g = np.random.default_rng(4)
    vals = [g.normal(size=(2, 7, 3)), g.normal(size=(2, 9, 3)), g.normal(size=(2, 9, 2)), g.normal(size=(2, 7, 2)),
            np.tril(np.ones((7, 9), dtype=bool)), np.int64(21)]
    inputs = [q, k, v, w, mask, seed]
    got = opgraph.function(inputs, outs, mode="JAX")(*vals)
    want = opgraph.function(inputs, outs, mode="PYTHON")(*vals)
    for i, (a, b) in enumerate(zip(got, want)):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-10, atol=1e-12, err_msg=f"output {i}")
    # the two heads have different masks
    z = attention_forward(vals[0][0], vals[1][0], np.eye(9), 0.6, dropout_p=0.35, seed=21)[0]
    z1 = attention_forward(vals[0][1], vals[1][1], np.eye(9), 0.6, dropout_p=0.35, seed=22)[0]
    assert ((z == 0) != (z1 == 0)).any()

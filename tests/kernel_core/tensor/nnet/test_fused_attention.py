"""FusedAttention / FusedAttentionGrad against the unfused attention graph: values and
gradients (no mask, additive and boolean masks, heads, n_q != n_k, several blocks),
NUMBA = PYTHON, errors, and the memory of the fused kernel at n = 8,192 (no n x n array)."""

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


@pytest.fixture(scope="module")
def numba_and_python():
    """One function with every mask kind, heads and gradients, compiled in both modes."""
    q, k, v = pt.tensor3("q"), pt.tensor3("k"), pt.tensor3("v")
    madd, mbool, scale = pt.dmatrix("madd"), pt.matrix("mbool", dtype="bool"), pt.dscalar("scale")
    outs = []
    for mask in (None, madd, mbool):
        y = fused_attention(q, k, v, scale, mask=mask)
        outs += [y] + grad((y * y).sum(), [q, k, v, scale])
    inputs = [q, k, v, madd, mbool, scale]
    nq, nk = BLOCK_Q + 5, BLOCK_K + 3
    values = [RNG.normal(size=(2, nq, 4)), RNG.normal(size=(2, nk, 4)), RNG.normal(size=(2, nk, 3)),
              RNG.normal(size=(nq, nk)), RNG.random((nq, nk)) < 0.7, np.float64(0.6)]
    return [opgraph.function(inputs, outs, mode=mode)(*values) for mode in ("NUMBA", "PYTHON")]


def test_numba_equals_python(numba_and_python):
    got, want = numba_and_python
    assert len(got) == 15
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


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

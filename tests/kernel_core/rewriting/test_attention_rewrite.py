"""The fused-attention rewrite: it fires on each way users write attention (counted
nodes), the fused graph computes what the unfused one does, and it leaves alone what it
must not fuse (scores or weights used elsewhere, a softmax on another axis; dropout is fused:
tests/kernel_core/tensor/nnet/test_fused_attention.py)."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad
from opgraph.graph import rewrite_graph
from opgraph.kernel_core.compile.mode import get_mode
from opgraph.kernel_core.graph.traversal import toposort
from opgraph.kernel_core.rewriting.attention import fuse_attention
from opgraph.kernel_core.tensor.blockwise import Blockwise

nn, sm = pt.nnet, pt.special.softmax
RNG = np.random.default_rng(11)
UNFUSED = get_mode("PYTHON").excluding("fused_attention")


def _core_names(outputs):
    outputs = outputs if isinstance(outputs, list) else [outputs]
    return [type(n.op.core_op if isinstance(n.op, Blockwise) else n.op).__name__ for n in toposort(outputs)]


def _spellings():
    q2, k2, v2 = pt.dmatrix("q"), pt.dmatrix("k"), pt.dmatrix("v")
    q3, k3, v3 = pt.dtensor3("q"), pt.dtensor3("k"), pt.dtensor3("v")
    q4, k4, v4 = (pt.tensor(n, shape=(2, 3, None, e)) for n, e in zip("qkv", (4, 4, 3)))
    mb, ma = pt.matrix("mb", dtype="bool"), pt.dmatrix("ma")
    pad = pt.tensor("pad", shape=(2, 1, 1, None))      # a padding mask per batch, broadcast over heads
    return {
        "q @ k.T / sqrt(d), constant d": ([q2, k2, v2], sm(q2 @ k2.T / np.sqrt(4.0), axis=-1) @ v2),
        "pt.dot, / sqrt(shape)": ([q2, k2, v2], pt.dot(sm(pt.dot(q2, k2.T) / pt.sqrt(q2.shape[-1]), axis=1), v2)),
        "pt.matmul, no scale": ([q3, k3, v3], pt.matmul(sm(pt.matmul(q3, k3.transpose(0, 2, 1)), axis=-1), v3)),
        "scale * scores, on the left": ([q2, k2, v2], sm(0.3 * (q2 @ k2.T), axis=-1) @ v2),
        "k^T of an expression": ([q2, k2, v2], sm((q2 @ (2 * k2).T) * 0.5, axis=-1) @ v2),
        "sdpa, heads": ([q4, k4, v4], nn.scaled_dot_product_attention(q4, k4, v4)),
        "sdpa, boolean mask": ([q2, k2, v2, mb], nn.scaled_dot_product_attention(q2, k2, v2, mask=mb)),
        "sdpa, additive mask, heads": ([q3, k3, v3, ma], nn.scaled_dot_product_attention(q3, k3, v3, mask=ma)),
        "sdpa, padding mask, 4-d": ([q4, k4, v4, pad], nn.scaled_dot_product_attention(q4, k4, v4, mask=pad)),
        "switch(mask, ., -inf) by hand": ([q2, k2, v2, mb],
                                          sm(pt.switch(mb, q2 @ k2.T * 0.5, -np.inf), axis=-1) @ v2),
    }


def _values(inputs):
    nq, nk = 5, 6
    vals = []
    for var in inputs:
        name, nd = var.name, var.type.ndim
        lead = {2: (), 3: (2,), 4: (2, 3)}[nd] if name in "qkv" else None
        if name == "q":
            vals.append(RNG.normal(size=lead + (nq, 4)))
        elif name == "k":
            vals.append(RNG.normal(size=lead + (nk, 4)))
        elif name == "v":
            vals.append(RNG.normal(size=lead + (nk, 3)))
        elif name == "mb":
            vals.append(np.tril(np.ones((nq, nk), dtype=bool)))
        elif name == "ma":
            vals.append(RNG.normal(size=(nq, nk)))
        else:
            vals.append(np.where(RNG.random((2, 1, 1, nk)) < 0.8, 0.0, -1e4))
    return vals


SPELLINGS = _spellings()


@pytest.mark.parametrize("name", list(SPELLINGS))
def test_the_rewrite_fires_on_each_spelling(name):
    inputs, y = SPELLINGS[name]
    for rewritten in (fuse_attention(y), rewrite_graph(y, include=("fast_run",), exclude=("inplace",))):
        names = _core_names(rewritten)
        assert names.count("FusedAttention") == 1, names
        assert "Softmax" not in names and "Dot" not in names, names
    vals = _values(inputs)
    got = opgraph.function(inputs, fuse_attention(y), mode="PYTHON")(*vals)
    want = opgraph.function(inputs, y, mode=UNFUSED)(*vals)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_the_graph_is_not_changed_and_fusing_then_differentiating_fuses_the_gradient():
    inputs, y = SPELLINGS["sdpa, heads"]
    before = _core_names(y)
    fused = fuse_attention(y)
    assert _core_names(y) == before
    q, k, v = inputs
    g = grad(fused.sum(), [q, k, v])
    names = _core_names(g)
    assert names.count("FusedAttentionGrad") == 1 and "Softmax" not in names
    vals = _values(inputs)
    got = opgraph.function(inputs, g, mode="PYTHON")(*vals)
    want = opgraph.function(inputs, grad(y.sum(), [q, k, v]), mode=UNFUSED)(*vals)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_what_is_not_fused():
    q, k, v = pt.dmatrix("q"), pt.dmatrix("k"), pt.dmatrix("v")
    w = sm(q @ k.T, axis=-1)
    shared_weights = [w @ v, w]                                   # the weights are an output too
    other_axis = sm(q @ k.T, axis=0) @ v
    not_neg_inf = sm(pt.switch(pt.matrix("m", dtype="bool"), q @ k.T, -1.0), axis=-1) @ v
    vector_scale = sm((q @ k.T) * pt.dvector("s"), axis=-1) @ v  # not a scalar
    for y in (shared_weights, other_axis, not_neg_inf, vector_scale):
        names = _core_names(rewrite_graph(y, include=("fast_run",), exclude=("inplace",)))
        assert "FusedAttention" not in names
    # a gradient taken before fusion reuses the softmax output: left unfused
    y = sm(q @ k.T, axis=-1) @ v
    names = _core_names(rewrite_graph(grad(y.sum(), [q, k, v]) + [y], include=("fast_run",), exclude=("inplace",)))
    assert "FusedAttention" not in names and "Softmax" in names


def test_the_rule_is_tagged_and_can_be_excluded():
    inputs, y = SPELLINGS["sdpa, heads"]
    names = _core_names(rewrite_graph(y, include=("fast_run",), exclude=("inplace", "fused_attention")))
    assert "FusedAttention" not in names and "Softmax" in names
    from opgraph.kernel_core.rewriting.api import known_tags

    assert "fused_attention" in known_tags()

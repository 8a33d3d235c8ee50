"""pt.nnet layers against NumPy / SciPy references: activations, dropout (statistics,
errors, gradient), batch and layer normalization (values, running-statistics updates,
gradients) and scaled dot-product attention (masks, heads, dropout)."""

import numpy as np
import pytest
from scipy import special as sp

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad, verify_grad
from opgraph.kernel_core.tensor.nnet import BatchNorm, Dropout

nn = pt.nnet
RNG = np.random.default_rng(42)


def test_relu_and_gelu():
    x = pt.dvector("x")
    xv = np.array([-2.0, -0.5, 0.0, 0.3, 4.0])
    np.testing.assert_array_equal(nn.relu(x).eval({x: xv}), np.maximum(xv, 0))
    np.testing.assert_allclose(nn.relu(x, alpha=0.1).eval({x: xv}), np.where(xv > 0, xv, 0.1 * xv))
    np.testing.assert_allclose(nn.gelu(x).eval({x: xv}), xv * sp.ndtr(xv), rtol=1e-14)
    tanh_form = 0.5 * xv * (1 + np.tanh(np.sqrt(2 / np.pi) * (xv + 0.044715 * xv ** 3)))
    np.testing.assert_allclose(nn.gelu(x, approximate="tanh").eval({x: xv}), tanh_form, rtol=1e-14)
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        nn.gelu(x, approximate="erf")


def test_dropout_zeroes_a_fraction_p_and_scales_the_rest():
    x = pt.dmatrix("x")
    srng = pt.random.RandomStream(seed=3)
    y = nn.dropout(x, 0.25, rng=srng)
    assert isinstance(y.owner.op, Dropout) and str(y.owner.op) == "Dropout{p=0.25}"
    f = opgraph.function([x], y, updates=srng.updates(), mode="PYTHON")
    a, b = f(np.ones((200, 100))), f(np.ones((200, 100)))
    assert set(np.unique(a)) == {0.0, 1 / 0.75}
    assert abs((a == 0).mean() - 0.25) < 0.01            # 20,000 draws: sd 0.003
    assert not np.array_equal(a, b)                       # the stream advances between calls
    # the gradient is the same mask
    g = grad((y * 3).sum(), x)
    gv, yv = opgraph.function([x], [g, y], mode="PYTHON")(np.ones((4, 5)))
    np.testing.assert_array_equal(gv, 3 * yv)


def test_dropout_options_and_errors():
    x = pt.dvector("x")
    assert nn.dropout(x, 0.5, training=False) is x
    assert nn.dropout(x, 0.0) is x
    own = nn.dropout(x, 0.5)                              # its own generator, advanced by default
    f = opgraph.function([x], own, mode="PYTHON")
    assert not np.array_equal(f(np.ones(64)), f(np.ones(64)))
    with pytest.raises(ValueError, match=r"dropout: p must be in \[0, 1\), got 1.0"):
        nn.dropout(x, 1.0)
    with pytest.raises(TypeError, match="dropout: p must be a number"):
        nn.dropout(x, "half")
    with pytest.raises(TypeError, match="dropout needs a float tensor"):
        nn.dropout(pt.lvector("i"), 0.5)
    with pytest.raises(TypeError, match="rng must be None, a RandomStream or a generator variable"):
        nn.dropout(x, 0.5, rng=np.random.default_rng(0))


def _bn_reference(x, g, b, axes, eps):
    m, v = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * g + b


def test_batch_norm_training_inference_and_running_updates():
    x, g, b, rm, rv = pt.dmatrix("x"), pt.dvector("g"), pt.dvector("b"), pt.dvector("rm"), pt.dvector("rv")
    xv = RNG.normal(2.0, 3.0, size=(6, 3))
    gv, bv, rmv, rvv = RNG.uniform(0.5, 2, 3), RNG.normal(size=3), RNG.normal(size=3), RNG.uniform(0.5, 2, 3)
    vals = {x: xv, g: gv, b: bv, rm: rmv, rv: rvv}
    out, updates = nn.batch_norm(x, g, b, rm, rv, return_updates=True, momentum=0.2)
    assert isinstance(out.owner.op, BatchNorm)
    np.testing.assert_allclose(out.eval(vals), _bn_reference(xv, gv, bv, 0, 1e-5))
    np.testing.assert_allclose(updates[rm].eval(vals), 0.8 * rmv + 0.2 * xv.mean(0))
    np.testing.assert_allclose(updates[rv].eval(vals), 0.8 * rvv + 0.2 * xv.var(0, ddof=1))
    inference = nn.batch_norm(x, g, b, rm, rv, training=False, epsilon=1e-3)
    np.testing.assert_allclose(inference.eval(vals), (xv - rmv) / np.sqrt(rvv + 1e-3) * gv + bv)
    # spatial: (N, C, H, W) over all but C, parameters shaped (1, C, 1, 1)
    t = pt.tensor4("t")
    p4 = [pt.tensor4(n, shape=(1, 2, 1, 1)) for n in ("g4", "b4", "m4", "v4")]
    tv = RNG.normal(size=(3, 2, 4, 5))
    pv = [RNG.uniform(0.5, 2, size=(1, 2, 1, 1)) for _ in p4]
    spatial = nn.batch_norm(t, *p4, axes="spatial")
    np.testing.assert_allclose(spatial.eval({t: tv, **dict(zip(p4, pv))}),
                               _bn_reference(tv, pv[0], pv[1], (0, 2, 3), 1e-5))
    with pytest.raises(ValueError, match="return_updates=True needs training=True"):
        nn.batch_norm(x, g, b, rm, rv, training=False, return_updates=True)
    with pytest.raises(TypeError, match="batch_norm: axes must be"):
        nn.batch_norm(x, g, b, rm, rv, axes="everything")


def test_layer_norm():
    x, g, b = pt.dmatrix("x"), pt.dvector("g"), pt.dvector("b")
    xv, gv, bv = RNG.normal(size=(4, 5)), RNG.normal(size=5), RNG.normal(size=5)
    m, v = xv.mean(-1, keepdims=True), xv.var(-1, keepdims=True)
    np.testing.assert_allclose(nn.layer_norm(x, g, b).eval({x: xv, g: gv, b: bv}),
                               (xv - m) / np.sqrt(v + 1e-5) * gv + bv)
    np.testing.assert_allclose(nn.layer_norm(x).eval({x: xv}), (xv - m) / np.sqrt(v + 1e-5))


def test_gradients():
    xv = RNG.normal(size=(5, 3))
    verify_grad(lambda x, g, b: nn.batch_norm(x, g, b, np.zeros(3), np.ones(3)),
                [xv, RNG.uniform(0.5, 2, 3), RNG.normal(size=3)], rng=RNG)
    verify_grad(lambda x, g: nn.layer_norm(x, g), [xv, RNG.normal(size=3)], rng=RNG)
    verify_grad(nn.gelu, [xv], rng=RNG)
    q = RNG.normal(size=(2, 4, 3))
    mask = np.tril(np.ones((4, 4), dtype=bool))
    verify_grad(lambda q, k, v: nn.scaled_dot_product_attention(q, k, v, mask=mask),
                [q, RNG.normal(size=(2, 4, 3)), RNG.normal(size=(2, 4, 3))], rng=RNG)


def _attention_reference(q, k, v, mask=None, scale=None):
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    return sp.softmax(s, axis=-1) @ v


def test_scaled_dot_product_attention():
    # batch 2, heads 3, sequence 5 (keys 6), features 4
    q, k, v = pt.tensor4("q"), pt.tensor4("k"), pt.tensor4("v")
    qv, kv, vv = RNG.normal(size=(2, 3, 5, 4)), RNG.normal(size=(2, 3, 6, 4)), RNG.normal(size=(2, 3, 6, 7))
    vals = {q: qv, k: kv, v: vv}
    att = nn.scaled_dot_product_attention
    np.testing.assert_allclose(att(q, k, v).eval(vals), _attention_reference(qv, kv, vv))
    causal = np.tril(np.ones((5, 6), dtype=bool))
    np.testing.assert_allclose(att(q, k, v, mask=causal).eval(vals), _attention_reference(qv, kv, vv, causal))
    bias = RNG.normal(size=(5, 6))
    np.testing.assert_allclose(att(q, k, v, mask=bias, scale=0.3).eval(vals),
                               _attention_reference(qv, kv, vv, bias, 0.3))
    # static feature size known: the scale is a constant 1/sqrt(d)
    qs = pt.tensor3("qs", shape=(None, None, 4))
    np.testing.assert_allclose(att(qs, qs, qs).eval({qs: qv[0]}), _attention_reference(qv[0], qv[0], qv[0]))
    # dropout on the weights: a Dropout node, rows no longer sum to the values' mean
    dropped = att(q, k, v, dropout_p=0.5, rng=pt.random.RandomStream(1))
    assert _has_dropout(dropped)
    dv = dropped.eval(vals)
    assert dv.shape == (2, 3, 5, 7) and not np.allclose(dv, _attention_reference(qv, kv, vv))
    with pytest.raises(ValueError, match="q .* needs at least 2 dims"):
        att(pt.dvector("q1"), k, v)


def _has_dropout(var):
    from opgraph.kernel_core.graph.traversal import ancestors

    return any(a.owner is not None and isinstance(a.owner.op, Dropout) for a in ancestors([var]))

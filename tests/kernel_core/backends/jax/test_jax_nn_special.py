"""Softmax / LogSoftmax, convolve1d, the nnet layers, OpFromGraph and logprob checks in mode "JAX",
against mode PYTHON (one compiled function per mode for the value cases)."""

import functools

import numpy as np
import pytest

pytest.importorskip("jax")

import opgraph  # noqa: E402
import opgraph.tensor as pt  # noqa: E402
from opgraph.compile.builders import OpFromGraph  # noqa: E402
from opgraph.gradient import grad  # noqa: E402
from opgraph.kernel_core.logprob.check import ParameterValueError, check_parameters  # noqa: E402
from opgraph.logprob import logp  # noqa: E402
from opgraph.tensor.nnet import batch_norm, layer_norm, relu, gelu  # noqa: E402
from opgraph.tensor.signal import convolve1d  # noqa: E402
from opgraph.tensor.special import log_softmax, softmax  # noqa: E402


def _cases():
    x = pt.matrix("x")
    k = pt.vector("k")
    g, b = pt.vector("g"), pt.vector("b")
    rm, rv = pt.vector("rm"), pt.vector("rv")
    # A non-inline OpFromGraph keeps its node in the compiled graph: its own implementation runs.
    a_in, b_in = pt.matrix("a_in"), pt.vector("b_in")
    ofg = OpFromGraph([a_in, b_in], [pt.exp(a_in) + b_in, (a_in * b_in).sum()], inline=False)
    o1, o2 = ofg(x, g)
    sm_cost = (softmax(x, axis=1) * pt.arange(4)).sum()
    outs = [softmax(x, axis=1), softmax(x, axis=0), softmax(x), log_softmax(x, axis=1), log_softmax(x),
            grad(sm_cost, x),
            convolve1d(x, k, mode="full"), convolve1d(x, k, mode="valid"), convolve1d(x, k, mode="same"),
            grad(convolve1d(x[0], k).sum() ** 2, [k]),
            batch_norm(x, g, b, rm, rv), batch_norm(x, g, b, rm, rv, training=False), layer_norm(x, g, b),
            relu(x), gelu(x), o1, o2, grad(o2 + o1.sum(), x)]
    rng = np.random.default_rng(0)
    values = [rng.standard_normal((3, 4)), np.array([1.0, -2.0, 0.5]), rng.random(4) + 0.5, rng.standard_normal(4),
              rng.standard_normal(4), rng.random(4) + 0.5]
    return [x, k, g, b, rm, rv], outs, values


@functools.lru_cache(maxsize=None)
def _results():
    inputs, outputs, values = _cases()
    return [opgraph.function(inputs, outputs, mode=m, on_unused_input="ignore")(*values) for m in ("PYTHON", "JAX")]


def test_values_match_python_mode():
    py, jx = _results()
    for k, (a, b) in enumerate(zip(py, jx)):
        assert np.shape(a) == np.shape(b), k
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12, err_msg=f"output {k}")


def test_op_from_graph_node_is_compiled_by_its_implementation():
    x = pt.vector("x")
    ofg = OpFromGraph([x], [x * 2], inline=False)
    y = pt.vector("y")
    f = opgraph.function([y], ofg(y) + 1, mode="JAX")
    assert any(isinstance(n.op, OpFromGraph) for n in f.maker.fgraph.apply_nodes)
    np.testing.assert_allclose(f(np.array([1.0, 2.0])), [3.0, 5.0])


def test_convolve1d_errors_like_the_other_modes():
    x, k = pt.vector("x"), pt.vector("k")
    f = opgraph.function([x, k], convolve1d(x, k), mode="JAX")
    with pytest.raises(ValueError, match="must not be empty"):
        f(np.zeros(0), np.ones(2))


def test_dropout_draws_a_new_mask_per_call():
    from opgraph.tensor.nnet import dropout

    x = pt.vector("x")
    y = dropout(x, 0.5)      # its own shared generator, advanced by its default update
    f = opgraph.function([x], y, mode="JAX")
    a, b = f(np.ones(4000)), f(np.ones(4000))
    assert set(np.unique(a).tolist()) == {0.0, 2.0}
    assert abs(a.mean() - 1.0) < 0.1
    assert not np.array_equal(a, b)


def test_check_parameter_value_raises_after_the_call():
    mu, sigma, v = pt.scalar("mu"), pt.scalar("sigma"), pt.vector("v")
    lp = logp(pt.random.normal(mu, sigma), v)
    f = opgraph.function([mu, sigma, v], lp.sum(), mode="JAX")
    fp = opgraph.function([mu, sigma, v], lp.sum(), mode="PYTHON")
    vv = np.array([0.1, -0.3, 2.0])
    np.testing.assert_allclose(f(0.5, 2.0, vv), fp(0.5, 2.0, vv))
    with pytest.raises(ParameterValueError, match="sigma > 0"):
        f(0.5, -1.0, vv)
    with pytest.raises(ParameterValueError, match="sigma > 0"):
        fp(0.5, -1.0, vv)


def test_check_parameter_value_ninf_and_gradient():
    s = pt.scalar("s")
    x = pt.vector("x")
    out = check_parameters((x * s).sum(), pt.gt(s, 0), msg="s > 0", can_be_replaced_by_ninf=True)
    f = opgraph.function([s, x], [out, grad(out, x)], mode="JAX")
    val, g = f(2.0, np.ones(3))
    assert val == 6.0
    np.testing.assert_allclose(g, [2.0, 2.0, 2.0])
    assert f(-1.0, np.ones(3))[0] == -np.inf


def test_exported_function_has_no_checks():
    """to_jax's plain function cannot raise on values: the value passes through (documented)."""
    import jax

    from opgraph.kernel_core.backends.jax.dispatch import jax_funcify_fgraph
    from opgraph.kernel_core.graph.fgraph import FunctionGraph

    s = pt.scalar("s")
    out = check_parameters(s * 2, pt.gt(s, 0), msg="s > 0")
    fn = jax_funcify_fgraph(FunctionGraph([s], [out], clone=True))
    with jax.enable_x64(True):
        assert float(jax.jit(fn)(-1.0)[0]) == -2.0


def test_fused_attention_and_its_gradient_match_python_mode():
    from opgraph.kernel_core.tensor.nnet.attention_fused import fused_attention

    q, k, v = pt.matrix("q"), pt.matrix("k"), pt.matrix("v")
    qb = pt.tensor3("qb")
    madd, mbool = pt.matrix("madd", shape=(1, None)), pt.matrix("mbool", dtype="bool")
    outs = [fused_attention(q, k, v, 0.5), fused_attention(q, k, v, 0.5, mask=madd),
            fused_attention(q, k, v, 0.5, mask=mbool), fused_attention(qb, k, v, 0.25)]
    cost = sum((o ** 2).sum() for o in outs)
    grads = grad(cost, [q, k, v, madd, qb])
    rng = np.random.default_rng(3)
    values = [rng.standard_normal((5, 4)), rng.standard_normal((6, 4)), rng.standard_normal((6, 3)),
              rng.standard_normal((2, 5, 4)), rng.standard_normal((1, 6)), rng.random((5, 6)) > 0.3]
    inputs = [q, k, v, qb, madd, mbool]
    fj = opgraph.function(inputs, outs + grads, mode="JAX")
    assert any("FusedAttention" in type(n.op).__name__ or "FusedAttention" in str(n.op)
               for n in fj.maker.fgraph.apply_nodes)
    fp = opgraph.function(inputs, outs + grads, mode="PYTHON")
    for k_, (a, b) in enumerate(zip(fj(*values), fp(*values))):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11, err_msg=f"output {k_}")

"""Canonicalize / stabilize / specialize rules: each fires, stays put where it must,
and keeps the value (stabilize rules: also finite / accurate where the original is not)."""

import numpy as np
import pytest

import opgraph.tensor as pt
from opgraph.graph import rewrite_graph
from opgraph.kernel_core.graph.traversal import io_toposort
from opgraph.kernel_core.rewriting.history import RewriteHistory
from opgraph.kernel_core.tensor.reduction import logsumexp


def ops(var):
    return [str(n.op) for n in io_toposort([], [var])]


def fired(graph, include, rule, exclude=()):
    h = RewriteHistory()
    out = rewrite_graph(graph, include=include, exclude=exclude, history=h)
    return out, rule in h.rules_applied()


x = pt.vector("x")
y = pt.vector("y")
XV = np.array([0.3, 1.7, 2.5])
YV = np.array([1.1, -0.4, 3.0])

# (rule, tags, graph builder, builder of a graph the rule must leave alone)
CASES = [
    ("sub_self", ("canonicalize",), lambda: x - x, lambda: x - y),
    ("sub_zero", ("canonicalize",), lambda: x - 0, lambda: x - 1),
    ("zero_sub", ("canonicalize",), lambda: 0 - x, lambda: 1 - x),
    ("sub_neg", ("canonicalize",), lambda: x - (-y), lambda: x - y),
    ("add_neg", ("canonicalize",), lambda: x + (-y), lambda: x + y),
    ("div_self", ("canonicalize",), lambda: x / x, lambda: x / y),
    ("div_one", ("canonicalize",), lambda: x / 1, lambda: x / 2),
    ("mul_div_cancel", ("canonicalize",), lambda: (x * y) / y, lambda: (x * y) / (x + y)),
    ("log_exp", ("canonicalize",), lambda: pt.log(pt.exp(x)), lambda: pt.exp(pt.log(x))),
    ("neg_neg", ("canonicalize",), lambda: -(-x), lambda: -x),
    ("add_canonical", ("canonicalize",), lambda: (x + 1) + 2 + 0, lambda: x + y),
    ("mul_canonical", ("canonicalize",), lambda: (x * 2) * 3 * 1, lambda: x * y),
    ("useless_second", ("canonicalize",), lambda: pt.second(y, x), lambda: pt.second(pt.matrix("m"), x)),
    ("fill_sink", ("canonicalize",), lambda: pt.second(y, 1.0) * x, lambda: x * y),
    ("upcast_constants", ("canonicalize",), lambda: x + pt.constant(np.int8(3)), lambda: x + 3.0),
    ("switch_constant_condition", ("canonicalize",), lambda: pt.switch(True, x, y),
     lambda: pt.switch(pt.gt(x, 1), x, y)),
    ("log1p", ("stabilize",), lambda: pt.log(1 + x), lambda: pt.log(2 + x)),
    ("softplus", ("stabilize",), lambda: pt.log1p(pt.exp(x)), lambda: pt.log1p(pt.exp2(x))),
    ("log1mexp", ("stabilize",), lambda: pt.log(1 - pt.exp(-x)), lambda: pt.log(2 - pt.exp(-x))),
    ("log1p_neg_exp", ("stabilize",), lambda: pt.log1p(-pt.exp(-x)), lambda: pt.log1p(pt.exp(-x))),
    ("log_neg_expm1", ("stabilize",), lambda: pt.log(-pt.expm1(-x)), lambda: pt.log(pt.expm1(x))),
    ("log_sigmoid", ("stabilize",), lambda: pt.log(pt.sigmoid(x)), lambda: pt.log(pt.tanh(x))),
    ("one_minus_sigmoid", ("stabilize",), lambda: 1 - pt.sigmoid(x), lambda: 2 - pt.sigmoid(x)),
    ("log1p_neg_sigmoid", ("stabilize",), lambda: pt.log1p(-pt.sigmoid(x)), lambda: pt.log1p(pt.sigmoid(x))),
    ("expm1", ("stabilize",), lambda: pt.exp(x) - 1, lambda: pt.exp(x) - 2),
    ("expm1_add", ("stabilize",), lambda: -1 + pt.exp(x), lambda: 1 + pt.exp(x)),
    ("pow_sqr", ("specialize",), lambda: x ** 2, lambda: x ** 3),
    ("pow_sqrt", ("specialize",), lambda: x ** 0.5, lambda: x ** 0.25),
    ("pow_reciprocal", ("specialize",), lambda: x ** -1, lambda: x ** -2),
    ("pow_rsqrt", ("specialize",), lambda: x ** -0.5, lambda: x ** 1.5),
    ("pow_one", ("specialize",), lambda: x ** 1, lambda: x ** y),
    ("pow_zero", ("specialize",), lambda: x ** 0, lambda: x ** y),
    ("div_reciprocal", ("specialize",), lambda: 1 / x, lambda: 2 / x),
    ("mul_sqr", ("specialize",), lambda: x * x, lambda: x * y),
]


def _value(var):
    return var.eval({v: val for v, val in ((x, XV), (y, YV)) if v in _inputs(var)})


def _inputs(var):
    from opgraph.kernel_core.graph.traversal import explicit_graph_inputs

    return explicit_graph_inputs([var])


@pytest.mark.parametrize("rule, tags, build, untouched", CASES, ids=[c[0] for c in CASES])
def test_rule_fires_keeps_value_and_stays_put(rule, tags, build, untouched):
    g = build()
    out, did = fired(g, tags, rule)
    assert did, f"{rule} did not fire on {g}"
    np.testing.assert_allclose(_value(out), _value(g), rtol=1e-12)
    _, did = fired(untouched(), tags, rule)
    assert not did, f"{rule} fired where it must not"


def test_rules_do_not_drop_broadcasting():
    m = pt.matrix("m", shape=(None, 3))
    v = pt.vector("v", shape=(1,))
    # x - 0 with a constant that broadcasts v to length 3 must keep the length.
    g = v - np.zeros(3)
    out = rewrite_graph(g)
    assert out.type.shape == (3,)
    np.testing.assert_allclose(out.eval({v: [2.0]}), [2.0, 2.0, 2.0])
    # Second(m, v) really broadcasts: not useless.
    s = pt.second(m, v)
    assert "Second" in ops(rewrite_graph(s))


def test_dtype_is_kept():
    i = pt.vector("i", dtype="int8")
    g = i * 1.0  # float64 result
    out = rewrite_graph(g)
    assert out.type.dtype == "float64"
    np.testing.assert_allclose(out.eval({i: np.array([1, 2], dtype="int8")}), [1.0, 2.0])


def test_collect_constants_and_neutral_elements():
    out = rewrite_graph((x + 1) + 2 + 0)
    assert ops(out) == ["Add"]
    assert "3" in str(out.owner.inputs)
    assert rewrite_graph(x * 1) is not None and ops(rewrite_graph(x * 1)) == []
    assert ops(rewrite_graph(x + 0)) == []
    assert ops(rewrite_graph(-1 * x)) == ["Neg"]


# -- stabilize: finite and accurate where the naive formula is not ----------------------
def _stable(g):
    return rewrite_graph(g, include=("canonicalize", "stabilize"))


def test_log1p_accurate_for_tiny_x():
    v = np.array([1e-20])
    assert _value_of(pt.log(1 + x), v)[0] == 0.0  # the naive formula loses everything
    np.testing.assert_allclose(_value_of(_stable(pt.log(1 + x)), v), [1e-20], rtol=1e-12)


def _value_of(g, v):
    return g.eval({x: v})


def test_softplus_finite_for_large_x():
    v = np.array([800.0, -800.0, 0.0])
    assert np.isinf(_value_of(pt.log(1 + pt.exp(x)), v)[0])
    out = _stable(pt.log(1 + pt.exp(x)))
    assert ops(out) == ["Softplus"]
    np.testing.assert_allclose(_value_of(out, v), [800.0, 0.0, np.log(2)], atol=1e-300)


def test_log_sigmoid_finite():
    v = np.array([-800.0, 0.0, 800.0])
    assert np.isinf(_value_of(pt.log(pt.sigmoid(x)), v)[0])
    np.testing.assert_allclose(_value_of(_stable(pt.log(pt.sigmoid(x))), v), [-800.0, np.log(0.5), 0.0], atol=1e-12)


def test_log_one_minus_sigmoid_finite():
    v = np.array([800.0, 0.0])
    g = pt.log(1 - pt.sigmoid(x))
    assert np.isinf(_value_of(g, v)[0])
    out = _stable(g)
    np.testing.assert_allclose(_value_of(out, v), [-800.0, np.log(0.5)], atol=1e-12)
    assert "Softplus" in ops(out) and "Sigmoid" not in ops(out)


def test_log1mexp_accurate():
    v = np.array([1e-20, 50.0])
    g = pt.log(1 - pt.exp(-x))
    naive = _value_of(g, v)
    assert np.isinf(naive[0])
    out = _stable(g)
    assert "Log1mexp" in ops(out)
    np.testing.assert_allclose(_value_of(out, v), [np.log(1e-20), -np.exp(-50.0)], rtol=1e-10)


def test_expm1_accurate():
    v = np.array([1e-20])
    assert _value_of(pt.exp(x) - 1, v)[0] == 0.0
    np.testing.assert_allclose(_value_of(_stable(pt.exp(x) - 1), v), [1e-20], rtol=1e-12)


def test_log1p_with_several_terms():
    out = _stable(pt.log(1 + x + y))
    assert ops(out)[-1] == "Log1p"
    np.testing.assert_allclose(out.eval({x: XV, y: YV + 2}), np.log1p(XV + YV + 2))


def test_logsumexp_stable():
    m = pt.matrix("m")
    v = np.array([[1000.0, 1000.0], [-1000.0, -1001.0], [-np.inf, -np.inf]])
    for axis, keepdims in ((1, False), (1, True), (None, False)):
        g = logsumexp(m, axis=axis, keepdims=keepdims)
        h = RewriteHistory()
        out = rewrite_graph(g, include=("stabilize",), history=h)
        assert "logsumexp_stable" in h.rules_applied()
        with np.errstate(all="ignore"):
            expected = np.log(np.sum(np.exp(v - v.max()), axis=axis, keepdims=keepdims)) + v.max() \
                if axis is None else None
        got = out.eval({m: v})
        if axis == 1:
            ref = np.array([1000 + np.log(2), np.logaddexp(-1000.0, -1001.0), -np.inf])
            np.testing.assert_allclose(got.ravel(), ref)
            assert got.shape == ((3, 1) if keepdims else (3,))
        else:
            assert np.isfinite(got)
            del expected
    # finite inputs: the same value as the naive formula
    small = np.array([[0.1, 0.2], [0.3, -0.4]])
    g = logsumexp(m, axis=0)
    np.testing.assert_allclose(rewrite_graph(g, include=("stabilize",)).eval({m: small}), g.eval({m: small}))
    # not a log of a sum of exps: untouched
    _, did = fired(pt.log(pt.exp(m).max(axis=0)), ("stabilize",), "logsumexp_stable")
    assert not did

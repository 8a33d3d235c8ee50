"""graph_replace / clone_replace: seed 002 goldens, strict typing, originals untouched."""

import numpy as np
import pytest

import opgraph.tensor as pt
from opgraph.graph.replace import clone_replace, graph_replace
from opgraph.kernel_core.graph.traversal import ancestors, equal_computations

SEED_SIN_GRAPH = """\
Add [id A]
 ├─ ExpandDims{axis=0} [id B]
 │  └─ 1 [id C]
 └─ Sin [id D]
    └─ Mul [id E]
       ├─ ExpandDims{axis=0} [id F]
       │  └─ 6.283185307179586 [id G]
       └─ b [id H]
"""

SEED_COS_GRAPH = SEED_SIN_GRAPH.replace("Sin [id D]", "Cos [id D]")

SEED_EXP_GRAPH = """\
Log [id A]
 └─ Add [id B]
    ├─ ExpandDims{axis=0} [id C]
    │  └─ 1 [id D]
    └─ Exp [id E]
       └─ x [id F]
"""

SEED_MESSAGE = (
    "Cannot convert Type Vector(float64, shape=(?,)) (of Variable x_vec) into Type Scalar(float64, shape=()). "
    "You can try to manually convert x_vec into a Scalar(float64, shape=()).")


def _sin_graph():
    a = pt.tensor("b", shape=(None,))
    b = 2 * pt.pi * a
    c = pt.sin(b)
    d = 1 + c
    return a, b, c, d


def test_seed_replace_sin_by_cos():
    a, b, c, d = _sin_graph()
    assert d.dprint(file="str") == SEED_SIN_GRAPH
    z2 = graph_replace(d, {c: pt.cos(b)})
    assert z2.dprint(file="str") == SEED_COS_GRAPH
    # The original is untouched.
    assert d.dprint(file="str") == SEED_SIN_GRAPH
    av = np.array([0.1, 0.3])
    np.testing.assert_allclose(z2.eval({a: av}), 1 + np.cos(2 * np.pi * av))


def test_seed_replace_x_by_exp_x():
    x = pt.tensor("x", shape=(3,))
    y = pt.log(1 + x)
    new_y = graph_replace(y, replace={x: pt.exp(x)})
    assert new_y.dprint(file="str") == SEED_EXP_GRAPH
    xv = np.array([0.0, 1.0, -0.5])
    np.testing.assert_allclose(new_y.eval({x: xv}), np.log1p(np.exp(xv)))
    np.testing.assert_allclose(y.eval({x: xv}), np.log1p(xv))


def test_seed_truncate_graph_with_new_input():
    x = pt.tensor("x", shape=(None,))
    inner = 1 + x
    y = pt.log(inner)
    x_plus_1 = pt.tensor("x_plus_1", shape=(None,))
    truncated = graph_replace(y, {inner: x_plus_1})
    assert truncated.dprint(file="str") == "Log [id A]\n └─ x_plus_1 [id B]\n"
    assert x not in ancestors([truncated])


def test_seed_replace_random_variable_like_input_by_root():
    x = pt.exp(pt.tensor("z", shape=(10,)))  # stands in for a random variable
    y = pt.exp(x)
    x_input = pt.tensor("x_input", shape=(10,))
    y2 = graph_replace(y, {x: x_input})
    assert y2.dprint(file="str") == "Exp [id A]\n └─ x_input [id B]\n"


def test_strict_type_check_seed_message():
    x = pt.dscalar("x")
    y = pt.log(1 + x)
    x_vec = pt.tensor("x_vec", shape=(None,))
    with pytest.raises(TypeError) as info:
        graph_replace(y, {x: x_vec})
    assert str(info.value) == SEED_MESSAGE


def test_more_specific_replacement_is_accepted_and_less_specific_is_checked():
    x = pt.tensor("x", shape=(3,))
    y = pt.exp(x)
    z = graph_replace(y, {x: pt.tensor("w", shape=(None,))})
    # A less specific replacement is converted (a SpecifyShape keeps the old type).
    assert z.type == y.type
    with pytest.raises(Exception):
        z.eval({"w": np.ones(4)})
    np.testing.assert_allclose(z.eval({"w": np.zeros(3)}), np.ones(3))
    with pytest.raises(TypeError, match="int64"):
        graph_replace(y, {x: pt.tensor("i", shape=(3,), dtype="int64")})


def test_list_outputs_pairs_and_shared_structure():
    x = pt.dvector("x")
    y1 = pt.exp(x)
    y2 = pt.sin(x) + y1
    u = pt.dvector("u")
    r1, r2 = graph_replace([y1, y2], [(x, u)])
    eu = pt.exp(u)
    assert equal_computations([r1, r2], [eu, pt.sin(u) + eu])
    # Shared subexpressions stay shared after replacement.
    assert r2.owner.inputs[1] is r1
    assert isinstance(graph_replace([y1], {x: u}), list)


def test_unknown_keys_are_ignored_and_bad_keys_rejected():
    x, other = pt.dvector("x"), pt.dvector("other")
    y = pt.exp(x)
    r = graph_replace(y, {other: pt.dvector("o2")})
    assert equal_computations([r], [y])
    with pytest.raises(TypeError, match="Variables"):
        graph_replace(y, {"x": x})


def test_replacement_output_itself():
    x = pt.dvector("x")
    y = pt.exp(x)
    w = pt.dvector("w")
    assert graph_replace(y, {y: w}) is w


def test_clone_replace_clones_everything_but_inputs():
    x = pt.dvector("x")
    y = pt.exp(x) * 2
    c = clone_replace(y)
    assert c is not y and c.owner is not y.owner
    assert x in ancestors([c])
    c2 = clone_replace(y, copy_inputs_over=False)
    assert x not in ancestors([c2])
    u = pt.dvector("u")
    c3 = clone_replace(y, replace={x: u})
    np.testing.assert_allclose(c3.eval({u: [0.0]}), [2.0])


def test_clone_replace_non_strict_rebuilds_types():
    x = pt.dscalar("x")
    y = pt.log(1 + x)
    with pytest.raises(TypeError):
        clone_replace(y, {x: pt.dvector("v")})
    v = pt.dvector("v")
    r = clone_replace(y, {x: v}, rebuild_strict=False)
    assert r.type.ndim == 1
    np.testing.assert_allclose(r.eval({v: [0.0, 1.0]}), np.log1p([0.0, 1.0]))


def test_deep_graph_replace_is_iterative():
    x = pt.dscalar("x")
    y = x
    for _ in range(20000):
        y = y + 1.0
    u = pt.dscalar("u")
    r = graph_replace(y, {x: u})
    assert u in ancestors([r])

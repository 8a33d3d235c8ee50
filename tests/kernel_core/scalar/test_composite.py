"""Composite: naming, inner graph, equality and NumPy evaluation."""

import numpy as np
import pytest

import opgraph.tensor as pt
from opgraph.kernel_core.printing.dprint import dprint
from opgraph.kernel_core.scalar import basic as ps
from opgraph.kernel_core.scalar.composite import Composite
from opgraph.kernel_core.scalar.type import get_scalar_type
from opgraph.kernel_core.tensor.elemwise import Elemwise


def sv(name=None, dtype="float64"):
    return get_scalar_type(dtype).make_variable(name=name)


def test_name_of_single_short_output():
    x = sv("x")
    assert str(Composite([x], [ps.exp(ps.sin(x))])) == "Composite{exp(sin(i0))}"


def test_infix_names_match_seed():
    a, b, c = sv(), sv(), sv()
    assert str(Composite([a, b, c], [ps.sub(c, ps.mul(a, b))])) == "Composite{(i2 - (i0 * i1))}"
    comp = Composite([a, b, c], [ps.add(ps.true_div(c, b), ps.true_div(a, b))])
    assert str(comp) == "Composite{((i2 / i1) + (i0 / i1))}"


def test_multi_output_and_long_names_are_elided():
    x, y = sv(), sv()
    assert str(Composite([x, y], [ps.add(x, y), ps.mul(x, y)])) == "Composite{...}"
    e = x
    for _ in range(20):
        e = ps.exp(ps.sin(e))
    assert str(Composite([x], [e])) == "Composite{...}"


def test_inner_graph_names_and_caller_graph_untouched():
    x, y = sv("x"), sv("y")
    s = ps.add(x, y)
    outs = [ps.sigmoid(s), ps.neg(s)]
    comp = Composite([x, y], outs)
    ins, inner_outs = comp.inner_graphs()
    assert [v.name for v in ins] == ["i0", "i1"]
    assert [v.name for v in inner_outs] == ["o0", "o1"]
    shared = inner_outs[0].owner.inputs[0]
    assert shared.name.startswith("t")
    assert x.name == "x" and s.name is None  # the caller's variables are not renamed


def test_equality_and_hash_follow_the_inner_graph():
    x = sv()
    a = Composite([x], [ps.exp(ps.sin(x))])
    b = Composite([x], [ps.exp(ps.sin(x))])
    c = Composite([x], [ps.exp(ps.cos(x))])
    assert a == b and hash(a) == hash(b)
    assert a != c


def test_impl_evaluates_arrays_and_constants():
    x, y = sv(), sv()
    comp = Composite([x, y], [ps.add(ps.mul(x, 2.0), y), ps.gt(x, y)])
    xv, yv = np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])
    r0, r1 = comp.impl(xv, yv)
    np.testing.assert_allclose(r0, 2 * xv + yv)
    np.testing.assert_array_equal(r1, xv > yv)
    assert comp.output_dtypes("float64", "float64") == ("float64", "bool")


def test_nested_composite_in_inner_graph_evaluates():
    x = sv()
    inner = Composite([x], [ps.exp(x)])
    y = sv()
    outer = Composite([y], [ps.log(inner(y))])
    np.testing.assert_allclose(outer.impl(np.array([0.5, 1.5])), [0.5, 1.5])


def test_elemwise_composite_dprint_has_inner_graphs_section():
    xs = sv()
    comp = Composite([xs], [ps.exp(ps.sin(xs))])
    x = pt.vector("x")
    out = Elemwise(comp)(x)
    text = dprint(out, file="str")
    assert text.splitlines()[0] == "Composite{exp(sin(i0))} [id A]"
    assert "Inner graphs:" in text
    assert "← exp [id C] 'o0'" in text and "i0 [id E]" in text
    np.testing.assert_allclose(out.eval({x: np.array([0.3, 0.7])}), np.exp(np.sin([0.3, 0.7])))


def test_bad_inputs_rejected():
    with pytest.raises(TypeError):
        Composite([pt.vector()], [pt.vector()])
    with pytest.raises(ValueError):
        Composite([sv()], [])


def test_composite_gradient_unfolds_the_inner_graph():
    """A fused Elemwise(Composite) is differentiable: grads match the unfused graph."""
    import opgraph
    from opgraph.kernel_core.gradient import verify_grad
    from opgraph.kernel_core.scalar import basic as ps
    from opgraph.kernel_core.scalar.composite import Composite
    from opgraph.kernel_core.scalar.type import float64
    from opgraph.kernel_core.tensor.elemwise import Elemwise

    i0, i1 = float64(), float64()
    comp = Composite([i0, i1], [ps.mul(ps.exp(ps.sin(i0)), i1), ps.add(i0, i1)])

    def fused(x, y):
        a, b = Elemwise(comp)(x, y)
        return 2 * a + b

    rng = np.random.default_rng(3)
    verify_grad(fused, [rng.normal(size=4), rng.normal(size=4)], rng=rng)
    x, y = pt.vector("x"), pt.vector("y")
    xv, yv = rng.normal(size=3), rng.normal(size=3)
    gx = opgraph.grad(fused(x, y).sum(), x)
    np.testing.assert_allclose(gx.eval({x: xv, y: yv}), 2 * np.exp(np.sin(xv)) * np.cos(xv) * yv + 1)

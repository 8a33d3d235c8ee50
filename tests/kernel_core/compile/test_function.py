"""opgraph.function: outputs, In/Out, givens, updates, truncation, sharing, copies."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.compile import In, Out, MissingInputError, UnusedInputError
from opgraph.kernel_core.scalar import basic as ps
from opgraph.kernel_core.tensor.elemwise import Elemwise

MODES = ["PYTHON", "FAST_COMPILE", "FAST_RUN"]


@pytest.mark.parametrize("mode", MODES)
def test_single_output_returns_value_and_list_returns_list(mode):
    x = pt.vector("x")
    f = opgraph.function([x], pt.log(1 + x), mode=mode)
    np.testing.assert_allclose(f([0.0, 1.0]), np.log1p([0.0, 1.0]))
    g = opgraph.function([x], [x * 2, x.sum()], mode=mode)
    out = g([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 2
    np.testing.assert_allclose(out[0], [2.0, 4.0])
    assert out[1].shape == () and float(out[1]) == 3.0


def test_no_outputs_and_empty_list():
    x = pt.vector("x")
    f = opgraph.function([x], [], on_unused_input="ignore")
    assert f([1.0]) == []


def test_scalar_output_is_0d_array():
    x = pt.dscalar("x")
    f = opgraph.function([x], x * 2)
    r = f(3.0)
    assert isinstance(r, np.ndarray) and r.shape == () and r == 6.0


def test_keyword_arguments_and_defaults():
    x, y = pt.dscalar("x"), pt.dscalar("y")
    f = opgraph.function([x, In(y, value=10.0)], x - y)
    assert f(1.0) == -9.0
    assert f(1.0, 2.0) == -1.0
    assert f(y=1.0, x=5.0) == 4.0
    g = opgraph.function([In(x, name="first"), y], x / y)
    assert g(first=6.0, y=3.0) == 2.0


def test_shared_subcomputation_computed_once():
    x = pt.vector("x")
    # Built twice on purpose: merge must make one node of the two exp(x).
    f = opgraph.function([x], [pt.exp(x) + 1, pt.exp(x) * 2], mode="FAST_COMPILE")
    exps = [n for n in f.maker.fgraph.apply_nodes if str(n.op) == "Exp"]
    assert len(exps) == 1
    a, b = f([0.0, 1.0])
    np.testing.assert_allclose(a, np.exp([0.0, 1.0]) + 1)
    np.testing.assert_allclose(b, np.exp([0.0, 1.0]) * 2)


def test_unused_computations_are_truncated():
    x, y = pt.vector("x"), pt.vector("y")
    p = pt.exp(x)
    loss = (pt.log(p) * y).sum()  # noqa: F841 - built but not requested
    f = opgraph.function([x], p * 2, mode="PYTHON")
    ops = {str(n.op) for n in f.maker.fgraph.apply_nodes}
    assert "Log" not in ops and not any(o.startswith("Sum") for o in ops)


def test_givens_substitute_variables():
    x, y = pt.vector("x"), pt.vector("y")
    z = x + y
    f = opgraph.function([x], z, givens={y: x * 10})
    np.testing.assert_allclose(f([1.0, 2.0]), [11.0, 22.0])
    s = opgraph.shared(np.array([1.0, 1.0]), name="s")
    g = opgraph.function([x], x * s, givens=[(s, x)])
    np.testing.assert_allclose(g([2.0, 3.0]), [4.0, 9.0])


def test_givens_type_mismatch_is_short_type_error():
    x, m = pt.vector("x"), pt.matrix("m")
    with pytest.raises(TypeError, match="givens: cannot replace x"):
        opgraph.function([m], x * 2, givens={x: m})


def test_intermediate_variable_as_input_cuts_the_graph():
    x = pt.vector("x")
    y = pt.exp(x)
    y.name = "y"
    f = opgraph.function([y], y + 1)
    np.testing.assert_allclose(f([1.0, 2.0]), [2.0, 3.0])


def test_missing_input_names_the_variable():
    x, y = pt.vector("x"), pt.vector("y")
    with pytest.raises(MissingInputError, match="'y'"):
        opgraph.function([x], x + y)


def test_unused_input_policy():
    x, y = pt.vector("x"), pt.vector("y")
    with pytest.raises(UnusedInputError, match="input 1 'y'"):
        opgraph.function([x, y], x * 2)
    with pytest.warns(UserWarning, match="not used"):
        opgraph.function([x, y], x * 2, on_unused_input="warn")
    f = opgraph.function([x, y], x * 2, on_unused_input="ignore")
    np.testing.assert_allclose(f([1.0], [5.0]), [2.0])
    with pytest.raises(ValueError, match="on_unused_input"):
        opgraph.function([x], x, on_unused_input="nope")


def test_bad_arguments_to_function():
    x = pt.vector("x")
    with pytest.raises(TypeError, match="inputs must be a list"):
        opgraph.function(x, x)
    with pytest.raises(TypeError, match="input 0 must be a symbolic Variable"):
        opgraph.function([np.ones(3)], x)
    with pytest.raises(ValueError, match="given twice"):
        opgraph.function([x, x], x)
    with pytest.raises(TypeError, match="constant"):
        opgraph.function([pt.constant(1.0)], x)
    with pytest.raises(ValueError, match="unknown mode"):
        opgraph.function([x], x, mode="FASTEST")


def test_output_that_is_an_input_is_a_fresh_copy():
    x = pt.vector("x")
    f = opgraph.function([x], x)
    a = np.array([1.0, 2.0])
    r = f(a)
    assert r is not a and not np.shares_memory(r, a)
    r[0] = 100.0
    assert a[0] == 1.0


def test_outputs_never_alias_each_other_or_constants():
    x = pt.vector("x")
    y = x * 2
    f = opgraph.function([x], [y, y, pt.as_tensor_variable(np.array([1.0, 2.0]))])
    a, b, c = f([1.0, 2.0])
    assert not np.shares_memory(a, b)
    c[0] = 5.0  # writeable, not the graph's constant
    assert f([1.0, 2.0])[2][0] == 1.0


def test_view_outputs_are_copied_unless_borrowed():
    m = pt.matrix("m")
    f = opgraph.function([m], m.T, mode="PYTHON")
    a = np.arange(6.0).reshape(2, 3)
    r = f(a)
    assert not np.shares_memory(r, a)
    g = opgraph.function([m], Out(m.T, borrow=True), mode="PYTHON")
    assert np.shares_memory(g(a), a)


def _inplace_exp(x):
    return Elemwise(ps.exp, {0: 0})(x)


def test_inplace_node_never_overwrites_caller_array():
    x = pt.vector("x")
    f = opgraph.function([x], _inplace_exp(x * 1) + _inplace_exp(x), mode="PYTHON", accept_inplace=True)
    a = np.array([0.0, 1.0])
    r = f(a)
    np.testing.assert_allclose(a, [0.0, 1.0])
    np.testing.assert_allclose(r, 2 * np.exp([0.0, 1.0]))


def test_mutable_input_may_be_overwritten():
    x = pt.vector("x")
    f = opgraph.function([In(x, mutable=True)], _inplace_exp(x), mode="PYTHON", accept_inplace=True)
    a = np.array([0.0, 1.0])
    r = f(a)
    np.testing.assert_allclose(r, np.exp([0.0, 1.0]))
    np.testing.assert_allclose(a, np.exp([0.0, 1.0]))


def test_inplace_on_a_view_of_the_input_is_protected():
    m = pt.matrix("m")
    f = opgraph.function([m], _inplace_exp(m.T), mode="PYTHON", accept_inplace=True)
    a = np.zeros((2, 3))
    np.testing.assert_allclose(f(a), np.ones((3, 2)))
    assert (a == 0).all()


def test_inplace_on_a_constant_is_protected():
    c = pt.as_tensor_variable(np.array([0.0, 0.0]))
    x = pt.vector("x")
    f = opgraph.function([x], _inplace_exp(c) + x, mode="PYTHON", accept_inplace=True)
    np.testing.assert_allclose(f([1.0, 1.0]), [2.0, 2.0])
    np.testing.assert_allclose(f([1.0, 1.0]), [2.0, 2.0])


def test_dprint_shows_toposort_indices():
    x = pt.vector("x")
    f = opgraph.function([x], pt.exp(pt.sin(x)) * 2, mode="PYTHON")
    text = f.dprint(file="str")
    lines = text.splitlines()
    order = f.maker.order
    assert len(order) == len([ln for ln in lines if ln.rstrip()[-1].isdigit() and "[id" in ln])
    last = order[-1]
    assert lines[0].startswith(str(last.op)) and lines[0].endswith(f" {len(order) - 1}")
    assert opgraph.dprint(f, file="str") == text
    typed = f.dprint(file="str", print_type=True)
    assert "<Vector(float64, shape=(?,))>" in typed


def test_dprint_of_seed_style_function_names_outputs():
    x = pt.vector("x")
    y = pt.exp(x)
    y.name = "named_out"
    f = opgraph.function([x], y, mode="PYTHON")
    first = f.dprint(file="str").splitlines()[0]
    assert first == "Exp [id A] 'named_out' 0"


def test_repr_and_maker():
    x = pt.vector("x")
    f = opgraph.function([x], x + 1, mode="PYTHON", name="inc")
    assert "inc" in repr(f) and "PYTHON" in repr(f)
    assert f.maker.fgraph.inputs[0].name == "x"
    assert f.maker.fgraph.inputs[0] is not x  # compiled on a clone
    assert f.trust_input is False


def test_fast_run_dprint_shows_inner_graphs_of_fused_nodes():
    x = pt.vector("x")
    f = opgraph.function([x], pt.exp(pt.sin(x)), mode="FAST_RUN")
    np.testing.assert_allclose(f([0.0, 1.0]), np.exp(np.sin([0.0, 1.0])))
    text = f.dprint(file="str")
    lines = text.splitlines()
    assert lines[0] == "Composite{exp(sin(i0))} [id A] 0"
    assert "Inner graphs:" in lines
    assert any(line.strip().startswith("← exp") and line.endswith("'o0'") for line in lines)

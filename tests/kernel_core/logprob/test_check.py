"""CheckParameterValue: printing, the run-time error naming the condition, the -inf flag,
the two opt-in rewrites, gradient pass-through, and the NUMBA kernel (one compiled function)."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad
from opgraph.graph import rewrite_graph
from opgraph.kernel_core.compile.mode import Mode
from opgraph.logprob import CheckParameterValue, ParameterValueError, check_parameters


def _graph():
    x, s = pt.vector("x"), pt.vector("s")
    checked = check_parameters(-0.5 * x ** 2 - pt.log(s), s > 0, msg="sigma > 0")
    ninf = check_parameters(-0.5 * x ** 2 - pt.log(s), s > 0, msg="sigma > 0", can_be_replaced_by_ninf=True)
    return x, s, checked, ninf


def test_prints_as_check_and_has_value_and_all_inputs():
    x, s, checked, _ = _graph()
    assert str(checked.owner) == "Check{sigma > 0}(Sub.0, All{axes=None}.0)"
    assert checked.owner.inputs[1].type.ndim == 0 and checked.owner.inputs[1].type.dtype == "bool"


def test_violated_condition_raises_naming_it_and_flag_gives_ninf():
    x, s, checked, ninf = _graph()
    good = {x: np.array([0.0, 1.0]), s: np.array([1.0, 2.0])}
    np.testing.assert_allclose(checked.eval(good), [0.0, -0.5 - np.log(2.0)])
    bad = {x: np.array([0.0, 1.0]), s: np.array([1.0, -2.0])}
    with pytest.raises(ParameterValueError, match="sigma > 0"):
        checked.eval(bad)
    assert np.all(ninf.eval(bad) == -np.inf)
    np.testing.assert_allclose(ninf.eval(good), checked.eval(good))


def test_bad_conditions_are_refused_at_build_time():
    x = pt.vector("x")
    with pytest.raises(TypeError, match="boolean scalar"):
        CheckParameterValue("x > 0")(x, x > 0)
    with pytest.raises(TypeError, match="msg must be a string"):
        CheckParameterValue(3)
    with pytest.raises(TypeError, match="float value"):
        CheckParameterValue("n", can_be_replaced_by_ninf=True)(pt.lvector("n"), pt.all(x > 0))


def test_checks_stay_by_default_and_rewrites_remove_them_only_by_name():
    x, s, checked, _ = _graph()

    def has_check(v):
        from opgraph.kernel_core.graph.traversal import ancestors

        return any(a.owner is not None and isinstance(a.owner.op, CheckParameterValue) for a in ancestors([v]))

    assert has_check(rewrite_graph(checked, include=("canonicalize", "stabilize", "specialize")))
    removed = rewrite_graph(checked, include=("canonicalize", "local_remove_check_parameter"))
    assert not has_check(removed)
    bad = {x: np.array([0.0, 1.0]), s: np.array([1.0, 2.0])}
    np.testing.assert_allclose(removed.eval(bad), checked.eval(bad))
    switched = rewrite_graph(checked, include=("canonicalize", "local_check_parameter_to_ninf_switch"))
    assert not has_check(switched)
    assert np.all(switched.eval({x: np.array([0.0]), s: np.array([-1.0])}) == -np.inf)


def test_gradient_passes_through_the_check():
    x, s, checked, _ = _graph()
    g = grad(checked.sum(), x)
    np.testing.assert_allclose(g.eval({x: np.array([0.5, -2.0]), s: np.array([1.0, 1.0])}), [-0.5, 2.0])


def test_numba_kernel_raises_and_returns_ninf():
    x, s, checked, ninf = _graph()
    f = opgraph.function([x, s], [checked, ninf], mode=Mode("NUMBA", tiered=False))
    source = f.maker.thunk.source
    assert "def perform_" not in source          # a Numba kernel, not the objmode fallback
    out, out_ninf = f(np.array([0.0, 1.0]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(out, [0.0, -0.5 - np.log(2.0)])
    np.testing.assert_allclose(out_ninf, out)
    f_ninf = opgraph.function([x, s], ninf, mode=Mode("NUMBA", tiered=False))
    assert np.all(f_ninf(np.array([0.0, 1.0]), np.array([1.0, -2.0])) == -np.inf)
    with pytest.raises(ParameterValueError, match="sigma > 0"):
        f(np.array([0.0, 1.0]), np.array([1.0, -2.0]))

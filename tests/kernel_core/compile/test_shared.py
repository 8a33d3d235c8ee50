"""Shared variables and updates."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.compile import SharedVariable


def test_shared_value_roundtrip_and_copies():
    a = np.array([1.0, 2.0])
    s = opgraph.shared(a, name="s")
    assert isinstance(s, SharedVariable)
    assert s.type.short_str() == "Vector(float64, shape=(?,))"
    a[0] = 100.0
    assert s.get_value()[0] == 1.0  # copied at creation
    v = s.get_value()
    v[1] = 50.0
    assert s.get_value()[1] == 2.0  # get_value copies
    assert s.get_value(borrow=True) is s.get_value(borrow=True)
    s.set_value([3, 4])
    np.testing.assert_allclose(s.get_value(), [3.0, 4.0])
    assert s.get_value().dtype == np.float64


def test_shared_python_scalars_and_shape():
    assert opgraph.shared(1.5).type.short_str() == "Scalar(float64, shape=())"
    assert opgraph.shared(3).type.dtype == "int64"
    s = opgraph.shared(np.zeros((2, 3)), shape=(2, None))
    assert s.type.shape == (2, None)
    assert opgraph.shared(object()).type.short_str() == "Generic"  # any other value: generic (PyTensor)
    with pytest.raises(TypeError, match="needs a value, not the symbolic variable"):
        opgraph.shared(pt.vector("x"))


def test_set_value_checks_type():
    s = opgraph.shared(np.zeros(2), name="w")
    with pytest.raises(TypeError, match="'w'"):
        s.set_value(np.zeros((2, 2)))


def test_shared_is_an_implicit_input_and_eval_works():
    w = opgraph.shared(np.array([1.0, 2.0]), name="w")
    x = pt.vector("x")
    f = opgraph.function([x], x * w)
    np.testing.assert_allclose(f([2.0, 2.0]), [2.0, 4.0])
    w.set_value(np.array([10.0, 10.0]))
    np.testing.assert_allclose(f([2.0, 2.0]), [20.0, 20.0])  # value read at each call
    np.testing.assert_allclose((w * 2).eval(), [20.0, 20.0])
    assert [str(v) for v in f.get_shared()] == ["w"]


def test_updates_written_after_each_call():
    count = opgraph.shared(np.array(0.0), name="count")
    x = pt.dscalar("x")
    f = opgraph.function([x], count * 1, updates={count: count + x})
    assert f(2.0) == 0.0  # outputs use the value before the update
    assert count.get_value() == 2.0
    assert f(3.0) == 2.0
    assert count.get_value() == 5.0


def test_updates_without_outputs_and_as_pairs():
    a = opgraph.shared(np.array([1.0, 2.0]), name="a")
    b = opgraph.shared(np.array([0.0, 0.0]), name="b")
    # Simultaneous update: both use old values.
    f = opgraph.function([], [], updates=[(a, b), (b, a)])
    f()
    np.testing.assert_allclose(a.get_value(), [0.0, 0.0])
    np.testing.assert_allclose(b.get_value(), [1.0, 2.0])


def test_update_value_does_not_alias_returned_output():
    s = opgraph.shared(np.zeros(2), name="s")
    x = pt.vector("x")
    y = x * 2
    f = opgraph.function([x], y, updates={s: y})
    r = f([1.0, 2.0])
    r[0] = 99.0
    np.testing.assert_allclose(s.get_value(), [2.0, 4.0])


def test_bad_updates():
    s = opgraph.shared(np.zeros(2), name="s")
    x = pt.vector("x")
    with pytest.raises(TypeError, match="not a shared variable"):
        opgraph.function([x], x, updates={x: x + 1})
    with pytest.raises(TypeError, match="astype"):
        opgraph.function([], [], updates={s: pt.matrix("m")})
    xi = pt.vector("xi", dtype="int64")
    with pytest.raises(TypeError, match="astype"):
        opgraph.function([xi], [], updates={s: xi})


def test_shared_as_explicit_input_refused():
    s = opgraph.shared(np.zeros(2), name="s")
    with pytest.raises(TypeError, match="shared variable s as an explicit input"):
        opgraph.function([s], s * 2)


def test_update_only_shared_variable_becomes_an_input():
    s = opgraph.shared(np.array(1.0), name="s")
    x = pt.dscalar("x")
    f = opgraph.function([x], x + 1, updates={s: x})
    assert f(5.0) == 6.0
    assert s.get_value() == 5.0


@pytest.mark.parametrize("value", ["a string", None, [1, "x", [2.0]], {"k": 1}, (1, 2)])
def test_generic_shared_values(value):
    from opgraph.kernel_core.graph.type import GenericType

    s = opgraph.shared(value, name="g")
    assert isinstance(s, SharedVariable) and isinstance(s.type, GenericType)
    assert s.get_value() == value
    s.set_value("other")
    assert s.get_value() == "other"


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_generic_values_as_function_input_output_and_update(mode):
    from opgraph.kernel_core.graph.type import generic

    s = opgraph.shared("a string", name="s")
    items = opgraph.shared([1, "x", [2]], name="items")  # numba could not type this list
    g = generic("g")
    x = pt.dvector("x")
    f = opgraph.function([g, x], [s, g, x * 2, items], updates={s: g}, mode=mode)
    got = f("new", np.ones(2))
    assert got[0] == "a string" and got[1] == "new" and got[3] == [1, "x", [2]]
    np.testing.assert_array_equal(got[2], [2.0, 2.0])
    assert s.get_value() == "new"
    assert f(None, np.zeros(1))[0] == "new" and s.get_value() is None
    assert opgraph.function([], items, mode=mode)() == [1, "x", [2]]


def test_arrays_stay_tensors_and_generic_updates_are_type_checked():
    assert opgraph.shared(np.arange(3)).type == pt.lvector
    assert opgraph.shared(2.5).type == pt.dscalar
    s = opgraph.shared("a")
    x = pt.dvector("x")
    with pytest.raises(TypeError, match="updates: the new value"):
        opgraph.function([x], x, updates={s: x})
    with pytest.raises(TypeError, match="shape not supported for a str value"):
        opgraph.shared("a", shape=(2,))

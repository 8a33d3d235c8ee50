"""Argument checking of compiled functions and runtime errors inside nodes."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.compile import In
from opgraph.kernel_core.runtime_errors import NodeRuntimeError


def test_wrong_number_of_arguments_names_the_inputs():
    x, y = pt.vector("x"), pt.vector("y")
    f = opgraph.function([x, y], x + y)
    with pytest.raises(TypeError, match=r"takes 2 inputs \(x, y\) but 3 were given"):
        f([1.0], [1.0], [1.0])
    with pytest.raises(TypeError, match=r"missing input 1 'y'"):
        f([1.0])
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        f([1.0], z=[1.0])
    with pytest.raises(TypeError, match="both by position and by name"):
        f([1.0], [2.0], x=[1.0])


def test_function_name_appears_in_errors():
    x = pt.vector("x")
    f = opgraph.function([x], x, name="my_fn")
    with pytest.raises(TypeError, match="function 'my_fn'"):
        f()


def test_safe_upcasts_are_accepted():
    x = pt.vector("x", dtype="float64")
    f = opgraph.function([x], x * 2)
    np.testing.assert_allclose(f(np.array([1, 2], dtype="int64")), [2.0, 4.0])
    np.testing.assert_allclose(f(np.array([1, 2], dtype="float32")), [2.0, 4.0])
    np.testing.assert_allclose(f([1, 2]), [2.0, 4.0])


def test_unsafe_downcasts_are_refused_naming_the_input():
    xi = pt.vector("xi", dtype="int64")
    f = opgraph.function([xi], xi + 1)
    with pytest.raises(TypeError, match=r"input 0 'xi'.*float64.*int64"):
        f(np.array([1.5, 2.0]))
    x32 = pt.vector("x32", dtype="float32")
    g = opgraph.function([x32], x32 * 2)
    with pytest.raises(TypeError, match="input 0 'x32'"):
        g(np.array([1.0, 2.0]))


def test_allow_downcast_permits_unsafe_casts():
    x32 = pt.vector("x32", dtype="float32")
    g = opgraph.function([In(x32, allow_downcast=True)], x32 * 2)
    r = g(np.array([1.0, 2.0]))
    assert r.dtype == np.float32
    h = opgraph.function([x32], x32 * 2, allow_input_downcast=True)
    assert h(np.array([1.0, 2.0])).dtype == np.float32


def test_wrong_ndim_names_the_input():
    x = pt.vector("x")
    f = opgraph.function([x], x * 2)
    with pytest.raises(TypeError, match=r"input 0 'x'.*1 dimensions"):
        f(np.ones((2, 2)))


def test_static_shape_mismatch_names_the_input():
    x = pt.tensor("x", shape=(3,))
    f = opgraph.function([x], x * 2)
    with pytest.raises(ValueError, match=r"input 0 'x'.*shape"):
        f(np.ones(4))


def test_unnamed_input_is_named_by_position_and_type():
    x = pt.tensor(shape=(None,), dtype="float64")
    f = opgraph.function([x], x * 2)
    with pytest.raises(TypeError, match=r"input 0 \(Vector\(float64"):
        f(np.ones((1, 1)))


def test_errors_are_short():
    x = pt.vector("x")
    f = opgraph.function([x], x * 2)
    with pytest.raises(TypeError) as info:
        f(np.ones((2, 2)))
    assert len(str(info.value).splitlines()) == 1
    assert info.value.__cause__ is None


def test_trust_input_skips_checks():
    x = pt.vector("x")
    f = opgraph.function([x], x * 2, trust_input=True)
    assert f.trust_input
    a = np.array([1.0, 2.0])
    np.testing.assert_allclose(f(a), [2.0, 4.0])
    # No conversion happens: a list goes straight to the ops (NumPy copes here).
    np.testing.assert_allclose(f(np.array([1, 2])), [2, 4])
    f.trust_input = False
    with pytest.raises(TypeError):
        f(np.ones((2, 2)))


def test_runtime_failure_names_node_shapes_and_source_line():
    x, y = pt.vector("x"), pt.vector("y")
    z = x + y  # the line the error must point at
    f = opgraph.function([x, y], z, mode="PYTHON")
    with pytest.raises(NodeRuntimeError) as info:
        f(np.ones(3), np.ones(4))
    msg = str(info.value)
    assert "Add" in msg
    assert "shape (3,) float64" in msg and "shape (4,) float64" in msg
    assert "z = x + y  # the line the error must point at" in msg
    assert len(msg.splitlines()) <= 4
    assert info.value.__cause__ is None and info.value.original is not None


def test_function_still_works_after_a_runtime_failure():
    x, y = pt.vector("x"), pt.vector("y")
    f = opgraph.function([x, y], x + y, mode="PYTHON")
    with pytest.raises(NodeRuntimeError):
        f(np.ones(3), np.ones(4))
    np.testing.assert_allclose(f(np.ones(2), np.ones(2)), [2.0, 2.0])

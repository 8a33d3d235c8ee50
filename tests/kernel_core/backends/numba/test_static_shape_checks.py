"""Shape and bounds tests the static types make unnecessary are not generated: the graph
function tests its inputs' fixed lengths once, on entry (also under trust_input), and
the kernels take every fixed length for granted (each run-time-valued raise site is
costly for numba to compile)."""

import re

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.backends.numba import codegen


def _module(inputs, outputs, **kw):
    f = opgraph.function(inputs, outputs, mode="NUMBA", **kw)
    return f, codegen.generate_module(f.maker.fgraph, cache_flag=False).source


def _graph_function(source):
    return source[source.index(f"def {codegen.GRAPH_FUNCTION}("):]


def test_elemwise_tests_only_the_lengths_the_types_leave_open():
    a, b = pt.tensor("a", shape=(2, None)), pt.tensor("b", shape=(2, None))
    f, src = _module([a, b], [pt.exp(a) * b])
    body = _graph_function(src)
    assert not re.search(r"\.shape\[0\] != _\w*n0", body)     # both fix axis 0 at 2
    assert re.search(r"\.shape\[1\] != _\w*n1", body)         # axis 1 is open
    np.testing.assert_allclose(f(np.ones((2, 3)), np.full((2, 3), 2.0))[0], np.full((2, 3), 2 * np.e))
    with pytest.raises(ValueError, match="do not broadcast along axis 1"):
        f(np.ones((2, 3)), np.ones((2, 4)))


def test_constant_index_within_a_fixed_length_is_not_bounds_checked():
    x, v = pt.vector("x", shape=(3,)), pt.vector("v")
    f, src = _module([x, v], [x[2] + x[0], v[2]])
    body = _graph_function(src)
    assert body.count("_IndexError(") == 1                    # v[2] only: v's length is open
    got = f(np.array([1.0, 2.0, 3.0]), np.arange(4.0))
    np.testing.assert_allclose([got[0], got[1]], [4.0, 2.0])
    with pytest.raises(IndexError, match="index 2 is out of bounds for axis 0 with size 2"):
        f(np.array([1.0, 2.0, 3.0]), np.arange(2.0))


@pytest.mark.parametrize("trust_input", [False, True])
def test_an_input_of_another_shape_stops_before_the_kernels(trust_input):
    a, b = pt.tensor("a", shape=(2, None)), pt.tensor("b", shape=(2, None))
    f, _ = _module([a, b], [a + b], trust_input=trust_input)
    wrong, right = np.ones((3, 4)), np.ones((2, 4))
    before = wrong.copy()
    match = "the shapes their types fix" if trust_input else r"input 0 'a': expected shape \(2, \?\)"
    with pytest.raises(ValueError, match=match):
        f(wrong, right)
    np.testing.assert_array_equal(wrong, before)
    np.testing.assert_allclose(f(right, right)[0], np.full((2, 4), 2.0))

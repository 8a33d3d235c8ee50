"""Unsigned integer indices in NUMBA (issue 21): uint64 used to fail numba's typing
(uint64 mixed with int64 is float64), so the graph fell back to the Python VM, and
an index past 2**63 showed wrapped negative or did not convert."""

import warnings

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.backends.numba.linker import NumbaFallbackWarning, NumbaLinker
from opgraph.kernel_core.compile.mode import Mode

# The Numba linker itself (not whatever mode="NUMBA" selects first, e.g. a faster-to-start
# tier): these tests are about the compiled code.
NUMBA = Mode(linker=NumbaLinker(), optimizer="fast_run")


@pytest.fixture(scope="module")
def f():
    x = pt.vector("x")
    m = pt.matrix("m")
    i = pt.scalar("i", dtype="uint64")
    iv = pt.vector("iv", dtype="uint64")
    j = pt.scalar("j", dtype="uint8")
    outs = [x[i], x[iv], pt.set_subtensor(x[i], 5.0), pt.inc_subtensor(x[iv], 1.0), m[j, 1:], m[iv, 0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumbaFallbackWarning)   # compiled, not the Python VM
        return opgraph.function([x, m, i, iv, j], outs, mode=NUMBA)


def test_unsigned_indices_compile_and_index(f):
    xv, mv = np.arange(5.0), np.arange(12.0).reshape(6, 2)
    iv = np.array([0, 4, 4], dtype="uint64")
    got = f(xv, mv, np.uint64(3), iv, np.uint8(5))
    expected_inc = xv.copy()
    np.add.at(expected_inc, iv.astype(np.intp), 1.0)
    expected_set = xv.copy()
    expected_set[3] = 5.0
    for g, e in zip(got, [xv[3], xv[[0, 4, 4]], expected_set, expected_inc, mv[5, 1:], mv[[0, 4, 4], 0]]):
        np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize("i, iv, message", [
    (2**63 + 1, [0], "index 9223372036854775809 is out of bounds for axis 0 with size 5"),
    (1, [2**64 - 1], "index 18446744073709551615 is out of bounds for axis 0 with size 5"),
    (7, [0], "index 7 is out of bounds for axis 0 with size 5"),
])
def test_out_of_bounds_unsigned_index_is_reported_unwrapped(f, i, iv, message):
    xv, mv = np.arange(5.0), np.arange(12.0).reshape(6, 2)
    with pytest.raises(IndexError, match=message):
        f(xv, mv, np.uint64(i), np.array(iv, dtype="uint64"), np.uint8(0))

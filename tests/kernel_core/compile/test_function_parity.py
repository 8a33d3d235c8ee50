"""PyTensor's calling conventions for compiled functions: aliased mutable inputs,
default updates, In/Out options, copy and pickle, trust_input and masked arrays."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph import In
from opgraph.kernel_core.compile.mode import get_mode

# The Python VM with the fast_run rewrites (inplace included), and Numba.
INPLACE_MODES = {"vm": get_mode("FAST_RUN").clone(linker="vm"), "numba": "NUMBA"}


@pytest.mark.parametrize("mode", list(INPLACE_MODES))
def test_aliased_mutable_inputs_are_copied(mode):
    x, y = pt.dvector("x"), pt.dvector("y")
    m1, m2 = pt.dmatrix("m1"), pt.dmatrix("m2")
    s = opgraph.shared(np.arange(5.0), name="s")
    f = opgraph.function([In(x, mutable=True), In(y, mutable=True), In(m1, mutable=True),
                          In(m2, mutable=True)], [pt.dot(x * 2, m1) + pt.dot(y * 3, m2), x * 2 + s],
                         mode=INPLACE_MODES[mode])
    assert f.maker.destroyed_inputs, "the test needs a graph that overwrites its inputs"
    v, m = np.arange(1.0, 6.0), np.eye(5)
    out, _ = f(v, v, m, m)
    np.testing.assert_allclose(out, [5, 10, 15, 20, 25])
    # A mutable input given the shared variable's own array must not overwrite the shared value.
    own = s.get_value(borrow=True)
    _, out2 = f(own, np.ones(5), m, np.eye(5))
    np.testing.assert_allclose(out2, 3 * np.arange(5.0))
    np.testing.assert_allclose(s.get_value(), np.arange(5.0))


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_trust_input_wrong_type_is_one_line_naming_the_input(mode):
    x, n = pt.dvector("x"), pt.lscalar("n")
    f = opgraph.function([n, x], x * n, mode=mode, trust_input=True)
    two = np.asarray(2, dtype="int64")
    np.testing.assert_allclose(f(two, np.ones(3)), [2.0, 2.0, 2.0])
    with pytest.raises(TypeError) as info:
        f(np.int64(2), [[1.0, 2.0]])   # the list is named, not the NumPy scalar
    msg = str(info.value)
    assert len(msg.splitlines()) == 1 and info.value.__cause__ is None
    assert "'x'" in msg and "Vector(float64" in msg and "got list" in msg
    if mode == "NUMBA":   # the compiled code itself rejects a wrong ndim
        with pytest.raises(TypeError, match=r"'x' expects Vector\(float64, shape=\(\?,\)\), got ndarray float64 "
                                            r"shape \(2, 2\)") as info:
            f(two, np.ones((2, 2)))
        assert len(str(info.value).splitlines()) == 1
        with pytest.raises(TypeError, match=r"'n' expects Scalar\(int64, shape=\(\)\), got the NumPy scalar"):
            f(np.int64(2), np.ones(3))


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_masked_arrays_are_rejected(mode):
    x = pt.dvector("x")
    f = opgraph.function([x], x * 2, mode=mode)
    masked = np.ma.array([1.0, 2.0, 3.0], mask=[0, 1, 0])
    with pytest.raises(TypeError, match="input 0 'x': masked arrays are not supported"):
        f(masked)
    with pytest.raises(TypeError, match="masked arrays"):
        f(x=masked)
    np.testing.assert_allclose(f(masked.filled(0.0)), [2.0, 0.0, 6.0])

"""Run-time failures keep their exception type (``except IndexError`` still works)
and carry the node, the input shapes and the source line."""

import pickle

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.runtime_errors import NodeRuntimeError, node_error


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_failures_keep_their_type_in_both_modes(mode):
    x, i = pt.dmatrix("x"), pt.lscalar("i")
    a, b = pt.dvector("a"), pt.dvector("b")
    f = opgraph.function([x, i, a, b], [pt.linalg.inv(x), x[i], a + b], mode=mode)
    good = [np.eye(2), np.int64(0), np.ones(2), np.ones(2)]
    bad = [(0, np.zeros((2, 2)), np.linalg.LinAlgError, "MatrixInverse"),
           (1, np.int64(5), IndexError, "Subtensor"),
           (3, np.ones(3), ValueError, "Add")]
    for pos, value, exc_type, op_name in bad:
        args = list(good)
        args[pos] = value
        try:
            f(*args)
        except exc_type as exc:   # the user's own except clause catches it
            assert isinstance(exc, NodeRuntimeError)
            assert op_name in str(exc.node.op)
            assert "node inputs:" in str(exc)
            assert isinstance(exc.original, exc_type)
        else:
            pytest.fail(f"{exc_type.__name__} not raised for argument {pos}")
    np.testing.assert_allclose(f(*good)[0], np.eye(2))


class _Node:
    class _Op:
        def __str__(self):
            return "MyOp"

    op = _Op()

    def __init__(self):
        class _Tag:
            pass

        class _Out:
            tag = _Tag()

        self.outputs = [_Out()]


class _NeedsTwoArgs(Exception):
    def __new__(cls, a, b):
        return super().__new__(cls, a, b)


def test_unusual_exception_types():
    node = _Node()
    for exc in [KeyError("k"), OSError(2, "no such file"), StopIteration()]:
        err = node_error(node, [np.ones(2)], exc)
        assert isinstance(err, type(exc)) and isinstance(err, NodeRuntimeError)
        assert str(err).startswith(f"{type(exc).__name__} in MyOp")   # KeyError does not repr() it
        # Sent back from a worker process: still a NodeRuntimeError with the message.
        back = pickle.loads(pickle.dumps(err))
        assert isinstance(back, NodeRuntimeError) and str(back) == str(err)
    # A type that cannot be built from a message: the original, with the context as a note.
    exc = _NeedsTwoArgs("a", "b")
    err = node_error(node, [np.ones(2)], exc)
    assert err is exc and "shape (2,) float64" in exc.__notes__[0]

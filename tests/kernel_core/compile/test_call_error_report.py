"""A compiled call that fails: the user sees their call and the message, and the graph runs at most twice.

The graph runs a user Op (Python ``perform``, objmode under Numba) before a shape
mismatch, so counting ``perform`` calls counts graph executions.  Before the fix
a failing NUMBA call ran the graph three times (direct entry, checked path,
node-by-node explanation) and showed function_type.py / linker.py frames.
"""

import re

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.graph import Apply, Op
from opgraph.kernel_core.backends.numba.linker import NumbaLinker
from opgraph.kernel_core.compile.mode import Mode
from opgraph.kernel_core.runtime_errors import NodeRuntimeError


class CountedDouble(Op):
    """2 * x, counting its runs (one per graph execution)."""

    __props__ = ()
    runs = 0

    def make_node(self, x):
        x = pt.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        type(self).runs += 1
        output_storage[0][0] = inputs[0] * 2


@pytest.fixture(scope="module")
def numba_fn():
    x, y = pt.vector("x"), pt.vector("y")
    # A plain NumbaLinker (not the tiered one): the direct entry is what runs the calls.
    f = opgraph.function([x, y], CountedDouble()(x) + y, mode=Mode(linker=NumbaLinker(), optimizer="fast_run"))
    assert f(np.ones(3), np.ones(3)).tolist() == [3.0, 3.0, 3.0]
    assert f._direct is not None   # the fast path this test is about
    return f


def _run_in_ipython(namespace, code):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    ip = InteractiveShell.instance()
    ip.user_ns.update(namespace)
    with capture_output() as cap:
        result = ip.run_cell(code)
    return result, re.sub(r"\x1b\[[0-9;]*m", "", cap.stdout + cap.stderr)


def test_numba_failing_call_runs_the_graph_at_most_twice(numba_fn):
    CountedDouble.runs = 0
    with pytest.raises(ValueError, match="do not broadcast") as info:
        numba_fn(np.ones(3), np.ones(4))
    assert isinstance(info.value, NodeRuntimeError)
    assert 1 <= CountedDouble.runs <= 2   # direct entry + node-by-node explanation (was 3)
    # arguments of another dtype still take the checked path (converted), once
    CountedDouble.runs = 0
    assert numba_fn(np.ones(3, dtype="float32"), np.ones(3)).tolist() == [3.0, 3.0, 3.0]
    assert CountedDouble.runs == 1


def test_numba_failing_call_traceback_is_the_users_call_and_the_message(numba_fn):
    result, out = _run_in_ipython({"f": numba_fn, "np": np}, "f(np.ones(3), np.ones(4))")
    assert isinstance(result.error_in_exec, ValueError)
    assert "f(np.ones(3), np.ones(4))" in out and "do not broadcast" in out
    assert "node inputs: shape (3,) float64, shape (4,) float64" in out
    for internal in ("function_type.py", "linker.py", "tiered.py", "interactiveshell.py", "During handling"):
        assert internal not in out, internal
    # plain Python: the chain of internal frames is gone too (only Function.__call__'s raise is left)
    import traceback

    try:
        numba_fn(np.ones(3), np.ones(4))
    except ValueError as exc:
        frames = traceback.extract_tb(exc.__traceback__)
    assert not any("linker.py" in fr.filename for fr in frames)
    assert [fr.filename.endswith("function_type.py") for fr in frames] == [False, True]


def test_python_mode_failing_call_runs_the_graph_once_and_hides_internal_frames():
    x, y = pt.vector("x"), pt.vector("y")
    f = opgraph.function([x, y], CountedDouble()(x) + y, mode="PYTHON")
    CountedDouble.runs = 0
    result, out = _run_in_ipython({"g": f, "np": np}, "g(np.ones(3), np.ones(4))")
    assert isinstance(result.error_in_exec, ValueError)
    assert CountedDouble.runs == 1
    assert "g(np.ones(3), np.ones(4))" in out and "do not broadcast" in out
    assert "src/opgraph/" not in out.split("node inputs")[0]   # no opgraph frame before the message

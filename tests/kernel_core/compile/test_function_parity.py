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

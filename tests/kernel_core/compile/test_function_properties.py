"""Property: a compiled function agrees with the reference interpreter (Variable.eval)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import opgraph
import opgraph.tensor as pt

UNARY = [pt.exp, pt.sin, pt.tanh, lambda v: v * 2.5, lambda v: -v, lambda v: v + 1]
BINARY = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b]


@settings(max_examples=25, deadline=None)
@given(ops=st.lists(st.tuples(st.integers(0, len(UNARY) - 1), st.integers(0, len(BINARY) - 1)),
                    min_size=1, max_size=6),
       values=st.lists(st.floats(-2, 2), min_size=3, max_size=3),
       mode=st.sampled_from(["PYTHON", "FAST_COMPILE"]))
def test_compiled_matches_eval(ops, values, mode):
    x, y = pt.vector("x"), pt.vector("y")
    z = x
    for u, b in ops:
        z = BINARY[b](UNARY[u](z), y)
    xv = np.array(values)
    yv = np.array(values[::-1])
    f = opgraph.function([x, y], [z, z.sum()], mode=mode)
    got, total = f(xv, yv)
    want = z.eval({x: xv, y: yv})
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(total, want.sum(), rtol=1e-10, atol=1e-10)
    # Inputs untouched, repeated calls identical.
    np.testing.assert_array_equal(xv, np.array(values))
    np.testing.assert_allclose(f(xv, yv)[0], got)

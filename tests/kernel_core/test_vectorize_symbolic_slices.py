"""vectorize_graph of graphs with symbolic slices (``roll``'s shift, ``x[k:]``): the
bounds are computed from core lengths and unbatched scalars, so they stay scalars."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.graph import vectorize_graph


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_roll_and_symbolic_slice_vectorize(mode):
    x, k = pt.vector("x"), pt.lscalar("k")
    m = pt.matrix("m")
    xs, ms = pt.matrix("xs"), pt.tensor(shape=(None, None, None), name="ms")
    core = [pt.roll(x, k), x[k:], x[: x.shape[0] - k], pt.roll(m, k, axis=0)]
    batched = vectorize_graph(core, {x: xs, m: ms})
    f = opgraph.function([xs, ms, k], batched, mode=mode)
    xv, mv = np.arange(8.0).reshape(2, 4), np.arange(24.0).reshape(2, 3, 4)
    rolled, tail, head, rolled_rows = f(xv, mv, 3)
    np.testing.assert_array_equal(rolled, np.roll(xv, 3, axis=-1))
    np.testing.assert_array_equal(tail, xv[:, 3:])
    np.testing.assert_array_equal(head, xv[:, :1])
    np.testing.assert_array_equal(rolled_rows, np.roll(mv, 3, axis=1))


def test_a_shift_that_differs_per_batch_element_is_refused_clearly():
    x, k = pt.vector("x"), pt.lscalar("k")
    with pytest.raises(NotImplementedError, match="used as one scalar .*cannot differ between batch elements"):
        vectorize_graph(pt.roll(x, k), {x: pt.matrix("xs"), k: pt.lvector("ks")})

"""``geomspace`` with a zero bound raises NumPy's ValueError (issue 22): at build
time for constant bounds, when the compiled function runs otherwise (both modes)."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad


def test_constant_zero_bound_raises_at_build_time():
    with pytest.raises(ValueError, match="Geometric sequence cannot include zero") as numpy_error:
        np.geomspace(0.0, 10.0, 5)
    for start, end, which in [(0, 10.0, "start"), (1.0, 0.0, "end"), (np.array([1.0, 0.0]), 3.0, "start")]:
        with pytest.raises(ValueError, match=f"geomspace: {numpy_error.value}.*{which} is 0"):
            pt.geomspace(start, end, 5)


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_symbolic_zero_bound_raises_when_run(mode):
    s, e = pt.dscalar("s"), pt.dvector("e")
    y = pt.geomspace(s, e, 4)
    f = opgraph.function([s, e], [y, grad(y.sum(), s)], mode=mode)
    values, g = f(2.0, np.array([16.0, 54.0]))
    np.testing.assert_allclose(values, np.geomspace(2.0, [16.0, 54.0], 4))
    # d/ds of s**(1-t) e**t summed over t = k/3, per column.
    t = np.arange(4) / 3
    expected = sum(((1 - t) * 2.0 ** -t * c ** t).sum() for c in (16.0, 54.0))
    np.testing.assert_allclose(g, expected)
    for start, end in [(0.0, np.array([16.0, 54.0])), (2.0, np.array([16.0, 0.0]))]:
        with pytest.raises(ValueError, match="geomspace: Geometric sequence cannot include zero"):
            f(start, end)

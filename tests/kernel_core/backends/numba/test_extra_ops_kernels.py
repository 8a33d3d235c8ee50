"""The Numba Unique and Searchsorted kernels against NumPy on edge cases: empty
arrays, empty rows, NaNs (one compiled function called on many shapes)."""

import numpy as np

import opgraph
import opgraph.tensor as pt


def test_unique_and_searchsorted_kernels_on_edge_cases():
    m, x, v = pt.lmatrix("m"), pt.dvector("x"), pt.dmatrix("v")
    outs = [*pt.unique(m, True, True, True), *pt.unique(m, True, True, True, axis=0),
            *pt.unique(m, True, True, True, axis=1), pt.searchsorted(x, v), pt.searchsorted(x, v, side="right")]
    f = opgraph.function([m, x, v], outs, mode="NUMBA")
    assert "objmode" not in f.maker.thunk.source
    rng = np.random.default_rng(0)
    for shape in [(0, 0), (0, 3), (3, 0), (1, 1), (4, 3), (5, 2)]:
        mv = rng.integers(0, 2, size=shape)
        for xs, vs in [((0,), (0, 2)), ((3,), (2, 0)), ((5,), (3, 3))]:
            xv = np.sort(rng.choice([0.0, 1.0, np.nan, 2.0], size=xs))
            vv = rng.choice([0.0, 1.0, np.nan, 5.0], size=vs)
            want = [*np.unique(mv, True, True, True), *np.unique(mv, True, True, True, axis=0),
                    *np.unique(mv, True, True, True, axis=1), np.searchsorted(xv, vv),
                    np.searchsorted(xv, vv, side="right")]
            for k, (g, w) in enumerate(zip(f(mv, xv, vv), want, strict=True)):
                assert g.dtype == w.dtype and g.shape == w.shape, (shape, k, g, w)
                np.testing.assert_array_equal(g, w, err_msg=f"shape {shape}, output {k}")

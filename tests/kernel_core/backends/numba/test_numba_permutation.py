"""The Numba backend's permutation (written out in random.py, not numba's g.permutation):
NumPy's stream at the edges the statistics test does not reach -- empty and length-1
vectors, float values, a 2-d batch."""

import numpy as np

import opgraph
import opgraph.tensor as pt


def test_permutation_edges_match_numpy():
    cases = [(np.arange(0), None), (np.arange(1.0, 2.0), None), (np.linspace(0, 1, 7), (3, 2))]
    draws = [pt.random.permutation(x, size=size, rng=opgraph.shared(np.random.default_rng(5 + i)))
             for i, (x, size) in enumerate(cases)]
    got = opgraph.function([], draws, mode="NUMBA")()   # one compilation for the three
    for i, ((x, size), g) in enumerate(zip(cases, got)):
        ref_rng = np.random.default_rng(5 + i)
        shape = size if size is not None else ()
        ref = np.empty(tuple(shape) + x.shape, x.dtype)
        for idx in np.ndindex(*shape):
            ref[idx] = ref_rng.permutation(x.copy())
        assert g.dtype == ref.dtype and np.array_equal(g, ref), (x, size)

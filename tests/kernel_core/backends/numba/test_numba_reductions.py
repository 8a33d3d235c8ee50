"""Max / Min over every axis in mode NUMBA accumulate in a local, from the first element
(reduction.py): NumPy's values for floats with NaN and infinities, ints, bools, 0-d and
3-d inputs, inside fused expressions and a scan step, and NumPy's ValueError on an
empty input."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt

NUMBA = opgraph.Mode("NUMBA", tiered=False)


def test_full_max_min_match_numpy():
    v, t, s = pt.vector("v"), pt.tensor3("t"), pt.scalar("s")
    iv, bv = pt.lvector("iv"), pt.vector("bv", dtype="bool")
    steps, _ = opgraph.scan(lambda row: row.max() - row.min(), sequences=t[0])
    outs = [v.max(), v.min(), t.max(), t.min(), s.max(), iv.max(), iv.min(), bv.max(), bv.min(),
            pt.exp(v - v.max()).sum(), steps]
    f = opgraph.function([v, t, s, iv, bv], outs, mode=NUMBA)
    assert "seen" not in f.maker.thunk.source   # the local accumulator, not the per-output flags
    rng = np.random.default_rng(0)
    tv = rng.normal(size=(2, 3, 4))

    def numpy(vv, tv, sv, ivv, bvv):
        with np.errstate(invalid="ignore"):   # inf - inf: NaN, as in the compiled graph
            return [vv.max(), vv.min(), tv.max(), tv.min(), sv, ivv.max(), ivv.min(), bvv.max(), bvv.min(),
                    np.exp(vv - vv.max()).sum(), tv[0].max(axis=1) - tv[0].min(axis=1)]

    for vv in (rng.normal(size=5), np.array([1.0, np.nan, 3.0]), np.array([np.nan, 2.0]),
               np.array([-np.inf, -np.inf]), np.array([7.5])):
        args = [vv, tv, np.array(-2.5), np.array([3, -9, 4]), np.array([False, True, False])]
        for got, want in zip(f(*args), numpy(*args)):
            want = np.asarray(want)
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-12)


def test_max_of_an_empty_array_raises_numpys_error():
    v = pt.vector("v")
    f = opgraph.function([v], [v.max(), v.min()], mode=NUMBA)
    with pytest.raises(ValueError, match="of an empty array has no identity"):
        f(np.empty(0))

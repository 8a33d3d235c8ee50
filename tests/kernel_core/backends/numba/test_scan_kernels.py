"""scan_kernels: the loop for a step's small matrix-vector product (matvec / loop_matrix),
against NumPy for every layout, both float dtypes, empty and odd sizes, and the BLAS path."""

import numpy as np
import pytest

from opgraph.kernel_core.backends.numba.scan_kernels import LOOP_ELEMENTS, loop_matrix, matvec


def _product(m, v):
    mt = loop_matrix(m)
    out = np.full(m.shape[0], np.nan, dtype=m.dtype)
    got = matvec(mt, v, out)
    assert got is out or np.shares_memory(got, out)
    return got, mt


@pytest.mark.parametrize("shape", [(50, 50), (9, 17), (17, 9), (1, 8), (3, 0), (0, 3)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matvec_matches_numpy(shape, dtype):
    rng = np.random.default_rng(0)
    m = rng.normal(size=shape).astype(dtype)
    v = rng.normal(size=shape[1]).astype(dtype)
    rtol = 1e-12 if dtype == "float64" else 1e-5
    strided = np.zeros((shape[0], 2 * shape[1]), dtype=dtype)[:, ::2]
    strided[...] = m
    for mm in (m, np.asfortranarray(m), strided):   # C, F (a transposed view's layout), strided
        got, mt = _product(mm, v)
        np.testing.assert_allclose(got, m.astype("float64") @ v.astype("float64"), rtol=rtol, atol=rtol)
        if m.size:
            assert mt.shape == (shape[1], shape[0]) and mt.flags.c_contiguous


def test_matvec_strided_vector_and_blas_path():
    rng = np.random.default_rng(1)
    m = rng.normal(size=(6, 5))
    v = rng.normal(size=10)[::2]
    got, _ = _product(m, v)
    np.testing.assert_allclose(got, m @ v, rtol=1e-12)
    side = int(np.sqrt(LOOP_ELEMENTS)) + 1          # past the loop's size: BLAS
    big = rng.normal(size=(side, side))
    w = rng.normal(size=side)
    for bb in (big, np.asfortranarray(big)):
        got, mt = _product(bb, w)
        assert mt.flags.c_contiguous and mt.shape == (side, side)
        np.testing.assert_allclose(got, big @ w, rtol=1e-10)
    with pytest.raises(ValueError, match="not aligned"):
        matvec(loop_matrix(m), np.ones(4), np.empty(6))


def test_one_compiled_matvec_serves_every_layout():
    rng = np.random.default_rng(2)
    m = rng.normal(size=(4, 4))
    for mm in (m, m.T, m[:, ::-1], np.asfortranarray(m)):
        _product(mm, rng.normal(size=4))
    # The matrix's argument has one type whatever m's layout (C, F, reversed, strided).
    assert len({sig[0] for sig in matvec.signatures if str(sig[0].dtype) == "float64"}) == 1

"""Kernels written without numba's costly-to-compile array helpers: axis permutations as
strided views (views.py, not ``np.transpose(x, axes)``), and block / row copies as scalar
loops (kron, solve_triangular with a matrix right-hand side, lu's permuted L), not
array-valued setitems.  Both numba helpers have error paths that format strings, which
costs seconds of every process's first compile; the compiled graph must not contain them,
and its values must equal mode PYTHON's."""

import numpy as np

import opgraph
import opgraph.tensor as pt
import opgraph.tensor.linalg as la


def test_permutations_and_block_copies_compile_without_numba_error_paths():
    A, B, b = pt.matrix("A"), pt.matrix("B"), pt.vector("b")
    T = pt.tensor3("T")
    outs = [la.kron(A, B), la.kron(b, b), la.solve_triangular(A, B, lower=True),
            la.solve_triangular(A, B, trans=1, unit_diagonal=True), la.lu(B.T, permute_l=True)[0],
            T.dimshuffle(2, 0, 1) * 2.0, *opgraph.tensor.unique(T, axis=1, return_inverse=True)]
    rng = np.random.default_rng(3)
    a = np.tril(rng.normal(size=(4, 4))) + 4.0 * np.eye(4)
    values = [a, rng.normal(size=(4, 3)), rng.normal(size=3),
              np.repeat(rng.integers(0, 3, size=(2, 3, 4)).astype(float), 2, axis=1)]
    mine = opgraph.function([A, B, b, T], outs, mode=opgraph.Mode("NUMBA", tiered=False))
    theirs = opgraph.function([A, B, b, T], outs, mode="PYTHON")
    for got, want in zip(mine(*values), theirs(*values)):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    llvm = "".join(mine.maker.thunk.dispatcher.inspect_llvm().values())
    assert "permute_arrays" not in llvm
    assert "raise_with_shape_context" not in llvm

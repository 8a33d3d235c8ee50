"""Linear algebra through ``jnp.linalg``, ``jax.scipy.linalg`` and ``jax.lax.linalg``.

JAX reports a failed factorization with nan entries, never an exception.
``cholesky(..., on_error="raise")`` of a matrix that is not positive definite
therefore checks its factor (``checks.jax_check``) and raises ``LinAlgError``
after the call, as the other modes do; ``on_error="nan"`` gives a factor of nan only.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from opgraph.kernel_core.backends.jax.checks import jax_check, register_checking_op
from opgraph.kernel_core.backends.jax.dispatch import jax_funcify
from opgraph.kernel_core.tensor import linalg as la
from opgraph.kernel_core.tensor.linalg_expm import Expm
from opgraph.kernel_core.tensor.linalg_lu import LU, LUFactor, PivotToPermutation


def _typed(node, fn):
    """``fn`` with each output cast to the node's output dtype."""
    dtypes = [np.dtype(o.type.dtype) for o in node.outputs]
    if len(dtypes) == 1:
        return lambda *args: jnp.asarray(fn(*args)).astype(dtypes[0])
    return lambda *args: tuple(jnp.asarray(r).astype(d) for r, d in zip(fn(*args), dtypes))


def _register(cls, make):
    @jax_funcify.register(cls)
    def impl(op, node, **kwargs):
        return _typed(node, make(op, node))
    return impl


def _mT(x):
    return jnp.swapaxes(x, -1, -2)


_register(la.Det, lambda op, node: jnp.linalg.det)
_register(la.SLogDet, lambda op, node: lambda x: tuple(jnp.linalg.slogdet(x)))
_register(la.MatrixInverse, lambda op, node: jnp.linalg.inv)
_register(la.Pinv, lambda op, node: lambda x: jnp.linalg.pinv(x, hermitian=op.hermitian))
_register(la.Eigh, lambda op, node: lambda x: tuple(jnp.linalg.eigh(x)))
_register(la.Kron, lambda op, node: jnp.kron)
_register(la.AllocDiag, lambda op, node: lambda v: jnp.diag(v, op.offset))
_register(la.ExtractDiag, lambda op, node: lambda x: jnp.diagonal(x, op.offset, op.axis1, op.axis2))
_register(Expm, lambda op, node: jsl.expm)


def _solve(op, node):
    # 'tridiagonal' (and any structure JAX has no routine for) is solved as a general system.
    assume_a = op.assume_a if op.assume_a in ("gen", "sym", "her", "pos") else "gen"
    return lambda A, b: jsl.solve(A, b, lower=op.lower, assume_a=assume_a)


_register(la.Solve, _solve)
_register(la.SolveTriangular, lambda op, node: lambda A, b: jsl.solve_triangular(
    A, b, trans=op.trans, lower=op.lower, unit_diagonal=op.unit_diagonal))


def _cholesky(op, node):
    def cholesky(x):
        L = jnp.linalg.cholesky(x)
        if op.on_error == "raise":
            # nan from a finite matrix: not positive definite (a nan input propagates).
            jax_check(jnp.all(jnp.isfinite(L)) | ~jnp.all(jnp.isfinite(x)), np.linalg.LinAlgError,
                      "cholesky: the matrix is not positive definite")
        else:   # as the other modes: every entry nan (JAX leaves the upper triangle's zeros)
            L = jnp.where(jnp.any(jnp.isnan(L), axis=(-2, -1), keepdims=True), jnp.nan, L)
        return L if op.lower else jnp.conj(_mT(L))
    return cholesky


register_checking_op(la.Cholesky, when=lambda op: op.on_error == "raise")


_register(la.Cholesky, _cholesky)


def _svd(op, node):
    if not op.compute_uv:
        return lambda x: jnp.linalg.svd(x, full_matrices=op.full_matrices, compute_uv=False)
    return lambda x: tuple(jnp.linalg.svd(x, full_matrices=op.full_matrices, compute_uv=True))


_register(la.SVD, _svd)


def _qr(op, node):
    if op.mode == "r":
        return lambda x: jnp.linalg.qr(x, mode="r")
    return lambda x: tuple(jnp.linalg.qr(x, mode=op.mode))


_register(la.QR, _qr)


def _embed_diag(op, node):
    k, axis1, axis2 = op.offset, op.axis1, op.axis2

    def embed_diag(template, v):
        out = jnp.zeros(jnp.shape(template), node.outputs[0].type.dtype)
        view = jnp.moveaxis(out, (axis1, axis2), (-2, -1))
        length = v.shape[-1]
        rows = np.arange(length) + max(0, -k)
        cols = np.arange(length) + max(0, k)
        view = view.at[..., rows, cols].set(v)
        return jnp.moveaxis(view, (-2, -1), (axis1, axis2))
    return embed_diag


_register(la.EmbedDiag, _embed_diag)


def _lu(op, node):
    def lu(a):
        m, n = a.shape
        k = min(m, n)
        packed, _, perm = jax.lax.linalg.lu(a)
        L = jnp.tril(packed[:, :k], -1) + jnp.eye(m, k, dtype=packed.dtype)
        U = jnp.triu(packed[:k, :])
        # JAX: a[perm] = L @ U; SciPy: a = P @ L @ U, so P = I[perm].T and p = argsort(perm).
        if op.permute_l:
            return L[jnp.argsort(perm)], U
        if op.p_indices:
            return jnp.argsort(perm), L, U
        return jnp.eye(m, dtype=packed.dtype)[perm].T, L, U
    return lu


_register(LU, _lu)
_register(LUFactor, lambda op, node: lambda a: tuple(jsl.lu_factor(a)))


def _pivot_to_permutation(op, node):
    def pivot_to_permutation(piv):
        perm = jax.lax.linalg.lu_pivots_to_permutation(piv, piv.shape[0])
        return jnp.argsort(perm) if op.inverse else perm
    return pivot_to_permutation


_register(PivotToPermutation, _pivot_to_permutation)

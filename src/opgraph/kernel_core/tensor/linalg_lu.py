"""LU factorisations (``pt.linalg.lu``, ``lu_factor``, ``lu_solve``), as in ``scipy.linalg``.

- ``LU`` returns ``P, L, U`` with ``a = P @ L @ U`` (``permute_l=True``: ``P @ L, U``;
  ``p_indices=True``: the row indices ``p`` with ``a = L[p] @ U``).
- ``LUFactor`` returns LAPACK's compact form: ``L`` (unit diagonal not stored) and
  ``U`` in one matrix, and the pivots ``piv`` (row ``i`` was swapped with row
  ``piv[i]``, in order).
- ``PivotToPermutation`` turns those pivots into the row permutation ``perm`` with
  ``a[perm] = L @ U`` (``inverse=True``: its inverse, scipy's ``p_indices``).
- ``lu_solve`` is built from ``PivotToPermutation`` and two triangular solves,
  so its gradient (w.r.t. the factors and ``b``) comes from theirs.

Pullback of ``a' = L @ U`` (``a' = P.T @ a``, square ``a``): with ``M =
tril(L.T @ gL, -1) + triu(gU @ U.T)``, ``ga' = L^-T @ M @ U^-T`` -- the
standard identity from differentiating ``L^-1 da' U^-1 = L^-1 dL + dU U^-1``
(strictly lower plus upper triangular parts).
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Apply
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.linalg import (
    _apply,
    _b_ndim,
    _check_core_matrix,
    _check_matrix,
    _CoreOp,
    _float_dtype,
    _mm,
    _mT,
    _scipy_linalg,
    _tril,
    _triu,
    solve_triangular,
)
from opgraph.kernel_core.tensor.type import TensorType

__all__ = ["LU", "LUFactor", "PivotToPermutation", "lu", "lu_factor", "lu_solve", "pivot_to_permutation"]


def _min_dim(m, n):
    return None if m is None or n is None else min(m, n)


def _lu_pullback(A, L, U, gL, gU):
    """``ga'`` for ``a' = L @ U`` (see the module docstring); None gradients count as 0."""
    from opgraph.kernel_core.tensor.math import zeros_like

    gL = zeros_like(L) if gL is None else as_tensor_variable(gL)
    gU = zeros_like(U) if gU is None else as_tensor_variable(gU)
    M = _tril(_mm(_mT(L), gL), -1) + _triu(_mm(gU, _mT(U)))
    # L^-T M U^-T: two triangular solves instead of two inverses.
    left = solve_triangular(L, M, lower=True, trans=1, unit_diagonal=True)
    return _mT(solve_triangular(U, _mT(left), lower=False, trans=0))


def _require_square_for_grad(A, who):
    m, n = A.type.shape[-2:]
    if m is not None and n is not None and m != n:
        raise NotImplementedError(f"{who}: the gradient is implemented for square matrices, got {A} "
                                  f"of shape {A.type.shape}")


class LU(_CoreOp):
    """``scipy.linalg.lu``: ``P, L, U`` (or ``P @ L, U``, or ``p, L, U``)."""

    __props__ = ("permute_l", "p_indices")

    def __init__(self, permute_l=False, p_indices=False):
        self.permute_l = bool(permute_l)
        self.p_indices = bool(p_indices)
        if self.permute_l:
            self.gufunc_signature = "(m,n)->(m,k),(k,n)"
        elif self.p_indices:
            self.gufunc_signature = "(m,n)->(m),(m,k),(k,n)"
        else:
            self.gufunc_signature = "(m,n)->(m,m),(m,k),(k,n)"

    def __str__(self):
        extra = [f"{p}=True" for p in self.__props__ if getattr(self, p)]
        return "LU" + ("{" + ", ".join(extra) + "}" if extra else "")

    def make_node(self, a):
        a = _check_core_matrix(a, "lu")
        dt = _float_dtype(a.type.dtype)
        m, n = a.type.shape
        k = _min_dim(m, n)
        L = TensorType(dt, (m, k)).make_variable()
        U = TensorType(dt, (k, n)).make_variable()
        if self.permute_l:
            return Apply(self, [a], [L, U])
        P = TensorType("int64", (m,)) if self.p_indices else TensorType(dt, (m, m))
        return Apply(self, [a], [P.make_variable(), L, U])

    def perform(self, node, inputs, output_storage):
        res = _scipy_linalg().lu(inputs[0], permute_l=self.permute_l, p_indices=self.p_indices)
        for store, value, var in zip(output_storage, res, node.outputs):
            store[0] = np.asarray(value, dtype=var.type.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        from opgraph.kernel_core.tensor.math import minimum

        m, n = input_shapes[0]
        k = minimum(m, n)
        shapes = [(m, k), (k, n)]
        if self.permute_l:
            return shapes
        return [(m,) if self.p_indices else (m, m)] + shapes

    def L_op(self, inputs, outputs, output_grads):
        (A,) = inputs
        _require_square_for_grad(A, "lu")
        if self.permute_l:
            PL, U = outputs
            gPL, gU = output_grads
            # a = (P L) U is already a product of the two outputs: no permutation to undo.
            perm = pivot_to_permutation(lu_factor(A)[1])
            L = _take_rows(PL, perm)
            gL = None if gPL is None else _take_rows(as_tensor_variable(gPL), perm)
            return [_put_rows(_lu_pullback(A, L, U, gL, gU), perm)]
        P, L, U = outputs
        _, gL, gU = output_grads
        ga = _lu_pullback(A, L, U, gL, gU)
        if self.p_indices:
            # a = L[p] @ U: row i of a is row p[i] of L U.
            return [_take_rows(ga, P)]
        return [_mm(P, ga)]


def lu(a, permute_l=False, check_finite=True, p_indices=False):
    """LU factorisation with partial pivoting, as ``scipy.linalg.lu`` (leading dims batch)."""
    a = _check_matrix(a, "lu")
    if permute_l and p_indices:
        raise ValueError("lu: permute_l=True and p_indices=True cannot be used together")
    op = LU(permute_l, p_indices)
    if a.type.ndim == 2:
        return tuple(op(a, return_list=True))
    from opgraph.kernel_core.tensor.blockwise import Blockwise

    return tuple(Blockwise(op, op.gufunc_signature).make_node(a).outputs)


class LUFactor(_CoreOp):
    """``scipy.linalg.lu_factor``: the compact ``LU`` matrix and the int32 pivots."""

    __props__ = ()
    gufunc_signature = "(m,n)->(m,n),(k)"

    def make_node(self, a):
        a = _check_core_matrix(a, "lu_factor")
        m, n = a.type.shape
        return Apply(self, [a], [TensorType(_float_dtype(a.type.dtype), (m, n)).make_variable(),
                                 TensorType("int32", (_min_dim(m, n),)).make_variable()])

    def perform(self, node, inputs, output_storage):
        (a,) = inputs
        lu_, piv = _scipy_linalg().lu_factor(a)
        output_storage[0][0] = np.asarray(lu_, dtype=node.outputs[0].type.dtype)
        output_storage[1][0] = np.asarray(piv, dtype="int32")

    def infer_shape(self, fgraph, node, input_shapes):
        from opgraph.kernel_core.tensor.math import minimum

        m, n = input_shapes[0]
        return [(m, n), (minimum(m, n),)]

    def L_op(self, inputs, outputs, output_grads):
        (A,) = inputs
        _require_square_for_grad(A, "lu_factor")
        LU_, piv = outputs
        gLU = output_grads[0]
        if gLU is None:
            return [None]
        from opgraph.kernel_core.tensor.construction import eye

        gLU = as_tensor_variable(gLU)
        n = A.shape[-1]
        L = _tril(LU_, -1) + eye(n, dtype=LU_.type.dtype)
        U = _triu(LU_)
        ga = _lu_pullback(A, L, U, _tril(gLU, -1), _triu(gLU))
        return [_put_rows(ga, pivot_to_permutation(piv))]


def lu_factor(a, check_finite=True):
    """``(LU, piv)`` as ``scipy.linalg.lu_factor`` (leading dims batch)."""
    a = _check_matrix(a, "lu_factor")
    op = LUFactor()
    if a.type.ndim == 2:
        return tuple(op(a, return_list=True))
    from opgraph.kernel_core.tensor.blockwise import Blockwise

    return tuple(Blockwise(op, op.gufunc_signature).make_node(a).outputs)


class PivotToPermutation(Op):
    """LAPACK's sequential row swaps ``piv`` as the permutation ``perm`` (``a[perm] = L @ U``)."""

    __props__ = ("inverse",)
    gufunc_signature = "(m)->(m)"

    def __init__(self, inverse=False):
        self.inverse = bool(inverse)

    def __str__(self):
        return "PivotToPermutation" + ("{inverse=True}" if self.inverse else "")

    def make_node(self, piv):
        piv = as_tensor_variable(piv)
        if piv.type.ndim != 1 or piv.type.dtype[0] not in "iu":
            raise TypeError(f"pivot_to_permutation: piv must be an integer vector, got {piv} "
                            f"({piv.type.short_str()})")
        return Apply(self, [piv], [TensorType("int64", piv.type.shape).make_variable()])

    def perform(self, node, inputs, output_storage):
        (piv,) = inputs
        perm = np.arange(piv.shape[0], dtype=np.int64)
        for i, k in enumerate(piv):
            perm[i], perm[k] = perm[k], perm[i]
        output_storage[0][0] = np.argsort(perm) if self.inverse else perm

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        return [None]


def pivot_to_permutation(piv, inverse=False):
    return _apply(PivotToPermutation(inverse), piv)


def _take_rows(x, perm):
    """``x[..., perm, :]`` for a (batch of) matrix ``x`` and permutation vector(s) ``perm``."""
    from opgraph.kernel_core.tensor.extra_ops import take_along_axis
    from opgraph.kernel_core.tensor.construction import broadcast_to

    perm = as_tensor_variable(perm)
    idx = perm.dimshuffle(*range(perm.type.ndim), "x")
    return take_along_axis(x, broadcast_to(idx, x.shape), x.type.ndim - 2)


def _put_rows(x, perm):
    """``y`` with ``y[..., perm, :] = x``: the inverse of ``_take_rows``."""
    from opgraph.kernel_core.tensor.extra_ops import argsort

    return _take_rows(x, argsort(perm, axis=-1))


def lu_solve(LU_and_pivots, b, trans=0, b_ndim=None, check_finite=True, overwrite_b=False):
    """Solve ``a @ x = b`` (``trans=1``: ``a.T @ x = b``) from ``lu_factor(a)``'s ``(LU, piv)``."""
    from opgraph.kernel_core.tensor.extra_ops import take_along_axis
    from opgraph.kernel_core.tensor.construction import broadcast_to

    LU_, piv = LU_and_pivots
    LU_ = _check_matrix(LU_, "lu_solve")
    b = as_tensor_variable(b)
    b_ndim = _b_ndim(b, b_ndim)
    trans = {0: 0, "N": 0, 1: 1, "T": 1, 2: 1, "C": 1, False: 0, True: 1}.get(trans)
    if trans is None:
        raise ValueError("lu_solve: trans must be 0/'N', 1/'T' or 2/'C'")
    perm = pivot_to_permutation(piv, inverse=bool(trans))

    def permute(v):
        p = as_tensor_variable(perm)
        if b_ndim == 2:
            p = p.dimshuffle(*range(p.type.ndim), "x")
        if p.type.ndim > v.type.ndim:
            # Batched factors, one right-hand side: the same b for every matrix of the batch.
            batch = [p.shape[d] for d in range(p.type.ndim - v.type.ndim)]
            v = broadcast_to(v, batch + [v.shape[d] for d in range(v.type.ndim)])
        return take_along_axis(v, broadcast_to(p, v.shape), v.type.ndim - b_ndim)

    if not trans:
        y = solve_triangular(LU_, permute(b), lower=True, unit_diagonal=True, b_ndim=b_ndim)
        return solve_triangular(LU_, y, lower=False, b_ndim=b_ndim)
    z = solve_triangular(LU_, b, lower=False, trans=1, b_ndim=b_ndim)
    w = solve_triangular(LU_, z, lower=True, trans=1, unit_diagonal=True, b_ndim=b_ndim)
    return permute(w)

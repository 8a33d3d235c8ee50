"""Linear-algebra rewrites: use structure the user's graph already reveals.

    inv(inv(x))            -> x
    inv(kron(a, b))        -> kron(inv(a), inv(b))
    det(diag(v))           -> prod(v)
    det(T), T triangular   -> prod(diagonal(T))   (Cholesky factors, tril / triu)
    dot(x, eye), dot(eye, x) -> x
    transpose(transpose(x))  -> x   (DimShuffle merging, canonicalize.py)

Matrix ops may be applied directly (core op) or batched (``Blockwise``); the
rules look through Blockwise to the core op.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.rewriting.db import node_rewriter, register_rewrite
from opgraph.kernel_core.rewriting.pattern import scalar_constant_value
from opgraph.kernel_core.scalar import basic as ps
from opgraph.kernel_core.tensor import linalg as la
from opgraph.kernel_core.tensor.blockwise import Blockwise
from opgraph.kernel_core.tensor.construction import ARange, Eye
from opgraph.kernel_core.tensor.dot import Dot
from opgraph.kernel_core.tensor.elemwise import DimShuffle, Elemwise


def core_op(var):
    """The matrix-level op computing ``var`` (looking through Blockwise), or None."""
    owner = getattr(var, "owner", None)
    if owner is None:
        return None
    op = owner.op
    return op.core_op if isinstance(op, Blockwise) else op


def _is(var, cls):
    return isinstance(core_op(var), cls)


@node_rewriter([la.MatrixInverse, Blockwise])
def inv_inv(fgraph, node):
    """inv(inv(x)) -> x."""
    if not _is(node.outputs[0], la.MatrixInverse):
        return None
    (inner,) = node.inputs
    if not _is(inner, la.MatrixInverse):
        return None
    return [inner.owner.inputs[0]]


@node_rewriter([la.MatrixInverse, Blockwise])
def inv_kron(fgraph, node):
    """inv(kron(a, b)) -> kron(inv(a), inv(b)) for square matrices a, b."""
    if not _is(node.outputs[0], la.MatrixInverse):
        return None
    (k,) = node.inputs
    if k.owner is None or not isinstance(k.owner.op, la.Kron):
        return None
    a, b = k.owner.inputs
    if a.type.ndim != 2 or b.type.ndim != 2:
        return None
    for m in (a, b):
        r, c = m.type.shape
        if r is None or c is None or r != c:
            return None  # only square factors have inverses (kron of rectangles can still be square)
    return [la.kron(la.inv(a), la.inv(b))]


def _is_zero(var):
    v = scalar_constant_value(var)
    return v is not None and v == 0


def _from_arange(var):
    """Whether ``var`` is built from an arange by broadcasting / adding an offset."""
    stack, seen = [var], 0
    while stack and seen < 16:
        seen += 1
        v = stack.pop()
        owner = v.owner
        if owner is None:
            continue
        if isinstance(owner.op, ARange):
            return True
        if isinstance(owner.op, DimShuffle) or (
                isinstance(owner.op, Elemwise) and isinstance(owner.op.scalar_op, (ps.Add, ps.Cast))):
            stack.extend(i for i in owner.inputs if not isinstance(i, Constant))
    return False


def is_triangular(var):
    """A Cholesky factor, or tril / triu (switch on an arange comparison mask with a zero branch)."""
    if _is(var, la.Cholesky):
        return True
    owner = var.owner
    if owner is None or not isinstance(owner.op, Elemwise) or not isinstance(owner.op.scalar_op, ps.Switch):
        return False
    mask, a, b = owner.inputs
    if not (_is_zero(a) or _is_zero(b)):
        return False
    if isinstance(mask, Constant):
        kept = np.asarray(mask.data).astype(bool)
        if kept.ndim < 2 or kept.shape[-1] != kept.shape[-2] or kept.shape[-1] < 1:
            return False
        if _is_zero(a):
            kept = ~kept  # switch(mask, 0, m) keeps m where the mask is False
        return not np.any(np.triu(kept, 1)) or not np.any(np.tril(kept, -1))
    m = mask
    while m.owner is not None and isinstance(m.owner.op, Elemwise) and isinstance(m.owner.op.scalar_op, ps.Cast):
        m = m.owner.inputs[0]
    mo = m.owner
    if mo is None or not isinstance(mo.op, Elemwise) or not isinstance(mo.op.scalar_op, (ps.GE, ps.LE, ps.GT, ps.LT)):
        return False
    return all(_from_arange(i) for i in mo.inputs)


@node_rewriter([la.Det, Blockwise])
def det_diag(fgraph, node):
    """det(diag(v)) -> prod(v)."""
    from opgraph.kernel_core.tensor.reduction import prod

    if not _is(node.outputs[0], la.Det):
        return None
    (x,) = node.inputs
    if x.owner is None or not isinstance(x.owner.op, la.AllocDiag) or x.owner.op.offset != 0:
        return None
    return [prod(x.owner.inputs[0])]


@node_rewriter([la.Det, Blockwise])
def det_triangular(fgraph, node):
    """det(T) -> prod(diagonal(T)) for a triangular T (e.g. a Cholesky factor)."""
    from opgraph.kernel_core.tensor.reduction import prod

    if not _is(node.outputs[0], la.Det):
        return None
    (x,) = node.inputs
    if not is_triangular(x):
        return None
    nd = x.type.ndim
    diagonal = la.ExtractDiag(0, nd - 2, nd - 1)(x)
    return [prod(diagonal, axis=-1)]


def is_identity(var):
    """eye(n) (k = 0, square) or a constant identity matrix."""
    if isinstance(var, Constant):
        data = np.asarray(var.data)
        return data.ndim == 2 and data.shape[0] == data.shape[1] and np.array_equal(data, np.eye(data.shape[0]))
    owner = var.owner
    if owner is None or not isinstance(owner.op, Eye):
        return False
    n, m, k = owner.inputs
    kv = scalar_constant_value(k)
    if kv is None or kv != 0:
        return False
    if n is m:
        return True
    nv, mv = scalar_constant_value(n), scalar_constant_value(m)
    return nv is not None and nv == mv


@node_rewriter([Dot, Blockwise])
def dot_identity(fgraph, node):
    """dot(x, I) -> x and dot(I, x) -> x (also for matmul)."""
    if not _is(node.outputs[0], Dot):
        return None
    a, b = node.inputs
    out = node.outputs[0]
    for keep, other in ((a, b), (b, a)):
        if is_identity(other) and keep.type.ndim == out.type.ndim:
            new = keep
            if new.type.dtype != out.type.dtype:
                from opgraph.kernel_core.tensor.math import cast

                new = cast(new, out.type.dtype)
            return [new]
    return None


register_rewrite(inv_inv, "canonicalize", "linalg")
register_rewrite(inv_kron, "canonicalize", "linalg")
register_rewrite(det_diag, "canonicalize", "linalg")
register_rewrite(det_triangular, "canonicalize", "linalg")
register_rewrite(dot_identity, "canonicalize", "linalg")

"""Fused attention (tags ``specialize``, ``fused_attention``): the chain

    matmul(q, k^T) -> [* scale | / scale] -> [+ mask | switch(mask, ., -inf)] -> softmax(axis=-1) -> matmul(., v)

becomes one ``FusedAttention`` node (``tensor/nnet/attention_fused.py``), whose kernels
never store the ``n_q x n_k`` scores.  It recognizes the spellings users write:
``q @ k.T / sqrt(d)``, ``pt.matmul``, ``pt.dot``, batched over heads (Blockwise
matmul with leading dims), ``scaled_dot_product_attention``; ``k^T`` may be any
expression (a transpose of the last two axes is looked through, anything else is
transposed back); the scale is any scalar (a constant, ``sqrt`` of a shape, ...)
broadcast to the scores, on either side of a ``Mul``.

Dropout between the softmax and the second matmul (a ``Dropout`` node, or its inlined
``softmax * cast(bernoulli(keep)) * (1 / keep)``) is fused too: the bernoulli draw is
replaced by a draw of one integer seed from the same generator (``integers(0, 2^62)``),
whose next generator replaces the bernoulli's -- so the updates that advanced the
dropout's generator (``RandomStream.updates()``, a ``default_update``) advance it still.
The kernels derive the keep mask from the seed (``dropout_keep``); the values differ
from the unfused graph's NumPy stream.  ``inference`` turns a fused op with dropout
into the one without (``fused_attention_no_dropout``).

Not fused (the graph stays as written):

* chains whose scores or weights have other clients -- in particular the graph of a
  gradient taken *before* fusion, which reuses the softmax output.  To get the fused
  gradient, fuse first and differentiate the fused graph: ``fuse_attention(y)``,
  then ``grad`` (the pullback of FusedAttention is ``FusedAttentionGrad``).
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.rewriting.db import node_rewriter, register_rewrite
from opgraph.kernel_core.scalar import basic as ps
from opgraph.kernel_core.tensor.blockwise import Blockwise
from opgraph.kernel_core.tensor.dot import Dot
from opgraph.kernel_core.tensor.elemwise import DimShuffle, Elemwise
from opgraph.kernel_core.tensor.nnet.attention_fused import FusedAttention
from opgraph.kernel_core.tensor.special import Softmax


def _is_matmul(var):
    """Whether ``var`` is a matrix product over its last two axes (Dot of matrices, or
    Blockwise{dot} with batch dims)."""
    owner = var.owner
    if owner is None:
        return False
    op = owner.op
    if isinstance(op, Blockwise):
        return isinstance(op.core_op, Dot) and all(i.type.ndim >= 2 for i in owner.inputs)
    return isinstance(op, Dot) and all(i.type.ndim == 2 for i in owner.inputs)


def _elemwise(var, scalar_cls):
    owner = var.owner
    return owner is not None and isinstance(owner.op, Elemwise) and isinstance(owner.op.scalar_op, scalar_cls)


def _single_client(fgraph, var):
    return len(fgraph.get_clients(var)) == 1


def _as_scalar(var):
    """``var`` as a 0-d graph when it is a scalar broadcast to the scores (every static
    dim 1): a constant's value, or the 0-d input under its ExpandDims; else None."""
    from opgraph.kernel_core.tensor.basic import constant

    if any(s != 1 for s in var.type.shape):
        return None
    if isinstance(var, Constant):
        data = np.asarray(var.data)
        return constant(data.reshape(()), dtype=data.dtype.name)
    while var.type.ndim:
        owner = var.owner
        if owner is None or not isinstance(owner.op, DimShuffle) or owner.op.drop or \
                owner.inputs[0].type.ndim >= var.type.ndim:
            break
        var = owner.inputs[0]
    if var.type.ndim == 0:
        return var
    from opgraph.kernel_core.tensor.shape import reshape

    return reshape(var, ())


def _strip_scale(fgraph, s):
    """``(raw_scores, scale or None, divide)`` for ``s = raw * c``, ``c * raw`` or ``raw / c``."""
    if not (_elemwise(s, ps.Mul) or _elemwise(s, ps.True_div)) or len(s.owner.inputs) != 2:
        return s, None, False
    a, b = s.owner.inputs
    if _elemwise(s, ps.True_div):
        c = _as_scalar(b)
        return (a, c, True) if c is not None and _is_matmul(a) and _single_client(fgraph, a) else (s, None, False)
    for raw, c in ((a, b), (b, a)):
        c = _as_scalar(c)
        if c is not None and _is_matmul(raw) and _single_client(fgraph, raw):
            return raw, c, False
    return s, None, False


def _strip_mask(fgraph, s):
    """``(scores, mask or None)`` for ``switch(mask, scores, -inf)`` or ``scores + mask``."""
    from opgraph.kernel_core.tensor.basic import get_underlying_scalar_constant

    if _elemwise(s, ps.Switch):
        cond, then, other = s.owner.inputs
        fill = get_underlying_scalar_constant(other)
        if cond.type.dtype == "bool" and fill is not None and np.isneginf(fill) and _single_client(fgraph, then):
            return then, cond
        return s, None
    if _elemwise(s, ps.Add) and len(s.owner.inputs) == 2:
        for scores, mask in (s.owner.inputs, s.owner.inputs[::-1]):
            if _looks_like_scores(scores) and _single_client(fgraph, scores) and not _looks_like_scores(mask):
                return scores, mask
    return s, None


def _looks_like_scores(var):
    if _is_matmul(var):
        return True
    return (_elemwise(var, ps.Mul) or _elemwise(var, ps.True_div)) and any(_is_matmul(i) for i in var.owner.inputs)


def _untranspose(kt):
    """``k`` for ``kt = k^T`` over the last two axes."""
    from opgraph.kernel_core.tensor.extra_ops import swapaxes

    owner = kt.owner
    nd = kt.type.ndim
    if owner is not None and isinstance(owner.op, DimShuffle) and not owner.op.augment and not owner.op.drop:
        order = owner.op.new_order
        if tuple(order) == tuple(range(nd - 2)) + (nd - 1, nd - 2):
            return owner.inputs[0]
    return swapaxes(kt, -1, -2)


def _mul_factors(fgraph, var, out):
    """The factors of a product tree under ``var`` (intermediate products with one client)."""
    stack = [var]
    while stack:
        x = stack.pop()
        if _elemwise(x, ps.Mul) and (x is var or _single_client(fgraph, x)):
            stack.extend(x.owner.inputs)
        else:
            out.append(x)
    return out


def _strip_dropout(fgraph, w):
    """``(weights, p, bernoulli node)`` for dropped weights ``w`` (a Dropout node, or the
    product ``softmax * cast(bernoulli(keep)) * c`` with ``c = 1 / keep``); else ``(w, 0, None)``."""
    from opgraph.kernel_core.tensor.basic import get_underlying_scalar_constant
    from opgraph.kernel_core.tensor.nnet.dropout import Dropout
    from opgraph.kernel_core.tensor.random.basic import BernoulliRV

    owner = w.owner
    if owner is None:
        return w, 0.0, None
    if isinstance(owner.op, Dropout):
        factors = [owner.inputs[0]] + _mul_factors(fgraph, owner.inputs[1], [])
    elif _elemwise(w, ps.Mul):
        factors = _mul_factors(fgraph, w, [])
    else:
        return w, 0.0, None
    soft = [f for f in factors if f.owner is not None and isinstance(f.owner.op, Softmax)]
    draws, consts = [], []
    for f in factors:
        if f in soft:
            continue
        x = f
        if _elemwise(x, ps.Cast) and _single_client(fgraph, x):
            x = x.owner.inputs[0]
        if x.owner is not None and isinstance(x.owner.op, BernoulliRV) and x is x.owner.outputs[1] and \
                _single_client(fgraph, x):
            draws.append(x.owner)
            continue
        c = get_underlying_scalar_constant(f)
        if c is None:
            return w, 0.0, None
        consts.append(float(c))
    if len(soft) != 1 or len(draws) != 1:
        return w, 0.0, None
    bern = draws[0]
    keep = get_underlying_scalar_constant(bern.inputs[2])
    if keep is None or not 0 < float(keep) <= 1 or not np.isclose(np.prod(consts), 1.0 / float(keep), rtol=1e-6):
        return w, 0.0, None
    # the softmax's other clients may only be shapes (the draw's size)
    from opgraph.kernel_core.tensor.shape import Shape

    weights = soft[0]
    others = [c for c, _ in fgraph.get_clients(weights) if c != "output" and not isinstance(c.op, Shape)]
    if len(others) != 1:
        return w, 0.0, None
    return weights, round(1.0 - float(keep), 12), bern


@node_rewriter([Dot, Blockwise], name="fused_attention")
def fused_attention_rewrite(fgraph, node):
    """matmul(softmax(mask(scale * q @ k^T)), v) -> FusedAttention(q, k, v, scale, mask)."""
    from opgraph.kernel_core.tensor import math as tm
    from opgraph.kernel_core.tensor.basic import constant
    from opgraph.kernel_core.tensor.nnet.attention_fused import fused_attention

    out = node.outputs[0]
    if not _is_matmul(out):
        return None
    weights, v = node.inputs
    if not _single_client(fgraph, weights):
        return None
    weights, dropout_p, bern = _strip_dropout(fgraph, weights)
    if weights.owner is None or not isinstance(weights.owner.op, Softmax) or \
            (bern is None and not _single_client(fgraph, weights)):
        return None
    if weights.owner.op.axis not in (-1, weights.type.ndim - 1):
        return None
    s = weights.owner.inputs[0]
    if not _single_client(fgraph, s):
        return None
    s, mask = _strip_mask(fgraph, s)
    raw, scale, divide = _strip_scale(fgraph, s)
    if not _is_matmul(raw):
        return None
    q, kt = raw.owner.inputs
    if mask is not None and mask.type.ndim < 2:
        from opgraph.kernel_core.tensor.shape import shape_padleft

        mask = shape_padleft(mask, 2 - mask.type.ndim)
    if scale is None:
        scale = constant(np.asarray(1.0, dtype=out.type.dtype))
    elif divide:
        scale = tm.true_div(constant(np.asarray(1.0, dtype=out.type.dtype)), scale)
    if out.type.dtype != np.result_type(q.type.dtype, kt.type.dtype, v.type.dtype).name:
        return None
    if mask is not None and mask.type.dtype != "bool" and np.result_type(mask.type.dtype, out.type.dtype) != out.type.dtype:
        return None
    seed = None
    if bern is not None:
        from opgraph.kernel_core.tensor.random.basic import integers

        next_rng, seed = integers(0, 2 ** 62, rng=bern.inputs[0], dtype="int64", return_next_rng=True)
    new = fused_attention(q, _untranspose(kt), v, scale, mask=mask, dropout_p=dropout_p, seed=seed)
    if new.type.ndim != out.type.ndim:
        return None
    if bern is None:
        return [new]
    replacements = {out: new}
    if bern.outputs[0] in fgraph.variables:
        replacements[bern.outputs[0]] = next_rng
    return replacements


register_rewrite(fused_attention_rewrite, "specialize", "fast_run", "fused_attention")


@node_rewriter([Blockwise, FusedAttention], name="fused_attention_no_dropout")
def fused_attention_no_dropout(fgraph, node):
    """FusedAttention{dropout=p}(..., seed) -> FusedAttention{dropout=0}(...) (inference)."""
    op = node.op.core_op if isinstance(node.op, Blockwise) else node.op
    if not isinstance(op, FusedAttention) or op.dropout_p == 0:
        return None
    core = FusedAttention(op.mask_kind)
    inputs = node.inputs[:op.n_shared - 1]
    new = (Blockwise(core) if isinstance(node.op, Blockwise) else core)(*inputs)
    return list(new)


register_rewrite(fused_attention_no_dropout, "inference")


def fuse_attention(graph):
    """``graph`` (a variable or a list) with every attention chain fused: differentiate the
    result to get the fused gradient.  A new graph; ``graph`` is not changed."""
    from opgraph.kernel_core.rewriting.api import rewrite_graph

    return rewrite_graph(graph, include=("fused_attention",))


__all__ = ["fused_attention_rewrite", "fused_attention_no_dropout", "fuse_attention"]

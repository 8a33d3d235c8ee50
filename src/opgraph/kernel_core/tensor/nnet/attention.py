"""Scaled dot-product attention as the plain graph
``softmax(mask(q @ k^T * scale)) (dropout) @ v`` -- the form the fused-attention
rewrite looks for."""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.tensor import math as tm
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.dot import matmul
from opgraph.kernel_core.tensor.nnet.dropout import dropout
from opgraph.kernel_core.tensor.special import softmax


def scaled_dot_product_attention(q, k, v, mask=None, dropout_p=0.0, scale=None, rng=None, training=True):
    """``softmax(q @ k^T / sqrt(d) [+ mask], axis=-1) @ v`` over the last two axes
    (leading axes, e.g. batch and heads, broadcast).

    ``mask``: boolean (False: the position is masked out, as PyTorch's) or float
    (added to the scores).  ``dropout_p`` drops attention weights (``rng`` as in
    ``dropout``).  ``scale`` defaults to ``1 / sqrt(d)`` with ``d = q.shape[-1]``.
    """
    from opgraph.kernel_core.tensor.shape import shape
    from opgraph.kernel_core.tensor.extra_ops import swapaxes

    q, k, v = map(as_tensor_variable, (q, k, v))
    for name, t in (("q", q), ("k", k), ("v", v)):
        if t.type.ndim < 2:
            raise ValueError(f"scaled_dot_product_attention: {name} ({t}) needs at least 2 dims "
                             f"(..., sequence, features), got ndim={t.type.ndim}")
    if scale is None:
        d = q.type.shape[-1]
        scale = 1.0 / np.sqrt(d) if d is not None else 1.0 / tm.sqrt(tm.cast(shape(q)[-1], q.type.dtype))
    scores = matmul(q, swapaxes(k, -1, -2)) * scale
    if mask is not None:
        mask = as_tensor_variable(mask)
        if mask.type.dtype == "bool":
            scores = tm.switch(mask, scores, -np.inf)
        else:
            scores = scores + mask
    weights = softmax(scores, axis=-1)
    if dropout_p:
        weights = dropout(weights, dropout_p, rng=rng, training=training)
    return matmul(weights, v)

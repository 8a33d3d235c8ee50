"""The nnet layers in the JAX backend.

``Dropout`` and ``BatchNorm`` are OpFromGraph subclasses (inline; a node survives
only when the graph is compiled without rewrites): their inner graph is traced
like any OpFromGraph's (``op_from_graph.py``), registered here by name so the
coverage check sees them.  Dropout's mask is a ``bernoulli`` draw in the outer
graph (``random.py``); relu, gelu, layer_norm and attention build ordinary
graphs.  ``FusedAttention`` / ``FusedAttentionGrad`` (the fused softmax attention
and its pullback, one head; Blockwise batches them with ``vmap``) compute the same
formulas on the whole score matrix.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from opgraph.kernel_core.backends.jax.dispatch import jax_funcify
from opgraph.kernel_core.backends.jax.op_from_graph import jax_funcify_op_from_graph
from opgraph.kernel_core.tensor.nnet.attention_fused import (FusedAttention, FusedAttentionGrad, _check_mask_shape,
                                                             _check_runtime)
from opgraph.kernel_core.tensor.nnet.dropout import Dropout
from opgraph.kernel_core.tensor.nnet.normalization import BatchNorm

jax_funcify.register(Dropout)(jax_funcify_op_from_graph)
jax_funcify.register(BatchNorm)(jax_funcify_op_from_graph)


# -- fused attention ------------------------------------------------------------------
def _scores(op, q, k, scale, mask):
    s = (q @ k.T) * scale
    if op.mask_kind == "add":
        s = s + mask
    elif op.mask_kind == "bool":
        s = jnp.where(mask, s, -jnp.inf)
    return s


def _check_shapes(q, k, v, mask):
    # Static shapes: the other modes' run-time errors are raised while compiling.
    _check_runtime(q, k, v)
    if mask is not None:
        _check_mask_shape(mask, q.shape[0], k.shape[0])


@jax_funcify.register(FusedAttention)
def jax_funcify_fused_attention(op, node, **kwargs):
    """The scores as one matrix (XLA fuses the softmax; the blocking of the CPU kernels is
    not reproduced: on accelerators XLA picks its own tiling)."""
    dtypes = [o.type.dtype for o in node.outputs]

    def fused_attention(q, k, v, scale, mask=None):
        _check_shapes(q, k, v, mask)
        s = _scores(op, q, k, scale, mask)
        lse = jax.nn.logsumexp(s, axis=1)
        out = jnp.exp(s - lse[:, None]) @ v
        return out.astype(dtypes[0]), lse.astype(dtypes[1])

    return fused_attention


@jax_funcify.register(FusedAttentionGrad)
def jax_funcify_fused_attention_grad(op, node, **kwargs):
    dtypes = [o.type.dtype for o in node.outputs]
    has_mask = op.mask_kind is not None

    def fused_attention_grad(q, k, v, scale, *rest):
        mask = rest[0] if has_mask else None
        out, lse, gout, glse = rest[-4:]
        _check_shapes(q, k, v, mask)
        p = jnp.exp(_scores(op, q, k, scale, mask) - lse[:, None])
        D = jnp.sum(gout * out, axis=1) - glse
        ds = p * (gout @ v.T - D[:, None])
        raw = ds @ k
        results = (scale * raw, scale * (ds.T @ q), p.T @ gout, jnp.sum(raw * q))
        return tuple(r.astype(d) for r, d in zip(results, dtypes))

    return fused_attention_grad

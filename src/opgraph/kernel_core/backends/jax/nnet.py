"""The nnet layers in the JAX backend.

``Dropout`` and ``BatchNorm`` are OpFromGraph subclasses (inline; a node survives
only when the graph is compiled without rewrites): their inner graph is traced
like any OpFromGraph's (``op_from_graph.py``), registered here by name so the
coverage check sees them.  Dropout's mask is a ``bernoulli`` draw in the outer
graph (``random.py``); relu, gelu, layer_norm and attention build ordinary
graphs.  ``FusedAttention`` / ``FusedAttentionGrad`` (the fused softmax attention
and its pullback, one head; Blockwise batches them with ``vmap``) compute the same
formulas on the whole score matrix; with dropout, the keep mask is the Numba kernels'
hash of ``(seed, i, j)`` (``dropout_keep``), so the backends agree bit for bit on it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from opgraph.kernel_core.backends.jax.dispatch import jax_funcify
from opgraph.kernel_core.backends.jax.op_from_graph import jax_funcify_op_from_graph
from opgraph.kernel_core.tensor.nnet.attention_fused import (_GOLD, _M1, _M2, FusedAttention, FusedAttentionGrad,
                                                             _check_mask_shape, _check_runtime)
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


def _finalize(z):
    z = (z ^ (z >> 30)) * jnp.uint64(_M1)
    z = (z ^ (z >> 27)) * jnp.uint64(_M2)
    return z ^ (z >> 31)


def _dropout_scale(op, seed, nq, nk):
    """``keep / (1 - p)`` of the fused dropout: the bits of ``dropout_keep`` (needs x64)."""
    if not jax.config.jax_enable_x64:
        raise RuntimeError(f"JAX {op}: the dropout mask is a 64-bit hash; enable jax_enable_x64")
    gold = jnp.uint64(_GOLD)
    s = _finalize(seed.astype(jnp.uint64) * gold + gold)
    i = jnp.arange(nq, dtype=jnp.uint64)[:, None]
    j = jnp.arange(nk, dtype=jnp.uint64)[None, :]
    z = _finalize(s + (i * jnp.uint64(nk) + j + jnp.uint64(1)) * gold)
    u = (z >> 11).astype(jnp.float64) * (1.0 / 9007199254740992.0)
    return jnp.where(u >= op.dropout_p, 1.0 / (1.0 - op.dropout_p), 0.0)


def _split(op, args):
    q, k, v, scale, mask, seed, rest = op.split_inputs(args)
    _check_shapes(q, k, v, mask)
    drop = _dropout_scale(op, seed, q.shape[0], k.shape[0]) if seed is not None else None
    return q, k, v, scale, mask, drop, rest


@jax_funcify.register(FusedAttention)
def jax_funcify_fused_attention(op, node, **kwargs):
    """The scores as one matrix (XLA fuses the softmax; the blocking of the CPU kernels is
    not reproduced: on accelerators XLA picks its own tiling)."""
    dtypes = [o.type.dtype for o in node.outputs]

    def fused_attention(*args):
        q, k, v, scale, mask, drop, _ = _split(op, args)
        s = _scores(op, q, k, scale, mask)
        lse = jax.nn.logsumexp(s, axis=1)
        p = jnp.exp(s - lse[:, None])
        out = (p if drop is None else p * drop) @ v
        return out.astype(dtypes[0]), lse.astype(dtypes[1])

    return fused_attention


@jax_funcify.register(FusedAttentionGrad)
def jax_funcify_fused_attention_grad(op, node, **kwargs):
    dtypes = [o.type.dtype for o in node.outputs]

    def fused_attention_grad(*args):
        q, k, v, scale, mask, drop, (out, lse, gout, glse) = _split(op, args)
        p = jnp.exp(_scores(op, q, k, scale, mask) - lse[:, None])
        D = jnp.sum(gout * out, axis=1) - glse
        dz = gout @ v.T
        z = p
        if drop is not None:
            z, dz = p * drop, dz * drop
        ds = p * (dz - D[:, None])
        raw = ds @ k
        results = (scale * raw, scale * (ds.T @ q), z.T @ gout, jnp.sum(raw * q))
        return tuple(r.astype(d) for r, d in zip(results, dtypes))

    return fused_attention_grad

"""Fused attention: ``softmax(scale * q @ k^T [mask]) @ v`` as one op that never
holds the ``n_q x n_k`` score matrix.

``FusedAttention`` walks the keys in blocks and keeps, per query row, the running
maximum ``m`` and the running sum ``l`` of ``exp(s - m)`` (the online softmax of
flash attention): when a block raises the maximum, the sum and the accumulated
``sum_j exp(s_j - m) v_j`` are rescaled by ``exp(m_old - m_new)``.  It returns the
output and the row log-sum-exp ``lse = m + log(l)`` -- the one thing the gradient
keeps from the forward pass.

``FusedAttentionGrad`` recomputes the scores block by block from ``q, k`` and the
stored ``lse`` (``p = exp(s - lse)`` is the softmax, exactly), so the backward pass
is O(n d) in memory too (flash attention 2's order: ``D = rowsum(dout * out)``,
``ds = p * (dout @ v^T - D)``).

The working set of both is one ``BLOCK_Q x BLOCK_K`` block of scores
(``workspace_bytes``).  The core ops act on one head (``(n_q, d), (n_k, d),
(n_k, e)``); ``fused_attention`` batches them over leading dims with Blockwise.
The mask, when there is one, is a core input of its own shape (``(1 or n_q, 1 or
n_k)``), broadcast against the scores by the kernels, never materialized.

Dropout on the attention weights (``dropout_p > 0``) is fused too: the op then takes an
integer ``seed`` (the rewrite, ``rewriting/attention.py``, draws it from the dropout's
generator, whose update it keeps), and the keep mask of score ``(i, j)`` is
``dropout_keep``: a counter-based hash of ``(seed, i, j)``, the same bits in every backend,
so the gradient regenerates it instead of storing it.  The weights ``z = p * keep / (1 -
p)`` change nothing in the backward's row term (``rowsum(dz * z) = rowsum(dout * out)``).
The gradient with respect to an additive mask is not implemented with dropout.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Apply
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.type import TensorType

# Rows of queries and of keys per block (the Numba kernels use the same sizes).
BLOCK_Q = 64
BLOCK_K = 256
MASK_KINDS = (None, "add", "bool")


def workspace_bytes(itemsize=8):
    """The scratch memory of the kernels' score blocks, in bytes (the backward's four
    ``BLOCK_Q x BLOCK_K`` blocks): independent of the sequence lengths."""
    return 4 * BLOCK_Q * BLOCK_K * itemsize


def _check_mask_kind(mask_kind):
    if mask_kind not in MASK_KINDS:
        raise ValueError(f"FusedAttention: mask_kind must be one of {MASK_KINDS}, got {mask_kind!r}")


def _float_dtype(*variables):
    dtype = np.result_type(*[v.type.dtype for v in variables])
    if dtype.kind != "f":
        dtype = np.result_type(dtype, np.float64) if dtype.kind in "iub" else dtype
    if dtype.kind != "f":
        raise TypeError(f"FusedAttention: q, k and v must be real, got dtypes {[v.type.dtype for v in variables]}")
    return dtype.name


def _check_core(q, k, v, mask, mask_kind, who):
    for name, t in (("q", q), ("k", k), ("v", v)):
        if t.type.ndim != 2:
            raise ValueError(f"{who}: the core op takes matrices, got {name} = {t} with ndim={t.type.ndim} "
                             "(use fused_attention for batches)")
    if mask_kind is not None:
        if mask is None or mask.type.ndim != 2:
            raise ValueError(f"{who}{{mask={mask_kind}}} needs a 2-d mask, got {mask}")
        if mask_kind == "bool" and mask.type.dtype != "bool":
            raise TypeError(f"{who}{{mask=bool}}: the mask {mask} must be boolean, got {mask.type.dtype}")
        if mask_kind == "add" and mask.type.dtype == "bool":
            raise TypeError(f"{who}{{mask=add}}: the mask {mask} is boolean; use mask_kind='bool'")


def _mask_block(mask, i0, i1, j0, j1):
    """The mask's part for score rows i0:i1, columns j0:j1 (its length-1 axes broadcast)."""
    rows = slice(None) if mask.shape[0] == 1 else slice(i0, i1)
    cols = slice(None) if mask.shape[1] == 1 else slice(j0, j1)
    return mask[rows, cols]


def _check_mask_shape(mask, nq, nk):
    if mask.ndim != 2 or mask.shape[0] not in (1, nq) or mask.shape[1] not in (1, nk):
        raise ValueError(f"FusedAttention: the mask has shape {mask.shape}; the scores are ({nq}, {nk}) "
                         "(each mask axis has that length or 1)")


def _scores(qb, k, scale, mask, mask_kind, i0, i1, j0, j1):
    s = (qb @ k[j0:j1].T) * scale
    if mask_kind == "add":
        s += _mask_block(mask, i0, i1, j0, j1)
    elif mask_kind == "bool":
        s = np.where(_mask_block(mask, i0, i1, j0, j1), s, -np.inf)
    return s


_M1, _M2, _GOLD = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB), np.uint64(0x9E3779B97F4A7C15)


def _finalize(z):
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def dropout_keep(seed, i0, i1, j0, j1, nk, p):
    """The fused dropout's keep mask of scores ``i0:i1, j0:j1`` of a head with ``nk`` keys:
    ``u(seed, i, j) >= p`` with ``u`` a counter-based hash (splitmix64's finalizer) mapped
    to [0, 1).  Every backend computes the same bits."""
    with np.errstate(over="ignore"):
        s = _finalize(np.uint64(np.int64(seed).astype(np.uint64)) * _GOLD + _GOLD)
        i = np.arange(i0, i1, dtype=np.uint64)[:, None]
        j = np.arange(j0, j1, dtype=np.uint64)[None, :]
        z = _finalize(s + (i * np.uint64(nk) + j + np.uint64(1)) * _GOLD)
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0) >= p


def attention_forward(q, k, v, scale, mask=None, mask_kind=None, dropout_p=0.0, seed=None):
    """NumPy reference of the fused forward: ``(out, lse)`` computed block by block."""
    nq, nk = q.shape[0], k.shape[0]
    dtype = np.result_type(q, k, v, np.float32 if q.dtype == np.float32 else np.float64)
    if mask_kind is not None:
        _check_mask_shape(mask, nq, nk)
    out = np.empty((nq, v.shape[1]), dtype=dtype)
    lse = np.empty(nq, dtype=dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        for i0 in range(0, nq, BLOCK_Q):
            i1 = min(i0 + BLOCK_Q, nq)
            qb = q[i0:i1]
            m = np.full(i1 - i0, -np.inf, dtype=dtype)
            l = np.zeros(i1 - i0, dtype=dtype)
            acc = np.zeros((i1 - i0, v.shape[1]), dtype=dtype)
            for j0 in range(0, nk, BLOCK_K):
                j1 = min(j0 + BLOCK_K, nk)
                s = _scores(qb, k, scale, mask, mask_kind, i0, i1, j0, j1)
                m_new = np.maximum(m, s.max(axis=1))
                # A row whose keys are all masked so far has m_new = -inf: it adds nothing yet.
                live = m_new > -np.inf
                safe = np.where(live, m_new, 0.0)
                p = np.exp(s - safe[:, None])
                corr = np.where(live, np.exp(m - safe), 1.0)
                l = l * corr + p.sum(axis=1)
                if dropout_p > 0:
                    p = p * (dropout_keep(seed, i0, i1, j0, j1, nk, dropout_p) / (1.0 - dropout_p))
                acc = acc * corr[:, None] + p @ v[j0:j1]
                m = m_new
            out[i0:i1] = acc / l[:, None]      # a row with every key masked: 0 / 0 = nan, as softmax gives
            lse[i0:i1] = m + np.log(l)
    return out, lse


def attention_backward(q, k, v, scale, mask, mask_kind, out, lse, gout, glse, dropout_p=0.0, seed=None):
    """NumPy reference of the fused backward: ``(dq, dk, dv, dscale)``."""
    nq, nk = q.shape[0], k.shape[0]
    dtype = out.dtype
    dq = np.zeros(q.shape, dtype=dtype)
    dk = np.zeros(k.shape, dtype=dtype)
    dv = np.zeros(v.shape, dtype=dtype)
    dscale = 0.0
    # d lse_i / d s_ij = p_ij, so the lse cotangent enters where the row dot product does;
    # with dropout z = p * keep / (1 - p): rowsum(dz * z) = rowsum(dout * out) still.
    D = np.sum(gout * out, axis=1) - glse
    with np.errstate(invalid="ignore"):
        for i0 in range(0, nq, BLOCK_Q):
            i1 = min(i0 + BLOCK_Q, nq)
            qb, gb = q[i0:i1], gout[i0:i1]
            for j0 in range(0, nk, BLOCK_K):
                j1 = min(j0 + BLOCK_K, nk)
                s = _scores(qb, k, scale, mask, mask_kind, i0, i1, j0, j1)
                p = np.exp(s - lse[i0:i1, None])
                drop = 1.0
                if dropout_p > 0:
                    drop = dropout_keep(seed, i0, i1, j0, j1, nk, dropout_p) / (1.0 - dropout_p)
                dv[j0:j1] += (p * drop).T @ gb
                ds = p * ((gb @ v[j0:j1].T) * drop - D[i0:i1, None])
                raw = ds @ k[j0:j1]
                dscale += float(np.sum(raw * qb))
                dq[i0:i1] += scale * raw
                dk[j0:j1] += scale * (ds.T @ qb)
    return dq, dk, dv, np.asarray(dscale, dtype=dtype)


class _AttentionOp(Op):
    """What FusedAttention and FusedAttentionGrad share: the props, the core inputs
    ``q, k, v, scale, [mask], [seed]`` (checked by one ``make_node``) and their
    signature."""

    __props__ = ("mask_kind", "dropout_p")
    #: the core signature of the inputs after the shared ones, and of the outputs
    _extra_signature = ""
    _out_signature = ""

    def __init__(self, mask_kind=None, dropout_p=0.0):
        _check_mask_kind(mask_kind)
        if not 0 <= dropout_p < 1:
            raise ValueError(f"{type(self).__name__}: dropout_p must be in [0, 1), got {dropout_p}")
        self.mask_kind = mask_kind
        self.dropout_p = float(dropout_p)

    @property
    def n_shared(self):
        """The number of shared leading inputs (q, k, v, scale, [mask], [seed])."""
        return 4 + (self.mask_kind is not None) + (self.dropout_p > 0)

    @property
    def gufunc_signature(self):
        mask = ",(a,b)" if self.mask_kind is not None else ""
        seed = ",()" if self.dropout_p > 0 else ""
        return f"(q,d),(k,d),(k,e),(){mask}{seed}{self._extra_signature}->{self._out_signature}"

    def __str__(self):
        drop = f", dropout={self.dropout_p}" if self.dropout_p > 0 else ""
        return f"{type(self).__name__}{{mask={self.mask_kind}{drop}}}"

    def split_inputs(self, inputs):
        """``(q, k, v, scale, mask or None, seed or None, rest)``."""
        q, k, v, scale = inputs[:4]
        i = 4
        mask = seed = None
        if self.mask_kind is not None:
            mask, i = inputs[i], i + 1
        if self.dropout_p > 0:
            seed, i = inputs[i], i + 1
        return q, k, v, scale, mask, seed, list(inputs[i:])

    def _shared_inputs(self, inputs, n_rest):
        who = type(self).__name__
        inputs = [as_tensor_variable(i) for i in inputs]
        if len(inputs) != self.n_shared + n_rest:
            raise TypeError(f"{self} takes {self.n_shared + n_rest} inputs, got {len(inputs)}")
        q, k, v, scale, mask, seed, _ = self.split_inputs(inputs)
        _check_core(q, k, v, mask, self.mask_kind, who)
        if scale.type.ndim != 0:
            raise ValueError(f"{who}: scale must be a scalar, got {scale} with ndim={scale.type.ndim}")
        if seed is not None and (seed.type.ndim != 0 or seed.type.dtype not in ("int64", "int32", "uint32")):
            raise TypeError(f"{who}: the dropout seed must be an integer scalar, got {seed} ({seed.type})")
        return inputs, _float_dtype(q, k, v)


class FusedAttention(_AttentionOp):
    """``softmax(scale * q @ k^T [+ mask | where(mask, ., -inf)], axis=-1) [dropout] @ v``
    for one head, and the row log-sum-exp of the scores; outputs ``(out, lse)``.  With
    ``dropout_p > 0`` the last input is an integer seed: the keep mask is a hash of
    ``(seed, i, j)`` (``dropout_keep``), regenerated by the gradient."""

    _out_signature = "(q,e),(q)"

    def make_node(self, *inputs):
        inputs, dtype = self._shared_inputs([i for i in inputs if i is not None], 0)
        nq, e = inputs[0].type.shape[0], inputs[2].type.shape[1]
        return Apply(self, inputs, [TensorType(dtype, (nq, e)).make_variable(),
                                    TensorType(dtype, (nq,)).make_variable()])

    def perform(self, node, inputs, output_storage):
        q, k, v, scale, mask, seed, _ = self.split_inputs(inputs)
        _check_runtime(q, k, v)
        out, lse = attention_forward(q, k, v, float(scale), mask, self.mask_kind, self.dropout_p, seed)
        output_storage[0][0] = out.astype(node.outputs[0].type.dtype, copy=False)
        output_storage[1][0] = lse.astype(node.outputs[1].type.dtype, copy=False)

    def infer_shape(self, fgraph, node, input_shapes):
        qs, ks, vs = input_shapes[:3]
        return [(qs[0], vs[1]), (qs[0],)]

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.gradient import DisconnectedType
        from opgraph.kernel_core.tensor import math as tm

        q, k, v, scale, mask, seed, _ = self.split_inputs(inputs)
        out, lse = outputs
        gout, glse = output_grads

        def connected(g):
            return g is not None and not isinstance(getattr(g, "type", None), DisconnectedType)

        gout = gout if connected(gout) else tm.zeros_like(out)
        glse = glse if connected(glse) else tm.zeros_like(lse)
        shared = inputs[:self.n_shared]
        dq, dk, dv, dscale = FusedAttentionGrad(self.mask_kind, self.dropout_p)(*shared, out, lse, gout, glse)
        grads = [dq, dk, dv, tm.cast(dscale, scale.type.dtype) if scale.type.dtype.startswith("float") else None]
        if self.mask_kind == "add":
            if self.dropout_p > 0:
                raise NotImplementedError("FusedAttention: the gradient with respect to an additive mask "
                                          "is not implemented with dropout")
            grads.append(_additive_mask_grad(q, k, v, scale, mask, lse, gout, glse, out))
        elif self.mask_kind == "bool":
            grads.append(None)
        if seed is not None:
            grads.append(None)
        return grads


def _additive_mask_grad(q, k, v, scale, mask, lse, gout, glse, out):
    """d cost / d mask = ds, an n_q x n_k matrix by nature (summed to the mask's shape):
    built from plain ops, so it costs nothing unless the cost really depends on it."""
    from opgraph.kernel_core.tensor import math as tm
    from opgraph.kernel_core.tensor import reduction as tr
    from opgraph.kernel_core.tensor.dot import matmul
    from opgraph.kernel_core.tensor.blockwise import sum_to_broadcast

    p = tm.exp(matmul(q, k.T) * scale + mask - lse[:, None])
    dD = tr.sum(gout * out, axis=1) - glse
    ds = p * (matmul(gout, v.T) - dD[:, None])
    return sum_to_broadcast(ds, mask)


def _check_runtime(q, k, v):
    if k.shape[1] != q.shape[1]:
        raise ValueError(f"FusedAttention: q has {q.shape[1]} features per row, k has {k.shape[1]}")
    if v.shape[0] != k.shape[0]:
        raise ValueError(f"FusedAttention: k has {k.shape[0]} rows, v has {v.shape[0]}")


class FusedAttentionGrad(_AttentionOp):
    """The pullback of FusedAttention: ``(dq, dk, dv, dscale)`` from
    ``(q, k, v, scale, [mask], [seed], out, lse, dout, dlse)``, recomputing the scores
    (and the dropout mask) block by block."""

    _extra_signature = ",(q,e),(q),(q,e),(q)"
    _out_signature = "(q,d),(k,d),(k,e),()"

    def make_node(self, *inputs):
        inputs, dtype = self._shared_inputs(inputs, 4)
        outs = [TensorType(dtype, t.type.shape).make_variable() for t in inputs[:3]]
        outs.append(TensorType(dtype, ()).make_variable())
        return Apply(self, inputs, outs)

    def perform(self, node, inputs, output_storage):
        q, k, v, scale, mask, seed, (out, lse, gout, glse) = self.split_inputs(inputs)
        _check_runtime(q, k, v)
        if self.mask_kind is not None:
            _check_mask_shape(mask, q.shape[0], k.shape[0])
        results = attention_backward(q, k, v, float(scale), mask, self.mask_kind, out, lse, gout, glse,
                                     self.dropout_p, seed)
        for storage, r, o in zip(output_storage, results, node.outputs):
            storage[0] = np.asarray(r, dtype=o.type.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0], input_shapes[1], input_shapes[2], ()]


def fused_attention(q, k, v, scale, mask=None, mask_kind=None, dropout_p=0.0, seed=None):
    """The fused attention output ``softmax(scale * q @ k^T [mask]) [dropout] @ v`` over the
    last two axes (leading axes broadcast, through Blockwise).  ``scale`` is a scalar;
    ``mask`` a boolean (False: masked out) or float (added) tensor whose last two axes have
    the scores' lengths or 1.  ``mask_kind`` defaults from the mask's dtype.

    ``dropout_p > 0`` drops attention weights inside the kernel: ``seed`` (an integer
    scalar, e.g. a draw of ``integers`` from the dropout's generator) seeds the keep
    mask; head ``h`` of q's leading axes (flattened) uses ``seed + h``."""
    from opgraph.kernel_core.tensor.blockwise import Blockwise

    q, k, v, scale = map(as_tensor_variable, (q, k, v, scale))
    if mask is not None:
        mask = as_tensor_variable(mask)
        if mask.type.ndim < 2:
            raise ValueError(f"fused_attention: the mask {mask} needs at least 2 dims, got ndim={mask.type.ndim}")
        mask_kind = mask_kind or ("bool" if mask.type.dtype == "bool" else "add")
    if dropout_p and seed is None:
        raise ValueError(f"fused_attention: dropout_p={dropout_p} needs a seed")
    op = FusedAttention(mask_kind, dropout_p)
    args = [q, k, v, scale] + ([mask] if mask is not None else [])
    if dropout_p:
        args.append(_head_seeds(q, as_tensor_variable(seed)))
    core = all(a.type.ndim == 2 for a in args[:3]) and (mask is None or mask.type.ndim == 2)
    if core and (not dropout_p or args[-1].type.ndim == 0):
        return op(*args)[0]
    return Blockwise(op)(*args)[0]


def _head_seeds(q, seed):
    """``seed + h`` for each head ``h`` of q's leading axes (an int64 array of their shape)."""
    from opgraph.kernel_core.tensor import math as tm
    from opgraph.kernel_core.tensor.construction import arange
    from opgraph.kernel_core.tensor.reduction import prod
    from opgraph.kernel_core.tensor.shape import reshape, shape

    if seed.type.ndim != 0 or not seed.type.dtype.startswith(("int", "uint")):
        raise TypeError(f"fused_attention: the dropout seed must be an integer scalar, got {seed} ({seed.type})")
    seed = tm.cast(seed, "int64")
    if q.type.ndim == 2:
        return seed
    batch = shape(q)[:-2]
    return seed + reshape(arange(prod(batch)), batch, ndim=q.type.ndim - 2)


__all__ = ["FusedAttention", "FusedAttentionGrad", "fused_attention", "attention_forward",
           "attention_backward", "dropout_keep", "workspace_bytes", "BLOCK_Q", "BLOCK_K"]

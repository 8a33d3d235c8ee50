"""FusedAttention and FusedAttentionGrad as tiled online-softmax loops.

Per block of ``BLOCK_Q`` query rows and ``BLOCK_K`` keys the scores are one BLAS
product (``np.dot`` of row blocks, C-contiguous slices), then one pass per row
turns them into ``exp(s - m)`` with the running maximum ``m`` and rescales the
row's running sum and accumulator; the probabilities times the block of ``v`` is a
second BLAS product.  The only scratch arrays are the block and the per-row state:
nothing of size ``n_q x n_k``.  The arithmetic is ``perform``'s
(``attention_forward`` / ``attention_backward`` in ``tensor/nnet/attention_fused.py``).
"""

from __future__ import annotations

from opgraph.kernel_core.backends.numba.dispatch import np_dtype, numba_funcify
from opgraph.kernel_core.tensor.nnet.attention_fused import BLOCK_K, BLOCK_Q, FusedAttention, FusedAttentionGrad


def _mask_lines(kind, pad):
    """Source turning ``x`` (a scaled score at row ``i0 + r``, column ``j0 + c``) into the masked score."""
    if kind is None:
        return []
    at = "mask[mr if mq == 1 else i0 + r, 0 if mk == 1 else j0 + c]"
    if kind == "add":
        return [f"{pad}x += {at}"]
    return [f"{pad}if not {at}:", f"{pad}    x = -np.inf"]


def _mask_prelude(kind):
    if kind is None:
        return []
    return ["    mq, mk = mask.shape[0], mask.shape[1]",
            "    mr = 0",
            "    if (mq != 1 and mq != nq) or (mk != 1 and mk != nk):",
            "        raise ValueError('FusedAttention: the mask does not broadcast to the scores')"]


def _as(name, var, out_dtype):
    """Source of ``name`` as a C-contiguous array of the output dtype (no copy when it is one)."""
    arr = f"np.ascontiguousarray({name}_)"
    return arr if var.type.dtype == out_dtype else f"{arr}.astype({np_dtype(out_dtype)})"


def _prelude(args, node):
    dtype = node.outputs[0].type.dtype
    q, k, v = node.inputs[:3]
    return [f"def {{name}}({args}):",
            f"    q = {_as('q', q, dtype)}",
            f"    k = {_as('k', k, dtype)}",
            f"    v = {_as('v', v, dtype)}",
            "    scale = float(scale_[()])",
            "    nq, d = q.shape",
            "    nk, e = v.shape",
            "    if k.shape[1] != d:",
            "        raise ValueError('FusedAttention: q and k have different feature counts')",
            "    if k.shape[0] != nk:",
            "        raise ValueError('FusedAttention: k and v have different row counts')"]


@numba_funcify.register(FusedAttention)
def _funcify_fused_attention(op, node, ctx):
    dt = np_dtype(node.outputs[0].type.dtype)
    args = "q_, k_, v_, scale_" + (", mask" if op.mask_kind is not None else "")
    lines = _prelude(args, node) + _mask_prelude(op.mask_kind) + [
        f"    out = np.empty((nq, e), dtype={dt})",
        f"    lse = np.empty(nq, dtype={dt})",
        f"    for i0 in range(0, nq, {BLOCK_Q}):",
        f"        i1 = min(i0 + {BLOCK_Q}, nq)",
        "        bq = i1 - i0",
        "        qb = q[i0:i1]",
        f"        m = np.full(bq, -np.inf, dtype={dt})",
        f"        l = np.zeros(bq, dtype={dt})",
        f"        acc = np.zeros((bq, e), dtype={dt})",
        f"        for j0 in range(0, nk, {BLOCK_K}):",
        f"            j1 = min(j0 + {BLOCK_K}, nk)",
        "            s = np.dot(qb, k[j0:j1].T)",
        "            for r in range(bq):",
        "                mx = m[r]",
        "                for c in range(j1 - j0):",
        "                    x = s[r, c] * scale"] + _mask_lines(op.mask_kind, "                    ") + [
        "                    s[r, c] = x",
        "                    if x > mx:",
        "                        mx = x",
        "                if mx == -np.inf:",    # every key so far masked: this block adds nothing
        "                    for c in range(j1 - j0):",
        "                        s[r, c] = 0.0",
        "                    continue",
        "                tot = 0.0",
        "                for c in range(j1 - j0):",
        "                    p = math.exp(s[r, c] - mx)",
        "                    s[r, c] = p",
        "                    tot += p",
        "                corr = math.exp(m[r] - mx)",
        "                l[r] = l[r] * corr + tot",
        "                if corr != 1.0:",
        "                    for c in range(e):",
        "                        acc[r, c] *= corr",
        "                m[r] = mx",
        "            acc += np.dot(s, v[j0:j1])",
        "        for r in range(bq):",
        "            inv = 1.0 / l[r] if l[r] != 0.0 else np.nan",
        "            for c in range(e):",
        "                out[i0 + r, c] = acc[r, c] * inv",
        "            lse[i0 + r] = m[r] + math.log(l[r]) if l[r] != 0.0 else -np.inf",
        "    return out, lse"]
    return ctx.define("\n".join(lines) + "\n", prefix="fused_attention")


@numba_funcify.register(FusedAttentionGrad)
def _funcify_fused_attention_grad(op, node, ctx):
    dt = np_dtype(node.outputs[0].type.dtype)
    args = "q_, k_, v_, scale_" + (", mask" if op.mask_kind is not None else "") + ", out, lse, gout_, glse"
    lines = _prelude(args, node) + _mask_prelude(op.mask_kind) + [
        f"    gout = {_as('gout', node.inputs[-2], node.outputs[0].type.dtype)}",
        f"    dq = np.zeros((nq, d), dtype={dt})",
        f"    dk = np.zeros((nk, d), dtype={dt})",
        f"    dv = np.zeros((nk, e), dtype={dt})",
        f"    D = np.empty(nq, dtype={dt})",
        "    for r in range(nq):",
        "        t = 0.0",
        "        for c in range(e):",
        "            t += gout[r, c] * out[r, c]",
        "        D[r] = t - glse[r]",
        "    dscale = 0.0",
        f"    for i0 in range(0, nq, {BLOCK_Q}):",
        f"        i1 = min(i0 + {BLOCK_Q}, nq)",
        "        bq = i1 - i0",
        "        qb = q[i0:i1]",
        "        gb = gout[i0:i1]",
        f"        raw = np.zeros((bq, d), dtype={dt})",
        f"        for j0 in range(0, nk, {BLOCK_K}):",
        f"            j1 = min(j0 + {BLOCK_K}, nk)",
        "            s = np.dot(qb, k[j0:j1].T)",
        "            for r in range(bq):",
        "                lr = lse[i0 + r]",
        "                for c in range(j1 - j0):",
        "                    x = s[r, c] * scale"] + _mask_lines(op.mask_kind, "                    ") + [
        "                    s[r, c] = math.exp(x - lr)",
        "            dv[j0:j1] += np.dot(s.T, gb)",
        "            dp = np.dot(gb, v[j0:j1].T)",
        "            for r in range(bq):",
        "                Dr = D[i0 + r]",
        "                for c in range(j1 - j0):",
        "                    dp[r, c] = s[r, c] * (dp[r, c] - Dr)",
        "            raw += np.dot(dp, k[j0:j1])",
        "            dk[j0:j1] += scale * np.dot(dp.T, qb)",
        "        for r in range(bq):",
        "            for c in range(d):",
        "                dscale += raw[r, c] * qb[r, c]",
        "                dq[i0 + r, c] = scale * raw[r, c]",
        f"    return dq, dk, dv, np.asarray({dt}(dscale))"]
    return ctx.define("\n".join(lines) + "\n", prefix="fused_attention_grad")

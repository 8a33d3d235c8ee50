"""FusedAttention and FusedAttentionGrad as tiled online-softmax loops.

Per block of ``BLOCK_Q`` query rows and ``BLOCK_K`` keys the scores are one block
product (``dot_rows`` in ``attention_kernels.py``: row dot products, not BLAS -- see
there why), then one pass per row turns them into ``exp(s - m)`` with the running
maximum ``m`` and rescales the row's running sum and accumulator; the probabilities
times the block of ``v`` (against ``v^T``) is a second block product.  The only scratch arrays are the block and the per-row state:
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


_KERNELS = "opgraph.kernel_core.backends.numba.attention_kernels"


@numba_funcify.register(FusedAttention)
def _funcify_fused_attention(op, node, ctx):
    # Key-major score blocks st[c, r] (key c, query r): the per-query running maximum
    # and sum are updated along unit-stride rows, and p^T is what p @ v needs.
    dt = np_dtype(node.outputs[0].type.dtype)
    axpy = ctx.import_name(_KERNELS, "axpy_rows")
    args = "q_, k_, v_, scale_" + (", mask" if op.mask_kind is not None else "")
    lines = _prelude(args, node) + _mask_prelude(op.mask_kind) + [
        "    qt = np.ascontiguousarray(q.T)",
        "    kt = np.ascontiguousarray(k.T)",
        f"    out = np.empty((nq, e), dtype={dt})",
        f"    lse = np.empty(nq, dtype={dt})",
        f"    st = np.empty(({BLOCK_K}, {BLOCK_Q}), dtype={dt})",
        f"    m = np.empty({BLOCK_Q}, dtype={dt})",
        f"    mx = np.empty({BLOCK_Q}, dtype={dt})",
        f"    l = np.empty({BLOCK_Q}, dtype={dt})",
        f"    acc = np.empty(({BLOCK_Q}, e), dtype={dt})",
        f"    for i0 in range(0, nq, {BLOCK_Q}):",
        f"        i1 = min(i0 + {BLOCK_Q}, nq)",
        "        bq = i1 - i0",
        "        m[:] = -np.inf",
        "        l[:] = 0.0",
        "        acc[:] = 0.0",
        f"        for j0 in range(0, nk, {BLOCK_K}):",
        f"            j1 = min(j0 + {BLOCK_K}, nk)",
        "            w = j1 - j0",
        "            st[:w, :bq] = 0.0",
        f"            {axpy}(kt, 0, j0, d, w, qt, 0, i0, bq, st, 0)",
        "            mx[:bq] = m[:bq]",
        "            for c in range(w):",
        "                for r in range(bq):",
        "                    x = st[c, r] * scale"] + _mask_lines(op.mask_kind, "                    ") + [
        "                    st[c, r] = x",
        "                    if x > mx[r]:",
        "                        mx[r] = x",
        "            for c in range(w):",
        "                for r in range(bq):",
        # a query whose keys are all masked so far (max -inf) gets nothing from this block
        "                    st[c, r] = math.exp(st[c, r] - mx[r]) if mx[r] != -np.inf else 0.0",
        "            for r in range(bq):",
        "                if mx[r] == -np.inf:",
        "                    continue",
        "                corr = math.exp(m[r] - mx[r])",
        "                m[r] = mx[r]",
        "                l[r] *= corr",
        "                if corr != 1.0:",
        "                    for t in range(e):",
        "                        acc[r, t] *= corr",
        "            for c in range(w):",
        "                for r in range(bq):",
        "                    l[r] += st[c, r]",
        f"            {axpy}(st, 0, 0, w, bq, v, j0, 0, e, acc, 0)",
        "        for r in range(bq):",
        "            inv = 1.0 / l[r] if l[r] != 0.0 else np.nan",
        "            for t in range(e):",
        "                out[i0 + r, t] = acc[r, t] * inv",
        "            lse[i0 + r] = m[r] + math.log(l[r]) if l[r] != 0.0 else -np.inf",
        "    return out, lse"]
    return ctx.define("\n".join(lines) + "\n", prefix="fused_attention")


@numba_funcify.register(FusedAttentionGrad)
def _funcify_fused_attention_grad(op, node, ctx):
    # Per block: p and ds key-major (for dq = ds k) and query-major (for dv = p^T dout,
    # dk = ds^T q); every product is an axpy_rows call.
    dt = np_dtype(node.outputs[0].type.dtype)
    axpy = ctx.import_name(_KERNELS, "axpy_rows")
    args = "q_, k_, v_, scale_" + (", mask" if op.mask_kind is not None else "") + ", out, lse, gout_, glse"
    lines = _prelude(args, node) + _mask_prelude(op.mask_kind) + [
        f"    gout = {_as('gout', node.inputs[-2], node.outputs[0].type.dtype)}",
        "    qt = np.ascontiguousarray(q.T)",
        "    kt = np.ascontiguousarray(k.T)",
        "    vt = np.ascontiguousarray(v.T)",
        "    gt = np.ascontiguousarray(gout.T)",
        f"    dq = np.zeros((nq, d), dtype={dt})",
        f"    dk = np.zeros((nk, d), dtype={dt})",
        f"    dv = np.zeros((nk, e), dtype={dt})",
        f"    D = np.empty(nq, dtype={dt})",
        "    for r in range(nq):",
        "        t = 0.0",
        "        for c in range(e):",
        "            t += gout[r, c] * out[r, c]",
        "        D[r] = t - glse[r]",
        f"    raw = np.empty(({BLOCK_K}, {BLOCK_Q}), dtype={dt})",
        f"    dst = np.empty(({BLOCK_K}, {BLOCK_Q}), dtype={dt})",
        f"    pq = np.empty(({BLOCK_Q}, {BLOCK_K}), dtype={dt})",
        f"    dsq = np.empty(({BLOCK_Q}, {BLOCK_K}), dtype={dt})",
        "    dscale = 0.0",
        f"    for j0 in range(0, nk, {BLOCK_K}):",
        f"        j1 = min(j0 + {BLOCK_K}, nk)",
        "        w = j1 - j0",
        f"        for i0 in range(0, nq, {BLOCK_Q}):",
        f"            i1 = min(i0 + {BLOCK_Q}, nq)",
        "            bq = i1 - i0",
        "            raw[:w, :bq] = 0.0",
        "            dst[:w, :bq] = 0.0",
        f"            {axpy}(kt, 0, j0, d, w, qt, 0, i0, bq, raw, 0)",
        f"            {axpy}(vt, 0, j0, e, w, gt, 0, i0, bq, dst, 0)",
        "            for c in range(w):",
        "                for r in range(bq):",
        "                    x = raw[c, r] * scale"] + _mask_lines(op.mask_kind, "                    ") + [
        "                    p = math.exp(x - lse[i0 + r])",
        "                    g = p * (dst[c, r] - D[i0 + r])",
        "                    dscale += g * raw[c, r]",
        "                    dst[c, r] = g",
        "                    pq[r, c] = p",
        "                    dsq[r, c] = g",
        f"            {axpy}(pq, 0, 0, bq, w, gout, i0, 0, e, dv, j0)",
        f"            {axpy}(dsq, 0, 0, bq, w, q, i0, 0, d, dk, j0)",
        f"            {axpy}(dst, 0, 0, w, bq, k, j0, 0, d, dq, i0)",
        "    for r in range(nq):",
        "        for c in range(d):",
        "            dq[r, c] *= scale",
        "    for r in range(nk):",
        "        for c in range(d):",
        "            dk[r, c] *= scale",
        f"    return dq, dk, dv, np.asarray({dt}(dscale))"]
    return ctx.define("\n".join(lines) + "\n", prefix="fused_attention_grad")

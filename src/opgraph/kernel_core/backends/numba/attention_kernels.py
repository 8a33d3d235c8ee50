"""The fused-attention kernels (``attention.py`` calls them), compiled once per dtype and
mask dtype, cached on disk.

Forward, per block of ``BLOCK_Q`` query rows: for each block of ``BLOCK_K`` keys the
scores are one ``np.dot`` (BLAS), then one pass per row turns them into
``exp(s - m)`` with the running maximum ``m`` (``vexp``: vectorizes) and rescales the
row's running sum and accumulator; ``acc += p @ v_block`` is a second ``np.dot``.
Backward (flash attention 2): per block of keys, over every block of queries, recompute
``p = exp(s - lse)``, then ``dv += z^T dout``, ``dz = dout v^T``, ``ds = p (dz - D)``,
``dk += ds^T q``, ``dq += ds k`` -- each a BLAS call on contiguous blocks.

Threads: one.  The loops over query blocks (forward) and key-block chunks (backward,
each chunk its own ``dq``) are ``prange`` loops, but the kernels are compiled without
``parallel=True``: on this machine (2 cores shared by ~15 processes) two numba threads
were no faster than one (n = 2,048, 4 heads, fwd+bwd: 2.1-2.8 s against 1.7-2.4 s), and
parallel compilation is several times slower.  OpenBLAS must be single-threaded: its
own threads, woken for every block product on these shared cores, made the products
40x slower (measured: 0.2 against 8-10 GFLOP/s).  The kernels run inside one
``blas_threads.serial_section()`` (the backend's BLAS thread policy: scipy's OpenBLAS,
the library numba's ``np.dot`` calls, set to one thread while they run, the count
restored after -- for that time, a BLAS call from another Python thread is
single-threaded too).

Dropout (``p > 0``): the keep mask of score ``(i, j)`` is a counter-based hash of
``(seed, i, j)`` (splitmix64's finalizer), so the backward regenerates exactly the
forward's mask and nothing ``n_q x n_k`` is stored; the kept weights are scaled by
``1 / (1 - p)``.  The row sums (and ``lse``) are those of the softmax before dropout.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from opgraph.kernel_core.backends.numba.blas_threads import end_serial_section, serial_section
from opgraph.kernel_core.backends.numba.scalar_kernels import vexp

_JIT = dict(cache=True, error_model="numpy")
_FLAGS = {"reassoc", "contract", "nsz", "arcp"}
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)
_TO_UNIT = 1.0 / 9007199254740992.0      # 2^-53
# Key-block chunks of the backward (each its own dq: memory _CHUNKS n_q d).  A constant:
# numba.get_num_threads() inside a kernel would keep it out of the disk cache.
_CHUNKS = 1


@numba.njit(inline="always", **_JIT)
def mix_seed(seed):
    """The head's int64 seed spread over 64 bits (seeds of adjacent heads differ by 1)."""
    z = np.uint64(seed) * _GOLD + _GOLD
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@numba.njit(inline="always", **_JIT)
def uniform(seed, i, j, nk):
    """A uniform [0, 1) number for score ``(i, j)`` of a head with ``nk`` keys (``seed`` uint64)."""
    z = seed + (np.uint64(i) * np.uint64(nk) + np.uint64(j) + np.uint64(1)) * _GOLD
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    z = z ^ (z >> np.uint64(31))
    return np.float64(z >> np.uint64(11)) * _TO_UNIT


@numba.njit(**_JIT)
def keep_mask(seed, i0, i1, j0, j1, nk, p):
    """The dropout keep mask of scores ``i0:i1, j0:j1`` (the kernels' own, for tests)."""
    out = np.empty((i1 - i0, j1 - j0), dtype=np.bool_)
    s = mix_seed(seed)
    for r in range(i1 - i0):
        for c in range(j1 - j0):
            out[r, c] = uniform(s, i0 + r, j0 + c, nk) >= p
    return out


@numba.njit(inline="always", **_JIT)
def _apply_mask(s, mask, kind, i0, j0):
    """``s`` (scores of rows i0.., columns j0..) masked in place: kind 1 adds, 2 is boolean."""
    if kind == 0:
        return
    mq, mk = mask.shape
    for r in range(s.shape[0]):
        mr = 0 if mq == 1 else i0 + r
        for c in range(s.shape[1]):
            mc = 0 if mk == 1 else j0 + c
            if kind == 1:
                s[r, c] += mask[mr, mc]
            elif not mask[mr, mc]:
                s[r, c] = -np.inf


@numba.njit(**_JIT)
def _check(q, k, v, mask, kind):
    nq, d = q.shape
    nk, e = v.shape
    if k.shape[1] != d:
        raise ValueError("FusedAttention: q and k have different feature counts")
    if k.shape[0] != nk:
        raise ValueError("FusedAttention: k and v have different row counts")
    if kind != 0:
        mq, mk = mask.shape
        if (mq != 1 and mq != nq) or (mk != 1 and mk != nk):
            raise ValueError("FusedAttention: the mask does not broadcast to the scores")


@numba.njit(fastmath=_FLAGS, **_JIT)
def _forward_block(q, k, v, scale, mask, kind, p, seed, i0, i1, bk, out, lse):
    nk, e = v.shape
    bq = i1 - i0
    qs = (q[i0:i1] * scale).astype(q.dtype)
    m = np.full(bq, -np.inf)
    l = np.zeros(bq)
    acc = np.zeros((bq, e), dtype=out.dtype)
    inv_keep = 1.0 / (1.0 - p)
    for j0 in range(0, nk, bk):
        j1 = min(j0 + bk, nk)
        w = j1 - j0
        s = np.dot(qs, k[j0:j1].T)
        _apply_mask(s, mask, kind, i0, j0)
        for r in range(bq):
            mx = m[r]
            for c in range(w):
                mx = max(mx, s[r, c])
            if mx == -np.inf:          # every key so far masked: nothing from this block
                for c in range(w):
                    s[r, c] = 0.0
                continue
            t = 0.0
            for c in range(w):
                x = vexp(s[r, c] - mx)
                s[r, c] = x
                t += x
            corr = vexp(m[r] - mx)
            l[r] = l[r] * corr + t
            m[r] = mx
            if corr != 1.0:
                for c in range(e):
                    acc[r, c] *= corr
            if p > 0.0:
                for c in range(w):
                    s[r, c] = s[r, c] * inv_keep if uniform(seed, i0 + r, j0 + c, nk) >= p else 0.0
        acc += np.dot(s, v[j0:j1])
    for r in range(bq):
        inv = 1.0 / l[r] if l[r] != 0.0 else np.nan
        for c in range(e):
            out[i0 + r, c] = acc[r, c] * inv
        lse[i0 + r] = m[r] + np.log(l[r]) if l[r] != 0.0 else -np.inf


@numba.njit(**_JIT)
def forward(q, k, v, scale, mask, kind, p, seed, bq, bk):
    """``(out, lse)`` of one head: ``kind`` 0 (no mask; ``mask`` unused), 1 (added), 2
    (boolean); ``p`` the dropout probability (0: none), ``seed`` its int64 seed."""
    _check(q, k, v, mask, kind)
    seed = mix_seed(seed)
    nq = q.shape[0]
    out = np.empty((nq, v.shape[1]), dtype=q.dtype)
    lse = np.empty(nq, dtype=q.dtype)
    nb = (nq + bq - 1) // bq
    threads = serial_section()
    for b in prange(nb):
        _forward_block(q, k, v, scale, mask, kind, p, seed, b * bq, min(b * bq + bq, nq), bk, out, lse)
    end_serial_section(threads)
    return out, lse


@numba.njit(fastmath=_FLAGS, **_JIT)
def _backward_keys(q, k, v, scale, mask, kind, p, seed, lse, gout, D, j0, j1, bq, dq, dk, dv):
    """The key block ``j0:j1``: its rows of dk and dv (whole), its part of dq (added);
    returns its part of dscale."""
    nq = q.shape[0]
    nk = k.shape[0]
    w = j1 - j0
    kb = k[j0:j1]
    vb = v[j0:j1]
    dkb = np.zeros((w, k.shape[1]), dtype=dk.dtype)
    dvb = np.zeros((w, v.shape[1]), dtype=dv.dtype)
    inv_keep = 1.0 / (1.0 - p)
    dscale = 0.0
    for i0 in range(0, nq, bq):
        i1 = min(i0 + bq, nq)
        qb = q[i0:i1]
        gb = gout[i0:i1]
        raw = np.dot(qb, kb.T)
        s = (raw * scale).astype(q.dtype)
        _apply_mask(s, mask, kind, i0, j0)
        dz = np.dot(gb, vb.T)
        for r in range(i1 - i0):
            li = lse[i0 + r]
            Di = D[i0 + r]
            if p > 0.0:
                for c in range(w):
                    pr = vexp(s[r, c] - li)
                    dm = inv_keep if uniform(seed, i0 + r, j0 + c, nk) >= p else 0.0
                    s[r, c] = pr * dm                      # z: the dropped weights
                    g = pr * (dz[r, c] * dm - Di)
                    dscale += g * raw[r, c]
                    dz[r, c] = g
            else:
                for c in range(w):
                    pr = vexp(s[r, c] - li)
                    s[r, c] = pr
                    g = pr * (dz[r, c] - Di)
                    dscale += g * raw[r, c]
                    dz[r, c] = g
        dvb += np.dot(s.T, gb)
        dkb += np.dot(dz.T, qb)
        dq[i0:i1] += np.dot(dz, kb)
    dk[j0:j1] = dkb * scale
    dv[j0:j1] = dvb
    return dscale


@numba.njit(**_JIT)
def backward(q, k, v, scale, mask, kind, p, seed, out, lse, gout, glse, bq, bk):
    """``(dq, dk, dv, dscale)`` of one head (arguments as ``forward``'s, then its outputs
    and their cotangents)."""
    _check(q, k, v, mask, kind)
    seed = mix_seed(seed)
    nq, d = q.shape
    nk = k.shape[0]
    D = np.empty(nq)
    for r in range(nq):
        t = 0.0
        for c in range(out.shape[1]):
            t += gout[r, c] * out[r, c]
        D[r] = t - glse[r]
    nb = (nk + bk - 1) // bk
    chunks = min(_CHUNKS, nb)
    dqs = np.zeros((chunks, nq, d), dtype=q.dtype)
    dscales = np.zeros(chunks)
    dk = np.empty(k.shape, dtype=q.dtype)
    dv = np.empty(v.shape, dtype=q.dtype)
    threads = serial_section()
    for c in prange(chunks):
        for b in range(c, nb, chunks):
            j0 = b * bk
            dscales[c] += _backward_keys(q, k, v, scale, mask, kind, p, seed, lse, gout, D,
                                         j0, min(j0 + bk, nk), bq, dqs[c], dk, dv)
    end_serial_section(threads)
    dq = dqs[0]
    for c in range(1, chunks):
        dq += dqs[c]
    dq *= scale
    return dq, dk, dv, dscales.sum()

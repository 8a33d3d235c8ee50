"""Direct convolution loops behind the Numba Convolve1d / Convolve2d (cached ``njit``
functions shared by every graph; ``signal.py`` generates the thin wrappers).

Each output is a sum over kernel taps in a fixed order (tap 0 first), no fastmath, so
results match ``np.convolve`` / ``scipy.signal.convolve2d`` to rounding.  Two loop orders:

- many outputs per tap (the usual forward pass): tap-major ``axpy`` over blocks of
  ``BLOCK`` outputs, ``out[o] += k[j] * x[o - j]`` for four taps ``j`` per pass; the block
  of ``out`` and the matching stretch of ``x`` stay in L1 and the inner loop is a unit-stride
  loop over slices (no index wraparound), which LLVM vectorizes;
- few outputs, many taps (the kernel's pullback, ``valid(g, x[::-1])``): one dot product
  per output with four partial sums.

``convolve2d`` is per output row a sum of 1-d convolutions of input rows with kernel rows
(``conv1d_full`` / ``conv1d_interior`` with ``accumulate``), so it inherits both orders.
"""

from __future__ import annotations

import numba

_JIT = dict(cache=True, error_model="numpy", boundscheck=False)

# outputs per tap-major block: 8 KiB of float64 output plus as much input, well inside L1
BLOCK = 1024


@numba.njit(**_JIT)
def _dot_taps(x, k, o, jlo, jhi):
    """``sum(k[j] * x[o - j] for j in range(jlo, jhi))`` (``jhi > jlo``), in order for short
    sums, else with four partial sums."""
    if jhi - jlo < 8:
        acc = k[jlo] * x[o - jlo]
        for j in range(jlo + 1, jhi):
            acc += k[j] * x[o - j]
        return acc
    acc0 = k[jlo] * x[o - jlo]
    acc1 = k[jlo + 1] * x[o - jlo - 1]
    acc2 = k[jlo + 2] * x[o - jlo - 2]
    acc3 = k[jlo + 3] * x[o - jlo - 3]
    j = jlo + 4
    while j + 3 < jhi:
        acc0 += k[j] * x[o - j]
        acc1 += k[j + 1] * x[o - j - 1]
        acc2 += k[j + 2] * x[o - j - 2]
        acc3 += k[j + 3] * x[o - j - 3]
        j += 4
    while j < jhi:
        acc0 += k[j] * x[o - j]
        j += 1
    return (acc0 + acc1) + (acc2 + acc3)


@numba.njit(**_JIT)
def conv1d_interior(x, k, out, off, lo, hi, accumulate=False):
    """``out[o - off] = sum_j k[j] * x[o - j]`` (``+=`` with ``accumulate``) for ``o`` in
    ``[lo, hi)``, where every tap falls inside ``x`` (``lo >= len(k) - 1``, ``hi <= len(x)``)."""
    m = k.shape[0]
    if hi - lo < 2 * m:
        for o in range(lo, hi):
            if accumulate:
                out[o - off] += _dot_taps(x, k, o, 0, m)
            else:
                out[o - off] = _dot_taps(x, k, o, 0, m)
        return
    for b0 in range(lo, hi, BLOCK):
        b1 = min(b0 + BLOCK, hi)
        L = b1 - b0
        ob = out[b0 - off:b1 - off]
        xs = x[b0:b1]
        k0 = k[0]
        if accumulate:
            for t in range(L):
                ob[t] += k0 * xs[t]
        else:
            for t in range(L):
                ob[t] = k0 * xs[t]
        # four taps per pass over the block (one load and store of ob per four products),
        # each added in tap order as in the one-tap loop below
        j = 1
        while j + 3 < m:
            ka, kb, kc, kd = k[j], k[j + 1], k[j + 2], k[j + 3]
            xa, xb = x[b0 - j:b1 - j], x[b0 - j - 1:b1 - j - 1]
            xc, xd = x[b0 - j - 2:b1 - j - 2], x[b0 - j - 3:b1 - j - 3]
            for t in range(L):
                ob[t] = (((ob[t] + ka * xa[t]) + kb * xb[t]) + kc * xc[t]) + kd * xd[t]
            j += 4
        while j < m:
            kj = k[j]
            xs = x[b0 - j:b1 - j]
            for t in range(L):
                ob[t] += kj * xs[t]
            j += 1


@numba.njit(**_JIT)
def conv1d_full(x, k, out, accumulate=False):
    """The full convolution into ``out`` (length ``n + m - 1``; ``+=`` with ``accumulate``),
    for ``len(x) >= len(k)``."""
    n, m = x.shape[0], k.shape[0]
    for o in range(m - 1):
        v = _dot_taps(x, k, o, 0, o + 1)
        if accumulate:
            out[o] += v
        else:
            out[o] = v
    conv1d_interior(x, k, out, 0, m - 1, n, accumulate)
    for o in range(n, n + m - 1):
        v = _dot_taps(x, k, o, o - n + 1, m)
        if accumulate:
            out[o] += v
        else:
            out[o] = v


@numba.njit(**_JIT)
def conv2d_full(x, k, out):
    """The full 2-d convolution into ``out``: each output row accumulates the 1-d full
    convolutions of the input rows with the matching kernel rows (the row stays in cache);
    wants ``x`` at least as wide as ``k``."""
    n1, n2 = x.shape
    m1, m2 = k.shape
    for r in range(n1 + m1 - 1):
        orow = out[r]
        alo, ahi = max(0, r - n1 + 1), min(m1, r + 1)
        conv1d_full(x[r - alo], k[alo], orow, False)
        for a in range(alo + 1, ahi):
            conv1d_full(x[r - a], k[a], orow, True)


@numba.njit(**_JIT)
def conv2d_valid(x, k, out):
    """The valid 2-d convolution into ``out`` (``n - m + 1`` per axis, ``x`` at least as
    large as ``k``): each output row accumulates the 1-d valid convolutions of ``m1`` input
    rows with the kernel rows (tap-major axpys, or dot products when the output is narrower
    than the kernel, the kernel pullback's shape)."""
    n1, n2 = x.shape
    m1, m2 = k.shape
    for r in range(n1 - m1 + 1):
        orow = out[r]
        conv1d_interior(x[r + m1 - 1], k[0], orow, m2 - 1, m2 - 1, n2, False)
        for a in range(1, m1):
            conv1d_interior(x[r + m1 - 1 - a], k[a], orow, m2 - 1, m2 - 1, n2, True)

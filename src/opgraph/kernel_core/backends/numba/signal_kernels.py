"""Direct convolution loops behind the Numba Convolve1d / Convolve2d (cached ``njit``
functions shared by every graph; ``signal.py`` generates the thin wrappers).

Each output is a sum over kernel taps in a fixed order (tap 0 first), no fastmath, so
results match ``np.convolve`` / ``scipy.signal.convolve2d`` to rounding.  Two loop orders:

- many outputs per tap (the usual forward pass): tap-major ``axpy`` over blocks of
  ``BLOCK`` outputs, ``out[o] += k[j] * x[o - j]`` for one tap ``j`` at a time; the block
  of ``out`` and the matching stretch of ``x`` stay in L1 and the inner loop is a unit-stride
  loop over slices (no index wraparound), which LLVM vectorizes;
- few outputs, many taps (the kernel's pullback, ``valid(g, x[::-1])``): one dot product
  per output with four partial sums.
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
def conv1d_interior(x, k, out, off, lo, hi):
    """``out[o - off] = sum_j k[j] * x[o - j]`` for ``o`` in ``[lo, hi)``, where every tap
    falls inside ``x`` (``lo >= len(k) - 1``, ``hi <= len(x)``)."""
    m = k.shape[0]
    if hi - lo < 2 * m:
        for o in range(lo, hi):
            out[o - off] = _dot_taps(x, k, o, 0, m)
        return
    for b0 in range(lo, hi, BLOCK):
        b1 = min(b0 + BLOCK, hi)
        ob = out[b0 - off:b1 - off]
        xs = x[b0:b1]
        k0 = k[0]
        for t in range(b1 - b0):
            ob[t] = k0 * xs[t]
        for j in range(1, m):
            kj = k[j]
            xs = x[b0 - j:b1 - j]
            for t in range(b1 - b0):
                ob[t] += kj * xs[t]


@numba.njit(**_JIT)
def conv1d_full(x, k, out):
    """The full convolution into ``out`` (length ``n + m - 1``), for ``len(x) >= len(k)``."""
    n, m = x.shape[0], k.shape[0]
    for o in range(m - 1):
        out[o] = _dot_taps(x, k, o, 0, o + 1)
    conv1d_interior(x, k, out, 0, m - 1, n)
    for o in range(n, n + m - 1):
        out[o] = _dot_taps(x, k, o, o - n + 1, m)


@numba.njit(**_JIT)
def conv2d_full(x, k, out):
    """The full 2-d convolution into ``out``: per output row, one unit-stride axpy of an
    input row per kernel element (the row stays in L1); wants ``x`` at least as wide as ``k``."""
    n1, n2 = x.shape
    m1, m2 = k.shape
    for r in range(n1 + m1 - 1):
        orow = out[r]
        for c in range(n2 + m2 - 1):
            orow[c] = 0
        for a in range(max(0, r - n1 + 1), min(m1, r + 1)):
            xr = x[r - a]
            for b in range(m2):
                kab = k[a, b]
                ob = orow[b:b + n2]
                for t in range(n2):
                    ob[t] += kab * xr[t]


@numba.njit(**_JIT)
def conv2d_valid(x, k, out):
    """The valid 2-d convolution into ``out`` (``n - m + 1`` per axis, ``x`` at least as
    large as ``k``): row axpys when the output is at least as wide as the kernel, else one
    dot product per output (the kernel pullback's shape: small output, large kernel)."""
    n1, n2 = x.shape
    m1, m2 = k.shape
    w1, w2 = n1 - m1 + 1, n2 - m2 + 1
    if w2 >= m2:
        for r in range(w1):
            orow = out[r]
            for c in range(w2):
                orow[c] = 0
            for a in range(m1):
                xr = x[r + m1 - 1 - a]
                for b in range(m2):
                    kab = k[a, b]
                    xs = xr[m2 - 1 - b:m2 - 1 - b + w2]
                    for t in range(w2):
                        orow[t] += kab * xs[t]
        return
    for r in range(w1):
        for c in range(w2):
            acc = _dot_taps(x[r + m1 - 1], k[0], c + m2 - 1, 0, m2)
            for a in range(1, m1):
                acc += _dot_taps(x[r + m1 - 1 - a], k[a], c + m2 - 1, 0, m2)
            out[r, c] = acc

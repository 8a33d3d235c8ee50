"""njit helpers of Scan's Numba loop (imported only by generated modules).

A step's ``dot(M, v)`` with ``M`` a non-sequence (the same matrix every step) and a
small ``M``: numba's ``np.dot`` goes through BLAS's gemv, whose call costs more than
the product itself at these sizes (50 x 50: ~470 ns against ~320 ns for the loop
below, measured in one run; the loop wins up to ~400 x 400, BLAS above).  The loop
wants ``M``'s columns contiguous, so ``loop_matrix(M)`` -- before the loop, once --
is ``M.T`` made C-contiguous (no copy when ``M`` is a transposed view, as in the
gradient's ``dot(W.T, d)``).  ``matvec`` reads only that copy: past ``LOOP_ELEMENTS``
it hands its transpose (F-contiguous, ``M`` itself) to BLAS.  So one compiled
``matvec`` serves a C, an F and a strided ``M`` alike (taking ``M`` too compiled it
once per layout, ~900 lines of LLVM IR each).  The product goes into one buffer per
step node, allocated before the loop: every value a step hands on is copied into the
loop's buffers, so a buffer is free again at the next step.
"""

from __future__ import annotations

import numba
import numpy as np

from opgraph.kernel_core.backends.numba.blas_threads import blas_dot

LOOP_ELEMENTS = 1 << 15   # matrices up to ~181 x 181 use the loop: a margin under the crossover

_jit = numba.njit(cache=True, error_model="numpy")


@_jit
def loop_matrix(m):
    """``m.T`` as a C-contiguous array (a view when ``m`` is a transposed C array)."""
    return np.ascontiguousarray(m.T)


@_jit
def matvec(mt, v, out):
    """``m @ v`` into ``out`` (a buffer of the loop, reused every step), returned, for
    ``mt = loop_matrix(m)``.  Columns of ``m`` (rows of ``mt``) are added eight at a time,
    scaled by ``v``'s entries: a unit-stride update of the whole result, which LLVM
    vectorizes without reordering any sum."""
    cols, rows = mt.shape
    if cols != v.shape[0]:
        raise ValueError("dot: shapes are not aligned")
    if rows * cols > LOOP_ELEMENTS or rows == 0 or cols == 0:
        # BLAS's gemv, threads as the backend's policy decides.  Copied by an element loop:
        # numba's array-valued slice setitem compiles a shape-formatting error path (~2 s).
        res = blas_dot(mt.T, v)
        for r in range(rows):
            out[r] = res[r]
        return out
    for r in range(rows):
        out[r] = 0.0
    c = 0
    while c + 8 <= cols:
        v0, v1, v2, v3 = v[c], v[c + 1], v[c + 2], v[c + 3]
        v4, v5, v6, v7 = v[c + 4], v[c + 5], v[c + 6], v[c + 7]
        w0, w1, w2, w3 = mt[c], mt[c + 1], mt[c + 2], mt[c + 3]
        w4, w5, w6, w7 = mt[c + 4], mt[c + 5], mt[c + 6], mt[c + 7]
        for r in range(rows):
            out[r] = (((((((out[r] + w0[r] * v0) + w1[r] * v1) + w2[r] * v2) + w3[r] * v3) + w4[r] * v4)
                       + w5[r] * v5) + w6[r] * v6) + w7[r] * v7
        c += 8
    while c < cols:
        vc = v[c]
        w = mt[c]
        for r in range(rows):
            out[r] += w[r] * vc
        c += 1
    return out

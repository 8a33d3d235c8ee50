"""The block products of the fused-attention kernels (``attention.py``), compiled once.

Every product the kernels need is ``a^T b`` written as row updates
(``out[i, :] += a[c, i] * b[c, :]``): the inner loop is a unit-stride multiply-add with
no reduction, which LLVM vectorizes.  Measured on this machine (2 shared cores, loaded),
128 x 512 x 64 blocks: 3-4 GFLOP/s, against 0.4-0.7 for the same products as row dot
products and 0.5-1.7 for numba's ``np.dot`` (a BLAS call per block: OpenBLAS wakes its
threads for every one of them, which costs most when the cores are busy).

The fastmath flags leave out ``nnan`` / ``ninf``: the operands are finite here (masks
with ``-inf`` are applied outside, in the generated code), but nothing may assume it.
"""

from __future__ import annotations

import numba

_FLAGS = {"reassoc", "contract", "nsz", "arcp"}


@numba.njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def axpy_rows(a, ar0, ac0, na, ni, b, br0, bc0, width, out, o0):
    """``out[o0 + i, t] += sum_c a[ar0 + c, ac0 + i] * b[br0 + c, bc0 + t]`` for c < na,
    i < ni, t < width: ``a^T b`` as row updates, unit stride in ``out`` and ``b``."""
    for c in range(na):
        ac = ar0 + c
        bc = br0 + c
        for i in range(ni):
            x = a[ac, ac0 + i]
            oi = o0 + i
            for t in range(width):
                out[oi, t] += x * b[bc, bc0 + t]

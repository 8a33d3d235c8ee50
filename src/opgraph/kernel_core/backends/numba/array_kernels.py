"""njit helpers on arrays that generated modules import (only when compiling).

``reshaped_view(x, shape, strides)`` adds / drops length-1 axes keeping a
contiguous array contiguous.  ``blas_operand(x)`` hands BLAS a C- or Fortran-contiguous array as is (numba's
``np.dot`` passes the transpose flag, so ``X.T`` of a C array costs no copy)
and copies only genuinely strided views.  It is an ``overload``: the choice is
made per layout at typing time, and the compiled code stays disk-cacheable.
"""

from __future__ import annotations

import numpy as np
from numba.core import types
from numba.extending import intrinsic, overload


def blas_operand(x):  # pragma: no cover - replaced by the overload inside njit code
    return np.ascontiguousarray(x)


@overload(blas_operand, inline="always")
def _blas_operand(x):
    if isinstance(x, types.Array) and x.layout in ("C", "F"):
        return lambda x: x
    return lambda x: np.ascontiguousarray(x)


def reshaped_view(x, shape, strides):  # pragma: no cover - replaced by the overload inside njit code
    return np.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


@overload(reshaped_view, inline="always")
def _reshaped_view(x, shape, strides):
    """``x`` with length-1 axes added / dropped: a reshape (still C-contiguous, so loops
    over it vectorize) when ``x`` is C-contiguous, else a strided view."""
    if isinstance(x, types.Array) and x.layout == "C":
        return lambda x, shape, strides: x.reshape(shape)
    return lambda x, shape, strides: np.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


# -- large output buffers ---------------------------------------------------------
# NumPy advises the kernel to back large arrays (>= 4 MiB) with transparent huge
# pages; numba's allocator does not, so every fresh output pays one page fault per
# 4 KiB -- several times the cost of the loop filling it (W2 in benchmarks/).
# ``advise_huge_pages(a)`` does what NumPy does: madvise(MADV_HUGEPAGE) on the
# page-aligned part of the buffer.  Linux only (the generated code calls it only
# there); a failing madvise is harmless and ignored.

HUGE_PAGE_BYTES = 1 << 22
_MADV_HUGEPAGE = 14


@intrinsic
def advise_huge_pages(typingctx, arr):
    from llvmlite import ir
    from numba.core import cgutils

    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        i64 = ir.IntType(64)
        bytep = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.IntType(32), [bytep, i64, ir.IntType(32)])
        madvise = cgutils.get_or_insert_function(builder.module, fnty, "madvise")
        begin = builder.ptrtoint(ary.data, i64)
        end = builder.add(begin, builder.mul(ary.nitems, ary.itemsize))
        start = builder.and_(builder.add(begin, i64(4095)), i64(~4095))
        builder.call(madvise, [builder.inttoptr(start, bytep), builder.sub(end, start),
                               ir.IntType(32)(_MADV_HUGEPAGE)])
        return context.get_dummy_value()

    return types.none(arr), codegen

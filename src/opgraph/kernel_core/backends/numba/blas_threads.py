"""How many OpenBLAS threads a matrix product of the NUMBA backend may use: one policy, here.

Numba's ``np.dot`` calls the OpenBLAS that SciPy ships (``scipy.linalg.cython_blas``,
library ``scipy.libs/libscipy_openblas*.so``).  OpenBLAS itself runs a product on one
thread below a size (gemm: ``m n k`` about 2^19 with two threads, measured; gemv: ``m n``
under 9,216) and on all its threads above.  Just above that size a product takes tens of microseconds, and
waking the other threads costs more than they save; on oversubscribed cores it costs
far more: a thread the kernel has not scheduled holds the whole call up (measured,
load ~11 on 2 cores: the 50 x 1,000 @ 1,000 x 50 product after a scan loop, p50 102 ms
per call with the default threads against 0.96 ms with one; see benchmarks/RESULTS.md,
"BLAS threads").

The policy: a product whose ``m n k`` (gemm) or ``m n`` (gemv) lies in
``[OPENBLAS_SERIAL, SERIAL_BELOW)`` (``GEMV_SERIAL_BELOW`` for gemv) runs with OpenBLAS set to one thread for
the call, and the count is restored right after; smaller products are single-threaded
by OpenBLAS anyway and larger ones use the threads the user configured
(``OPENBLAS_NUM_THREADS``, threadpoolctl, ...).  Nothing is changed outside the call.
The count is OpenBLAS's global setting (``openblas_set_num_threads`` is process-wide):
for the length of a capped product, a SciPy BLAS call from another Python thread is
single-threaded too.  opgraph's compiled functions hold the GIL, so two capped calls
never interleave.

``blas_dot`` is the one product the backend's kernels call (``Dot``'s generated code,
the scan kernels' matvec past its loop size); ``serial_section`` / ``end_serial_section``
bracket a whole kernel of many small products (the fused attention kernels) with one
cap.  Products larger than the window on oversubscribed cores still stall: for such
runs set ``OPENBLAS_NUM_THREADS=1`` (or threadpoolctl's ``threadpool_limits(1)``).
"""

from __future__ import annotations

import glob
import os

import llvmlite.binding as llvm
import numba
import numpy as np
import scipy
from numba import types
from numba.extending import overload

from opgraph.kernel_core.backends.numba.array_kernels import blas_operand
from opgraph.kernel_core.backends.numba.numba_import import preload_blas

preload_blas()   # np.dot below: scipy.linalg.cython_blas without importing scipy.linalg


def _scipy_openblas():
    found = sorted(glob.glob(os.path.join(os.path.dirname(scipy.__file__), os.pardir, "scipy.libs",
                                          "libscipy_openblas*.so*")))
    if not found:
        raise RuntimeError("NUMBA backend: scipy's OpenBLAS (scipy.libs/libscipy_openblas*.so), whose thread "
                           "count the matrix products set, was not found")
    return os.path.realpath(found[0])


SCIPY_OPENBLAS = _scipy_openblas()
llvm.load_library_permanently(SCIPY_OPENBLAS)   # its symbols, for the external functions below

get_threads = types.ExternalFunction("scipy_openblas_get_num_threads", types.intc())
set_threads = types.ExternalFunction("scipy_openblas_set_num_threads", types.void(types.intc))

# Below this many multiply-adds OpenBLAS runs every product on one thread itself (gemv:
# m n < 2,304 times GEMM_MULTITHREAD_THRESHOLD, 4; gemm's threshold is higher): no cap needed.
OPENBLAS_SERIAL = 9216
# Matrix products (m n k multiply-adds: 256^3) from which the threads are left on: ~1-2 ms on
# one core here, so capping below it costs at most that much on an idle machine of any size.
SERIAL_BELOW = 1 << 24
# The same for matrix-vector products (m n multiply-adds, memory-bound: a 2,048^2 matrix).
GEMV_SERIAL_BELOW = 1 << 22

_jit = numba.njit(cache=True, error_model="numpy")


@numba.njit(inline="always", cache=True)
def blas_threads_for(m, n, k):
    """1 when the product ``(m x k) @ (k x n)`` must run on one thread (opgraph caps it),
    0 when it is left to OpenBLAS (which runs it on one thread anyway, or on its threads).
    ``n == 1`` or ``m == 1`` is a matrix-vector product (gemv)."""
    size = m * n * k
    if size < OPENBLAS_SERIAL:
        return 0
    if m == 1 or n == 1:
        return 1 if size < GEMV_SERIAL_BELOW else 0
    return 1 if size < SERIAL_BELOW else 0


@numba.njit(inline="always", cache=True)
def serial_section():
    """Set OpenBLAS to one thread; returns the count ``end_serial_section`` restores."""
    threads = get_threads()
    if threads > 1:
        set_threads(1)
    return threads


@numba.njit(inline="always", cache=True)
def end_serial_section(threads):
    if threads > 1:
        set_threads(threads)


def product_shape(x, y):  # pragma: no cover - replaced by the overload inside njit code
    """``(m, n, k)`` of ``np.dot(x, y)`` for 1-D / 2-D operands: ``(m x k) @ (k x n)``."""
    m, k = x.shape if x.ndim == 2 else (1, x.shape[0])
    return m, (y.shape[1] if y.ndim == 2 else 1), k


@overload(product_shape, inline="always")
def _product_shape(x, y):
    if x.ndim == 2 and y.ndim == 2:
        return lambda x, y: (x.shape[0], y.shape[1], x.shape[1])
    if x.ndim == 2:
        return lambda x, y: (x.shape[0], 1, x.shape[1])
    if y.ndim == 2:
        return lambda x, y: (1, y.shape[1], x.shape[0])
    return lambda x, y: (1, 1, x.shape[0])


@_jit
def blas_dot(x, y):
    """``np.dot(x, y)`` of two float arrays of one dtype (1-D / 2-D; strided views copied),
    with BLAS threads as ``blas_threads_for`` decides."""
    if x.shape[-1] != y.shape[0]:   # before the cap: an error inside it would leave it set
        raise ValueError("dot: shapes are not aligned")
    a = blas_operand(x)
    b = blas_operand(y)
    m, n, k = product_shape(a, b)
    if blas_threads_for(m, n, k) == 1:
        threads = serial_section()
        r = np.dot(a, b)
        end_serial_section(threads)
        return r
    return np.dot(a, b)

"""Graph-independent njit kernels that generated modules call: compiled once, then loaded.

Most of a small graph's cold compile is not its own code but NumPy's inside numba:
each ``np.dot`` layout, ``np.empty`` of a new rank or dtype, reshape or strided view
is an overload numba types and lowers afresh in every process (measured one at a
time in new processes, CPU time: a matrix-vector ``np.dot`` ~0.8 s, the same
product on a transposed matrix another ~0.6 s, two ``reshaped_view`` signatures
~0.6 s, boxing a float64 and an int64 into 0-d arrays ~0.15 s).  A generated
module's disk-cache entry holds that code only for its own graph, so every new graph
paid it again.  Called through these ``cache=True`` functions instead, each
signature is compiled once per installation (numba's cache next to this file) and
loaded in a few milliseconds by every later process and graph; numba keeps the
LLVM bitcode next to the machine code, so the caller still inlines them.

The BLAS product, the same kind of kernel, lives in ``blas_threads.py`` (``blas_dot``):
it loads SciPy's OpenBLAS, which graphs without linear algebra never need.

Imported only by generated modules (and the code generators naming them).
"""

from __future__ import annotations

import numba
import numpy as np

from opgraph.kernel_core.backends.numba.array_kernels import reshaped_view

_jit = numba.njit(cache=True, error_model="numpy")


@_jit
def empty(shape, dt):
    """``np.empty`` (CodeContext.empty says why generated code calls it here)."""
    return np.empty(shape, dtype=dt)


@_jit
def full(shape, v, dt):
    return np.full(shape, v, dtype=dt)


@_jit
def zeros(shape, dt):
    return np.zeros(shape, dtype=dt)


@_jit
def box0d(v, dt):
    """The 0-d array of dtype ``dt`` holding the number ``v``."""
    out = np.empty((), dtype=dt)
    out[()] = v
    return out


@_jit
def box1d(v, dt):
    out = np.empty((1,), dtype=dt)
    out[0] = v
    return out


@_jit
def box2d(v, dt):
    out = np.empty((1, 1), dtype=dt)
    out[0, 0] = v
    return out


@_jit
def view(x, shape, strides):
    """``array_kernels.reshaped_view``: length-1 axes added / dropped, contiguity kept."""
    return reshaped_view(x, shape, strides)

"""njit helpers on arrays that generated modules import (only when compiling).

``blas_operand(x)`` hands BLAS a C- or Fortran-contiguous array as is (numba's
``np.dot`` passes the transpose flag, so ``X.T`` of a C array costs no copy)
and copies only genuinely strided views.  It is an ``overload``: the choice is
made per layout at typing time, and the compiled code stays disk-cacheable.
"""

from __future__ import annotations

import numpy as np
from numba.core import types
from numba.extending import overload


def blas_operand(x):  # pragma: no cover - replaced by the overload inside njit code
    return np.ascontiguousarray(x)


@overload(blas_operand, inline="always")
def _blas_operand(x):
    if isinstance(x, types.Array) and x.layout in ("C", "F"):
        return lambda x: x
    return lambda x: np.ascontiguousarray(x)

"""Sorting kernels that generated modules call: compiled once per installation, then loaded.

numba implements ``np.sort`` (quicksort) and ``np.argsort(kind='mergesort')`` with
njit functions of its own -- about eight and five per dtype -- which every process
typed and compiled afresh for every graph using them (they are not in a generated
module's disk-cache entry for any other graph; issue 18).  Called through these
``cache=True`` functions instead, each dtype is compiled once per installation
(numba's cache next to this file) and loaded by later processes and graphs, like
``shared_kernels.py``.

Imported only by generated modules (and the code generators naming them).
"""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(cache=True, error_model="numpy")


@_jit
def sort1d(row):
    """``np.sort`` of a 1-d array (NaNs last, as NumPy)."""
    return np.sort(row)


@_jit
def argsort1d(row):
    """The stable ``np.argsort`` of a 1-d array (ties keep their order)."""
    return np.argsort(row, kind="mergesort")

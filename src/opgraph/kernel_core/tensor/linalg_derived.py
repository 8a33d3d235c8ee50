"""Linear algebra built from other ops: ``matrix_power``, ``tensorinv``, ``tensorsolve``,
``cho_solve``.  Being compositions, their gradients, shapes and Numba code are those
of the ops they are made of.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.linalg import _b_ndim, _check_matrix, _mm, inv, solve, solve_triangular

__all__ = ["matrix_power", "tensorinv", "tensorsolve", "cho_solve"]


def matrix_power(M, n):
    """``M`` raised to the integer power ``n`` (``n < 0``: of ``inv(M)``), by repeated squaring."""
    from opgraph.kernel_core.tensor.construction import eye
    from opgraph.kernel_core.tensor.math import zeros_like

    M = _check_matrix(M, "matrix_power", square=True)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"matrix_power: the exponent must be a Python int, got {n!r}")
    n = int(n)
    if n == 0:
        return zeros_like(M) + eye(M.shape[-1], dtype=M.type.dtype)
    if n < 0:
        M, n = inv(M), -n
    result, base = None, M
    while n:
        if n & 1:
            result = base if result is None else _mm(result, base)
        n >>= 1
        if n:
            base = _mm(base, base)
    return result


def _prod(dims):
    from opgraph.kernel_core.tensor.math import mul

    out = dims[0]
    for d in dims[1:]:
        out = mul(out, d)
    return out


def tensorinv(a, ind=2):
    """NumPy's ``tensorinv``: the inverse of ``a`` seen as a map from its last dims to its first ``ind``."""
    a = as_tensor_variable(a)
    if not isinstance(ind, (int, np.integer)) or ind <= 0 or ind >= a.type.ndim:
        raise ValueError(f"tensorinv: ind must be a positive int smaller than a.ndim={a.type.ndim}, got {ind!r}")
    shape = [a.shape[d] for d in range(a.type.ndim)]
    rows, cols = shape[:ind], shape[ind:]
    flat = a.reshape((_prod(rows), _prod(cols)))
    return inv(flat).reshape(tuple(cols + rows))


def tensorsolve(a, b, axes=None):
    """NumPy's ``tensorsolve``: ``x`` with ``tensordot(a, x, x.ndim) == b``."""
    a = as_tensor_variable(a)
    b = as_tensor_variable(b)
    an = a.type.ndim
    if axes is not None:
        axes = [int(ax) % an for ax in axes]
        order = [d for d in range(an) if d not in axes] + axes
        a = a.dimshuffle(*order)
    k = an - b.type.ndim
    if k <= 0:
        raise ValueError(f"tensorsolve: a ({a.type.short_str()}) needs more dims than b ({b.type.short_str()})")
    x_shape = [a.shape[d] for d in range(b.type.ndim, an)]
    flat_a = a.reshape((_prod([a.shape[d] for d in range(b.type.ndim)]), _prod(x_shape)))
    return solve(flat_a, b.flatten()).reshape(tuple(x_shape))


def cho_solve(c_and_lower, b, b_ndim=None, check_finite=True, overwrite_b=False):
    """Solve ``a @ x = b`` from ``a``'s Cholesky factor ``(c, lower)``, as ``scipy.linalg.cho_solve``."""
    c, lower = c_and_lower
    c = _check_matrix(c, "cho_solve", square=True)
    b = as_tensor_variable(b)
    b_ndim = _b_ndim(b, b_ndim)
    # a = L L^T (lower) or U^T U (upper): two triangular solves, reading c's one triangle.
    if lower:
        y = solve_triangular(c, b, lower=True, b_ndim=b_ndim)
        return solve_triangular(c, y, lower=True, trans=1, b_ndim=b_ndim)
    y = solve_triangular(c, b, lower=False, trans=1, b_ndim=b_ndim)
    return solve_triangular(c, y, lower=False, b_ndim=b_ndim)

"""Axis-permuted views of an array, as generated source.

numba compiles ``np.transpose(x, axes)`` / ``x.transpose(axes)`` through its
``permute_arrays`` helper (a ``set`` of the axes and an array-valued setitem whose
shape-error path formats strings): seconds of a cold compile per process.  A view
with permuted shape and strides is the same array and costs numba nothing extra.

Pure Python source generation (never imports numba).
"""

from __future__ import annotations


def permuted_view(src, perm):
    """Source of the view of ``src`` whose axis ``i`` is ``src``'s axis ``perm[i]``
    (``np.transpose(src, perm)``); ``src`` is an expression evaluated once per axis."""
    shape = "".join(f"{src}.shape[{p}], " for p in perm)
    strides = "".join(f"{src}.strides[{p}], " for p in perm)
    return f"np.lib.stride_tricks.as_strided({src}, shape=({shape}), strides=({strides}))"

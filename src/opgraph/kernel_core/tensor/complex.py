"""``pt.real``, ``pt.imag``, ``pt.conj``, ``pt.complex``, ``pt.angle`` (Elemwise over scalar/complex.py)."""

from __future__ import annotations

from opgraph.kernel_core.scalar import complex as pc
from opgraph.kernel_core.tensor.elemwise import Elemwise

__all__ = ["real", "imag", "conj", "conjugate", "complex", "angle"]

real = Elemwise(pc.real)
imag = Elemwise(pc.imag)
conj = conjugate = Elemwise(pc.conj)
complex = Elemwise(pc.complex_)


def angle(z):
    """The argument of ``z`` (``arctan2(imag(z), real(z))``; 0 or pi for real ``z``)."""
    from opgraph.kernel_core.tensor import math as tm

    return tm.arctan2(imag(z), real(z))

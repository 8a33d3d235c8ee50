"""Matrix exponential (``pt.linalg.expm``), as ``scipy.linalg.expm``.

The pullback uses the block identity for the Frechet derivative ``L(A, E)`` of
``expm``: ``expm([[A, E], [0, A]])`` holds ``L(A, E)`` in its upper-right block,
and the adjoint of ``E -> L(A, E)`` is ``G -> L(A.T, G)`` (real matrices), so
``gA = expm([[A.T, gZ], [0, A.T]])[:n, n:]`` -- one expm of twice the size.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.tensor.linalg import _apply, _check_matrix, _mT, _scipy_linalg, _SquareToSquare

__all__ = ["Expm", "expm"]


class Expm(_SquareToSquare):
    """``expm(A)`` of a square matrix."""

    __props__ = ()
    function_name = "expm"

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(_scipy_linalg().expm(inputs[0]), dtype=node.outputs[0].type.dtype)

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.join import join
        from opgraph.kernel_core.tensor.math import zeros_like

        (A,), (gZ,) = inputs, output_grads
        nd = A.type.ndim
        AT = _mT(A)
        top = join(nd - 1, AT, gZ)
        bottom = join(nd - 1, zeros_like(AT), AT)
        big = expm(join(nd - 2, top, bottom))
        n = A.shape[-1]
        return [big[..., :n, n:]]


def expm(A):
    """Matrix exponential of (each matrix in) ``A``."""
    return _apply(Expm(), _check_matrix(A, "expm", square=True))

"""Dot (vector / matrix products)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from opgraph.kernel_core.backends.jax.dispatch import jax_funcify
from opgraph.kernel_core.tensor.dot import Dot
from opgraph.kernel_core.tensor.elemwise import DimShuffle


def _is_matrix_transpose(var):
    owner = var.owner
    return (owner is not None and isinstance(owner.op, DimShuffle) and var.type.ndim == 2
            and tuple(owner.op.new_order) == (1, 0))


@jax_funcify.register(Dot)
def _dot(op, node, **kwargs):
    dtype = np.dtype(node.outputs[0].type.dtype)
    if _is_matrix_transpose(node.inputs[0]):
        # x = X.T: contract X's first axis instead (transpose(transpose(X)) folds to X).  XLA's
        # CPU dot of an explicitly transposed matrix copied X first: 40x slower on W4's X.T @ d.
        def dot_transposed(x, y):
            if x.shape[-1] != y.shape[0]:
                raise ValueError(f"dot: shapes {x.shape} and {y.shape} are not aligned: "
                                 f"inner dimensions {x.shape[-1]} != {y.shape[0]}")
            out = lax.dot_general(jnp.transpose(x), y, (((0,), (0,)), ((), ())), preferred_element_type=dtype)
            return out.astype(dtype)
        return dot_transposed

    def dot(x, y):
        if x.shape[-1] != y.shape[0]:
            raise ValueError(f"dot: shapes {x.shape} and {y.shape} are not aligned: "
                             f"inner dimensions {x.shape[-1]} != {y.shape[0]}")
        return jnp.dot(x, y, preferred_element_type=dtype).astype(dtype)
    return dot

"""Dot (vector / matrix products)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from opgraph.kernel_core.backends.jax.dispatch import jax_funcify
from opgraph.kernel_core.tensor.dot import Dot


@jax_funcify.register(Dot)
def _dot(op, node, **kwargs):
    dtype = np.dtype(node.outputs[0].type.dtype)

    def dot(x, y):
        if x.shape[-1] != y.shape[0]:
            raise ValueError(f"dot: shapes {x.shape} and {y.shape} are not aligned: "
                             f"inner dimensions {x.shape[-1]} != {y.shape[0]}")
        return jnp.dot(x, y, preferred_element_type=dtype).astype(dtype)
    return dot

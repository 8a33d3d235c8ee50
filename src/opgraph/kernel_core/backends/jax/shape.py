"""Shape, Shape_i, SpecifyShape and Reshape.

Under ``jax.jit`` every shape is static: ``Shape`` / ``Shape_i`` return NumPy values,
so the arithmetic on them stays NumPy (dispatch.py folds it) and a reshape to a
computed shape gets concrete sizes.  A shape computed from the function's input
values cannot be static: such a reshape raises ``JaxCompileError``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from opgraph.kernel_core.backends.jax.dispatch import (is_static, jax_funcify,
                                                       static_output_shape, static_value)
from opgraph.kernel_core.tensor.shape import Reshape, Shape, Shape_i, SpecifyShape


@jax_funcify.register(Shape)
def _shape(op, node, **kwargs):
    return lambda x: np.asarray(jnp.shape(x), dtype="int64")


@jax_funcify.register(Shape_i)
def _shape_i(op, node, **kwargs):
    i = op.i
    return lambda x: np.asarray(jnp.shape(x)[i], dtype="int64")


@jax_funcify.register(SpecifyShape)
def _specify_shape(op, node, **kwargs):
    dims = op.dims
    check = getattr(op, "mismatch_message", None)
    sources = getattr(op, "sources", None)

    def specify_shape(x, *entries):
        # Shapes are static while tracing: a mismatch is found at compile time.  An
        # expected length computed from input values cannot be checked inside JAX.
        for k, (d, e) in enumerate(zip(dims, entries)):
            if is_static(e) and x.shape[d] != int(e):
                if check is not None and sources is not None:
                    raise ValueError(check(d, sources[k], int(e), x.shape[d]))
                raise ValueError(f"SpecifyShape: axis {d} has length {x.shape[d]}, expected {int(e)} "
                                 f"(input shape {x.shape})")
        return x
    return specify_shape


@jax_funcify.register(Reshape)
def _reshape(op, node, **kwargs):
    known = static_output_shape(node)

    def reshape(x, shp):
        if known is not None and not is_static(shp):
            return jnp.reshape(x, known)
        return jnp.reshape(x, tuple(int(s) for s in static_value(shp, op, "the target shape")))
    return reshape

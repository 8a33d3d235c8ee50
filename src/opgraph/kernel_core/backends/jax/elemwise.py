"""Elemwise (the scalar op's jnp function on whole arrays), DimShuffle and the
tensor <-> scalar conversions.

Elemwise's ``inplace_pattern`` is ignored: JAX is functional, and mode JAX
excludes the inplace rewrites anyway.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from opgraph.kernel_core.backends.jax.dispatch import jax_funcify
from opgraph.kernel_core.backends.jax.scalar import scalar_fn
from opgraph.kernel_core.tensor.elemwise import (DimShuffle, Elemwise, ScalarFromTensor, TensorFromScalar,
                                                 check_no_runtime_broadcast)


@jax_funcify.register(Elemwise)
def _elemwise(op, node, **kwargs):
    fn = scalar_fn(op.scalar_op, [o.type.dtype for o in node.outputs])
    multi = len(node.outputs) > 1

    def elemwise(*args):
        if len(args) > 1:
            # Shapes are static while tracing: the other modes' run-time check, at compile time.
            check_no_runtime_broadcast(node, [jnp.asarray(a) for a in args])
        outs = fn(*args)
        # Every output has the broadcast shape of all inputs (Second's, Switch's too).
        shape = jnp.broadcast_shapes(*[jnp.shape(a) for a in args])
        outs = tuple(o if o.shape == shape else jnp.broadcast_to(o, shape) for o in outs)
        return outs if multi else outs[0]
    return elemwise


@jax_funcify.register(DimShuffle)
def _dimshuffle(op, node, **kwargs):
    perm = tuple(op.shuffle) + tuple(op.drop)
    new_order = op.new_order

    def dimshuffle(x):
        res = jnp.transpose(x, perm) if perm != tuple(range(len(perm))) else x
        shape = tuple(1 if d == "x" else x.shape[d] for d in new_order)
        return jnp.reshape(res, shape)
    return dimshuffle


@jax_funcify.register(TensorFromScalar)
def _tensor_from_scalar(op, node, **kwargs):
    dtype = np.dtype(node.outputs[0].type.dtype)
    return lambda s: jnp.asarray(s, dtype=dtype)


@jax_funcify.register(ScalarFromTensor)
def _scalar_from_tensor(op, node, **kwargs):
    # ScalarType values are 0-d arrays in this backend.
    dtype = np.dtype(node.outputs[0].type.dtype)
    return lambda t: jnp.asarray(t).astype(dtype)

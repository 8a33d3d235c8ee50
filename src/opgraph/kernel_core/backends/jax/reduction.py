"""CAReduce family (sum, prod, max, min, all, any) and argmax / argmin."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from opgraph.kernel_core.backends.jax.dispatch import jax_funcify
from opgraph.kernel_core.tensor import reduction as red

_REDUCERS = {red.Sum: jnp.sum, red.Prod: jnp.prod, red.Max: jnp.max, red.Min: jnp.min, red.All: jnp.all,
             red.Any: jnp.any}


@jax_funcify.register(red.CAReduce)
def _careduce(op, node, **kwargs):
    for cls in type(op).__mro__:
        if cls in _REDUCERS:
            fn = _REDUCERS[cls]
            break
    else:
        raise NotImplementedError(f"the JAX backend has no implementation for {type(op).__name__} ({op})")
    axis = op.axis
    dtype = np.dtype(node.outputs[0].type.dtype)
    takes_dtype = isinstance(op, red._Accumulating)

    def careduce(x):
        res = fn(x, axis=axis, dtype=dtype) if takes_dtype else fn(x, axis=axis)
        return res.astype(dtype) if res.dtype != dtype else res
    return careduce


@jax_funcify.register(red._ArgExtremum)
def _argextremum(op, node, **kwargs):
    fn = jnp.argmax if isinstance(op, red.Argmax) else jnp.argmin
    axis = op.axis
    return lambda x: fn(x, axis=axis).astype("int64")

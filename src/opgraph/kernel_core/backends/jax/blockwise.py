"""Blockwise: the core op's JAX implementation mapped over the batch dimensions with ``jax.vmap``.

One ``vmap`` per batch dimension; an input whose batch length is 1 there is not
mapped (``in_axes=None``), so it broadcasts without being copied.  Like the
other modes, a run-time length 1 only broadcasts where it is static.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from opgraph.kernel_core.backends.jax.dispatch import jax_funcify
from opgraph.kernel_core.tensor.blockwise import Blockwise


def _core_types(op, node):
    return [type(i.type)(i.type.dtype, i.type.shape[i.type.ndim - len(s):])
            for i, s in zip(node.inputs, op.inputs_sig)]


def _map_batch(core_fn, nb, n_out):
    """``core_fn`` lifted to inputs that all carry ``nb`` leading batch dimensions."""
    if nb == 0:
        return core_fn

    inner = _map_batch(core_fn, nb - 1, n_out)

    def mapped(*args):
        lengths = {a.shape[0] for a in args if a.shape[0] != 1}
        if len(lengths) > 1:
            raise ValueError(f"Blockwise: batch shapes {[a.shape[:nb] for a in args]} do not broadcast")
        if not lengths:   # every input has length 1 here: compute once, keep the axis
            out = inner(*[a[0] for a in args])
            return tuple(o[None] for o in out) if n_out > 1 else out[None]
        in_axes = [0 if a.shape[0] != 1 else None for a in args]
        args = [a if ax == 0 else a[0] for a, ax in zip(args, in_axes)]
        return jax.vmap(inner, in_axes=in_axes)(*args)
    return mapped


@jax_funcify.register(Blockwise)
def _blockwise(op, node, **kwargs):
    core = op._core_node(_core_types(op, node))
    core_fn = jax_funcify(op.core_op, core, **kwargs)
    nb = node.outputs[0].type.ndim - len(op.outputs_sig[0])
    if nb == 0:
        return core_fn
    n_out = len(node.outputs)
    in_batch = [v.type.ndim - len(s) for v, s in zip(node.inputs, op.inputs_sig)]
    # Per input, per padded batch dim: whether its length 1 is static (missing leading dims are).
    static_one = [[True] * (nb - b) + [v.type.shape[k] == 1 for k in range(b)]
                  for v, b in zip(node.inputs, in_batch)]
    mapped = _map_batch(core_fn, nb, n_out)

    def blockwise(*args):
        padded = [jnp.reshape(a, (1,) * (nb - b) + jnp.shape(a)) for a, b in zip(args, in_batch)]
        for d in range(nb):
            longest = max(a.shape[d] for a in padded)
            for a, ones in zip(padded, static_one):
                if a.shape[d] == 1 and longest != 1 and not ones[d]:
                    raise ValueError(f"Blockwise: an input has run-time length 1 in batch dimension {d} "
                                     "but is not declared broadcastable")
        return mapped(*padded)
    return blockwise

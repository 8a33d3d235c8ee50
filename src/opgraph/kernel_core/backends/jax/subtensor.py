"""Indexing and inc / set subtensor (``x.at[index].add / .set``).

Integer indices (scalars and arrays) may be traced values.  Slice bounds and
boolean masks size the output, so they must be static (constants or computed
from static shapes); otherwise ``JaxCompileError`` says so.  JAX clamps
out-of-bounds indices where NumPy raises: the Python modes check them, this one
cannot inside a compiled function.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from opgraph.kernel_core.backends.jax.dispatch import is_static, jax_funcify, static_value
from opgraph.kernel_core.tensor import subtensor as st


def _index(op, idx_list, values, check_masks=True):
    """The JAX index tuple of ``values`` laid out by ``idx_list``."""
    out = []
    for e in st._adv_entries(idx_list, values):
        if isinstance(e, slice):
            parts = [None if p is None else int(static_value(p, op, "a slice bound")) for p in
                     (e.start, e.stop, e.step)]
            out.append(slice(*parts))
        elif check_masks and getattr(e, "dtype", None) == np.bool_ and not is_static(e):
            static_value(e, op, "a boolean mask (it decides how many elements are selected)")
        else:
            out.append(e)
    return tuple(out)


@jax_funcify.register(st.Subtensor)
@jax_funcify.register(st.AdvancedSubtensor)
def _subtensor(op, node, **kwargs):
    idx_list = op.idx_list
    return lambda x, *idx: jnp.asarray(x)[_index(op, idx_list, idx)]


@jax_funcify.register(st.AdvancedSubtensor1)
def _advanced_subtensor1(op, node, **kwargs):
    return lambda x, i: jnp.asarray(x)[i]


@jax_funcify.register(st.IncSubtensor)
@jax_funcify.register(st.AdvancedIncSubtensor)
def _inc_subtensor(op, node, **kwargs):
    idx_list = op.idx_list
    set_ = op.set_instead_of_inc

    def inc_subtensor(x, y, *idx):
        at = jnp.asarray(x).at[_index(op, idx_list, idx)]
        return at.set(y) if set_ else at.add(y)
    return inc_subtensor


@jax_funcify.register(st.AdvancedIncSubtensor1)
def _advanced_inc_subtensor1(op, node, **kwargs):
    set_ = op.set_instead_of_inc

    def advanced_inc_subtensor1(x, y, i):
        at = jnp.asarray(x).at[i]
        return at.set(y) if set_ else at.add(y)
    return advanced_inc_subtensor1

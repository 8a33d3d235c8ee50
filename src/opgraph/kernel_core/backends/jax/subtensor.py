"""Indexing and inc / set subtensor (``x.at[index].add / .set``).

Integer indices (scalars and arrays) may be traced values.  Slice bounds and
boolean masks size the output, so they must be static (constants or computed
from static shapes); otherwise ``JaxCompileError`` says so.

Bounds: JAX clamps an out-of-bounds index where NumPy raises.  Static indices
are checked while tracing (IndexError, as in the other modes); traced index
*arrays* (advanced indexing) and traced *scalar* indices of basic indexing
(``x[i]`` with ``i`` an input) are checked in the compiled code (``checks.py``:
the IndexError is raised after the call).  Only nodes with a non-constant index
are checked, so ``x[0]``, ``x[1:]`` or ``x[:, -1]`` compile without checkify (whose
check reads its error after the call: a call with ``jax_arrays=True`` waits for it).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from opgraph.kernel_core.backends.jax.checks import jax_check, register_checking_op
from opgraph.kernel_core.backends.jax.dispatch import is_static, jax_funcify, static_value
from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.tensor import subtensor as st

# Their index arrays are traced values: bounds checked in the compiled code.
for _cls in (st.AdvancedSubtensor, st.AdvancedSubtensor1, st.AdvancedIncSubtensor, st.AdvancedIncSubtensor1):
    register_checking_op(_cls)


def _has_variable_index(node):
    """Whether a basic-indexing node has an index (not a slice bound) that is not a constant."""
    n_x = 2 if isinstance(node.op, st.IncSubtensor) else 1
    for e in st._adv_entries(node.op.idx_list, node.inputs[n_x:]):
        if not isinstance(e, (slice, Constant)):
            return True
    return False


# A traced scalar index (x[i]): checked in the compiled code.
register_checking_op(st.Subtensor, when=_has_variable_index, per_node=True)
register_checking_op(st.IncSubtensor, when=_has_variable_index, per_node=True)


def check_bounds(op, index, n, axis):
    """IndexError when ``index`` (static: now; a traced array: after the call) leaves ``[-n, n)``."""
    if is_static(index):
        arr = np.asarray(index)
        bad = arr[(arr < -n) | (arr >= n)]
        if bad.size:
            raise IndexError(f"{op}: index {int(bad.ravel()[0])} is out of bounds for axis {axis} with size {n}")
    else:
        jax_check(jnp.all((index >= -n) & (index < n)), IndexError,
                  f"{op}: an index is out of bounds for axis {axis} with size {n}")


def _index(op, idx_list, values, shape):
    """The JAX index tuple of ``values`` laid out by ``idx_list``, indexing an array of ``shape``."""
    out = []
    axis = 0
    for e in st._adv_entries(idx_list, values):
        if isinstance(e, slice):
            parts = [None if p is None else int(static_value(p, op, "a slice bound")) for p in
                     (e.start, e.stop, e.step)]
            out.append(slice(*parts))
            axis += 1
        elif getattr(e, "dtype", None) == np.bool_:
            if not is_static(e):
                static_value(e, op, "a boolean mask (it decides how many elements are selected)")
            out.append(e)
            axis += np.ndim(e)
        else:
            check_bounds(op, e, shape[axis], axis)
            out.append(e)
            axis += 1
    return tuple(out)


@jax_funcify.register(st.Subtensor)
@jax_funcify.register(st.AdvancedSubtensor)
def _subtensor(op, node, **kwargs):
    idx_list = op.idx_list
    return lambda x, *idx: jnp.asarray(x)[_index(op, idx_list, idx, jnp.shape(x))]


@jax_funcify.register(st.AdvancedSubtensor1)
def _advanced_subtensor1(op, node, **kwargs):
    def advanced_subtensor1(x, i):
        check_bounds(op, i, jnp.shape(x)[0], 0)
        return jnp.asarray(x)[i]
    return advanced_subtensor1


@jax_funcify.register(st.IncSubtensor)
@jax_funcify.register(st.AdvancedIncSubtensor)
def _inc_subtensor(op, node, **kwargs):
    idx_list = op.idx_list
    set_ = op.set_instead_of_inc

    def inc_subtensor(x, y, *idx):
        at = jnp.asarray(x).at[_index(op, idx_list, idx, jnp.shape(x))]
        return at.set(y) if set_ else at.add(y)
    return inc_subtensor


@jax_funcify.register(st.AdvancedIncSubtensor1)
def _advanced_inc_subtensor1(op, node, **kwargs):
    set_ = op.set_instead_of_inc

    def advanced_inc_subtensor1(x, y, i):
        check_bounds(op, i, jnp.shape(x)[0], 0)
        at = jnp.asarray(x).at[i]
        return at.set(y) if set_ else at.add(y)
    return advanced_inc_subtensor1

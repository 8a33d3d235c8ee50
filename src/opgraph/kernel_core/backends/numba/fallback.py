"""Fallback for ops without a Numba implementation: call ``perform`` in objmode.

Chosen over splitting the graph into several compiled pieces because the
generated function stays one dispatch and the rest of the graph stays
compiled; the price is that the module holds a Python callable, so it is
compiled in memory and never written to the disk cache
(``CodeContext.python_object`` marks it).

Every op of the library has a Numba implementation; the one deliberate user
of this fallback is ``QR(mode="complete")`` (numba's ``np.linalg.qr`` only
gives the reduced factorisation; see ``linalg.py``).  Ops defined by users
(``Op`` subclasses with a ``perform``) land here too.
"""

from __future__ import annotations

import numpy as np


def numba_type_of(var):
    """The numba type of a variable's runtime value (arrays are C-contiguous here)."""
    import numba
    from numba.core import types

    from opgraph.kernel_core.scalar.type import ScalarType
    from opgraph.kernel_core.tensor.type import TensorType

    t = var.type
    if isinstance(t, TensorType):
        return types.Array(numba.from_dtype(np.dtype(t.dtype)), t.ndim, "C")
    if isinstance(t, ScalarType):
        return numba.from_dtype(np.dtype(t.dtype))
    raise NotImplementedError(f"the Numba backend cannot represent {var} of type {t}")


def _make_perform(node):
    op = node.op
    out_dtypes = [getattr(o.type, "dtype", None) for o in node.outputs]
    scalar_out = [o.type.ndim == 0 and not hasattr(o.type, "shape") for o in node.outputs]

    def call_perform(*inputs):
        storage = [[None] for _ in node.outputs]
        op.perform(node, list(inputs), storage)
        results = []
        for (value,), dtype, is_scalar in zip(storage, out_dtypes, scalar_out):
            if is_scalar:
                results.append(np.asarray(value, dtype=dtype)[()])
                continue
            value = np.asarray(value, dtype=dtype)
            if not value.flags.c_contiguous:
                value = value.copy(order="C")
            results.append(value)
        return tuple(results)

    return call_perform


def perform_in_objmode(op, node, ctx):
    perform = ctx.python_object(_make_perform(node), prefix=f"perform_{type(op).__name__}")
    type_names = [ctx.python_object(numba_type_of(o), prefix="type") for o in node.outputs]
    args = ", ".join(f"x{i}" for i in range(len(node.inputs)))
    outs = [f"r{i}" for i in range(len(node.outputs))]
    decl = ", ".join(f"{r}={t}" for r, t in zip(outs, type_names))
    ret = outs[0] if len(outs) == 1 else "(" + ", ".join(outs) + ")"
    src = f"""
def {{name}}({args}):
    with numba.objmode({decl}):
        ({", ".join(outs)},) = {perform}({args})
    return {ret}
"""
    return ctx.define(src, prefix=f"perform_{type(op).__name__.lower()}")

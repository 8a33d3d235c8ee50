"""Fallback for ops without a Numba implementation: call ``perform`` in objmode.

Chosen over splitting the graph into several compiled pieces because the
generated function stays one dispatch and the rest of the graph stays
compiled.  The module stays cacheable on disk: the objmode block calls
``call_perform(key, ...)`` of this module (importable) with a string key, and
this process's registry maps the key to the node's ``perform`` (registered
while the module's source is generated, so before any call; a module loaded
from the disk cache by another process finds that process's registration).
The key is a digest of what the machine code depends on (the op's class and
text, the input and output types) plus an ordinal telling apart nodes of one
process that share it; the output types are importable attributes here
(``type_float64_2d``, ``type_bool_scalar``).  Registered nodes are kept for
the process's lifetime (one entry per distinct op that ever compiled).

Every op of the library has a Numba implementation; the one deliberate user
of this fallback is ``QR(mode="complete")`` (numba's ``np.linalg.qr`` only
gives the reduced factorisation; see ``linalg.py``).  Ops defined by users
(``Op`` subclasses with a ``perform``) land here too.
"""

from __future__ import annotations

import hashlib

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


_HERE = __name__
_PERFORMS = {}        # key -> the perform callable its objmode block calls
_NODES = {}           # digest -> [node, ...]: the ordinal of a node is its index here


def __getattr__(name):
    # type_<dtype>_<ndim>d / type_<dtype>_scalar: the numba type of an objmode output,
    # made on first use by a generated module (which has imported numba by then).
    if name.startswith("type_"):
        import numba
        from numba.core import types

        dtype, _, shape = name[len("type_"):].rpartition("_")
        try:
            scalar = numba.from_dtype(np.dtype(dtype))
        except TypeError:
            scalar = None
        if scalar is not None and (shape == "scalar" or shape.endswith("d") and shape[:-1].isdigit()):
            t = scalar if shape == "scalar" else types.Array(scalar, int(shape[:-1]), "C")
            globals()[name] = t
            return t
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _type_name(var):
    """The attribute of this module naming ``var``'s numba type (see ``numba_type_of``)."""
    from opgraph.kernel_core.scalar.type import ScalarType
    from opgraph.kernel_core.tensor.type import TensorType

    t = var.type
    if isinstance(t, TensorType):
        return f"type_{np.dtype(t.dtype).name}_{t.ndim}d"
    if isinstance(t, ScalarType):
        return f"type_{np.dtype(t.dtype).name}_scalar"
    raise NotImplementedError(f"the Numba backend cannot represent {var} of type {t}")


def _same_computation(a, b):
    return a is b or (a.op == b.op and [i.type for i in a.inputs] == [i.type for i in b.inputs]
                      and [o.type for o in a.outputs] == [o.type for o in b.outputs])


def register_perform(node):
    """The key under which ``call_perform`` runs ``node``'s perform in this process."""
    op = node.op
    text = "|".join([f"{type(op).__module__}.{type(op).__qualname__}", str(op),
                     ",".join(str(i.type) for i in node.inputs), ",".join(str(o.type) for o in node.outputs)])
    digest = hashlib.sha256(text.encode()).hexdigest()[:20]
    nodes = _NODES.setdefault(digest, [])
    for k, other in enumerate(nodes):
        if _same_computation(other, node):
            break
    else:
        k = len(nodes)
        nodes.append(node)
    key = f"{digest}_{k}"
    if key not in _PERFORMS:
        _PERFORMS[key] = _make_perform(nodes[k])
    return key


def call_perform(key, *inputs):
    """Run the perform registered under ``key`` (called from objmode blocks)."""
    try:
        perform = _PERFORMS[key]
    except KeyError:
        raise RuntimeError(f"objmode fallback: no op registered under {key!r} in this process "
                           "(the generated module ran without being generated here)") from None
    return perform(*inputs)


def perform_in_objmode(op, node, ctx):
    key = register_perform(node)
    call = ctx.import_name(_HERE, "call_perform")
    type_names = [ctx.import_name(_HERE, _type_name(o)) for o in node.outputs]
    args = ", ".join(f"x{i}" for i in range(len(node.inputs)))
    outs = [f"r{i}" for i in range(len(node.outputs))]
    decl = ", ".join(f"{r}={t}" for r, t in zip(outs, type_names))
    ret = outs[0] if len(outs) == 1 else "(" + ", ".join(outs) + ")"
    call_args = ", ".join([repr(key)] + [f"x{i}" for i in range(len(node.inputs))])
    src = f"""
def {{name}}({args}):
    with numba.objmode({decl}):
        ({", ".join(outs)},) = {call}({call_args})
    return {ret}
"""
    return ctx.define(src, prefix=f"perform_{type(op).__name__.lower()}")

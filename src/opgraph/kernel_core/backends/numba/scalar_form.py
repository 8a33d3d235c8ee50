"""Scalar forms: nodes whose outputs hold one number are computed in locals, not 0-d arrays.

A model's log-density is full of one-number values -- parameters, their
transforms, sums, shapes -- and as arrays each costs an allocation, a store
and a load, and numba a typed ``np.empty`` call site: most of the generated
code of a small model, and so most of its compile time.  When every output
of a node has a type of one element (0-d, or every dimension statically 1),
the graph function computes it as a plain number if the op has a scalar
form here.  Consumers that need an array get one boxed on demand
(``box_function``); loops read such inputs as the number directly.

A rule ``scalar_form(op, node, ctx, value, prefix, lines)`` returns one
source expression per output, or None when it does not apply (before asking
for any input).  ``value(i, as_scalar)`` gives input ``i`` as a number or as
an array; ``lines`` takes statements; locals must start with ``prefix``.
Rules live with their op family (scalar.py, elemwise.py, reduction.py, shape.py).
The per-node njit functions (profiling, error reports) keep the array
convention: scalar forms exist only inside the whole-graph function.
"""

from __future__ import annotations

from functools import singledispatch

from opgraph.kernel_core.backends.numba.dispatch import np_dtype
from opgraph.kernel_core.scalar.type import ScalarType
from opgraph.kernel_core.tensor.type import TensorType


def holds_one_number(var):
    """Whether ``var``'s type has exactly one element (a number, or a tensor of static shape 1, ..., 1)."""
    t = var.type
    if isinstance(t, ScalarType):
        return True
    return isinstance(t, TensorType) and all(s == 1 for s in t.shape)


def element_index(ndim):
    """Source of the index of the one element of an ``ndim``-d array of shape (1, ..., 1)."""
    return "()" if ndim == 0 else ", ".join("0" for _ in range(ndim))


_SHARED = "opgraph.kernel_core.backends.numba.shared_kernels"


def box_call(ndim, dtype, number, ctx):
    """Source of the ``ndim``-d array of shape (1, ..., 1) holding ``number``: a call of
    a shared kernel (shared_kernels.py: compiled once, loaded by every later graph)
    for ranks up to 2, else of this module's own ``box_function``."""
    if ndim <= 2:
        return f"{ctx.import_name(_SHARED, f'box{ndim}d')}({number}, {np_dtype(dtype)})"
    return f"{box_function(ndim, dtype, ctx)}({number})"


def box_function(ndim, dtype, ctx):
    """A helper of this module making the ``ndim``-d array of shape (1, ..., 1) holding a number."""
    shape = "(" + "1, " * ndim + ")"
    return ctx.define(f"def {{name}}(v):\n    out = np.empty({shape}, dtype={np_dtype(dtype)})\n"
                      f"    out[{element_index(ndim)}] = v\n    return out\n", prefix=f"box{ndim}d")


@singledispatch
def scalar_form(op, node, ctx, value, prefix, lines):
    """Output expressions computing ``node`` on numbers, or None (see module docstring)."""
    return None


@singledispatch
def number_inputs_variant(op, node, ctx, available):
    """``(function source, positions of the inputs it takes as numbers)`` for a node whose
    code can read one-element inputs as numbers (``available[i]``: input ``i`` is one
    already), to be inlined in the graph function; None to use the node's own function."""
    return None


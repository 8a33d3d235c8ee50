"""pt.optimize (minimize, minimize_scalar, root, root_scalar): SciPy's solvers, run on
the host through ``jax.pure_callback``.

There is no JAX version of SciPy's methods, so the jitted function calls back
into Python for these nodes (as mode NUMBA runs them in objmode): the results
equal the other modes'.  Their opgraph gradients (implicit-function pullbacks)
are ordinary graphs and compile; ``jax.grad`` cannot differentiate through the
callback of an exported function (``opgraph.link.jax.to_jax``).
"""

from __future__ import annotations

import jax
import numpy as np

from opgraph.kernel_core.backends.jax.dispatch import jax_funcify
from opgraph.kernel_core.backends.jax.host_callback import host_callback
from opgraph.kernel_core.tensor.optimize import _SolverOp


@jax_funcify.register(_SolverOp)
def _solver(op, node, **kwargs):
    out_dtypes = [np.dtype(o.type.dtype) for o in node.outputs]

    def on_host(*values):
        storage = [[None] for _ in node.outputs]
        op.perform(node, [np.asarray(v) for v in values], storage)
        return tuple(np.asarray(s[0], dtype=d) for s, d in zip(storage, out_dtypes))

    def solver(x0, *args):
        # The solution has x0's shape; success is a boolean scalar.
        shapes = (jax.ShapeDtypeStruct(np.shape(x0), out_dtypes[0]), jax.ShapeDtypeStruct((), out_dtypes[1]))
        return host_callback(on_host, shapes, x0, *args)   # float64 results with x64 off
    return solver

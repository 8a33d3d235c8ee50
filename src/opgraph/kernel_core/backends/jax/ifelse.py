"""IfElse in the JAX backend: ``lax.cond`` over the two branches' inner graphs.

Each branch is its inner graph as one function (``jax_funcify_fgraph``) on the
node's inputs; ``lax.cond`` runs only the chosen one on an accelerator (under
``vmap`` both, as JAX defines it).  A condition known while tracing (a constant,
or computed from static shapes) picks its branch in Python: no ``cond`` at all.
``lax.cond`` needs both branches to give the same shapes: when they cannot, the
error names the node and the output.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from opgraph.kernel_core.backends.jax.dispatch import JaxCompileError, is_static, jax_funcify
from opgraph.kernel_core.backends.jax.op_from_graph import inner_function
from opgraph.kernel_core.ifelse import IfElse


@jax_funcify.register(IfElse)
def jax_funcify_ifelse(op, node, **kwargs):
    then_fn = inner_function(op.inner_inputs, op.then_outputs, **kwargs)
    else_fn = inner_function(op.inner_inputs, op.else_outputs, **kwargs)
    dtypes = [o.type.dtype for o in node.outputs]
    single = len(node.outputs) == 1

    def branch(fn):
        def run(*args):
            return tuple(jnp.asarray(v).astype(d) for v, d in zip(fn(*args), dtypes))
        return run

    then_run, else_run = branch(then_fn), branch(else_fn)

    def ifelse(cond, *args):
        if is_static(cond):
            outs = (then_run if bool(np.asarray(cond)) else else_run)(*args)
        else:
            try:
                outs = lax.cond(jnp.asarray(cond).astype(bool), then_run, else_run, *args)
            except TypeError as exc:
                if "true_fun and false_fun output" not in str(exc) and "branch" not in str(exc):
                    raise
                raise JaxCompileError(
                    f"JAX cannot compile {op}: lax.cond needs both branches to give the same shapes and "
                    f"dtypes, and here they differ ({str(exc).splitlines()[0][:200]})") from None
        return outs[0] if single else outs

    return ifelse

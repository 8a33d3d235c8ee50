"""CheckParameterValue in the JAX backend.

``Check{msg}(x, *conds)``: with ``can_be_replaced_by_ninf`` the value or ``-inf``
everywhere (``jnp.where``), as in the other modes.  Otherwise the other modes raise
``ParameterValueError(msg)``; a traced function cannot, so the condition becomes a
``checks.jax_check``: the mode "JAX" function computes, then raises that same
``ParameterValueError(msg)`` when a condition was false (see ``checks.py``).  In a
function exported by ``to_jax`` the check is not made (the value passes through).
"""

from __future__ import annotations

import jax.numpy as jnp

from opgraph.kernel_core.backends.jax.checks import jax_check, register_checking_op
from opgraph.kernel_core.backends.jax.dispatch import jax_funcify
from opgraph.kernel_core.logprob.check import CheckParameterValue, ParameterValueError

register_checking_op(CheckParameterValue)


@jax_funcify.register(CheckParameterValue)
def jax_funcify_check_parameter_value(op, node, **kwargs):
    msg, ninf = op.msg, op.can_be_replaced_by_ninf

    def check_parameter(x, *conds):
        ok = jnp.all(jnp.stack([jnp.asarray(c, dtype=bool) for c in conds])) if conds else jnp.asarray(True)
        if ninf:
            return jnp.where(ok, x, jnp.asarray(-jnp.inf, dtype=x.dtype))
        jax_check(ok, ParameterValueError, msg)
        return x

    return check_parameter

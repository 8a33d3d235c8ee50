"""The rule tables: logp / logcdf / icdf of each RandomVariable class.

Like a backend's kernels, the rules live in tables keyed by the op class
(``functools.singledispatch``), not on the ops: adding a distribution's logp
never touches ``tensor/random``.  A rule is ``rule(op, value, *params)`` with
``params`` the node's distribution parameters (after rng and size) and
returns a graph elementwise over the draw's batch shape.  The per-family
files (``continuous.py``, ``discrete.py``, ``multivariate.py``) register
them; ``basic.py`` asks the tables while walking a generative graph.
"""

from __future__ import annotations

from functools import singledispatch

import numpy as np

__all__ = ["_logprob", "_logcdf", "_icdf", "has_rule", "UNIT_RULES"]


def _missing(kind, op):
    return NotImplementedError(f"no {kind} rule for the random variable op {op} ({type(op).__name__})")


@singledispatch
def _logprob(op, value, *params):
    raise _missing("logp", op)


@singledispatch
def _logcdf(op, value, *params):
    raise _missing("logcdf", op)


@singledispatch
def _icdf(op, value, *params):
    raise _missing("icdf", op)


def has_rule(table, op):
    return table.dispatch(type(op)) is not table.dispatch(object)


UNIT_RULES = {"logp": _logprob, "logcdf": _logcdf, "icdf": _icdf}


# -- helpers the families share ------------------------------------------------------------
def ninf_like(x):
    """-inf as a float constant (broadcasts against ``x`` in a switch)."""
    return np.array(-np.inf, dtype=x.type.dtype if x.type.dtype[0] == "f" else "float64")


def xlogy0(m, x):
    """``m * log(x)``, 0 where ``m == 0`` (so ``0 * log(0)`` is 0, as scipy's xlogy)."""
    import opgraph.kernel_core.tensor.math as pm

    return pm.switch(pm.eq(m, 0), 0.0, m * pm.log(x))


def xlog1py0(m, y):
    """``m * log1p(y)``, 0 where ``m == 0``."""
    import opgraph.kernel_core.tensor.math as pm

    return pm.switch(pm.eq(m, 0), 0.0, m * pm.log1p(y))

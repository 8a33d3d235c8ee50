"""Logprob ops: CheckParameterValue (raise ParameterValueError, or return -inf)."""

from __future__ import annotations

from opgraph.kernel_core.backends.numba.dispatch import numba_funcify
from opgraph.kernel_core.logprob.check import CheckParameterValue

_CHECK = "opgraph.kernel_core.logprob.check"


@numba_funcify.register(CheckParameterValue)
def _funcify_check_parameter_value(op, node, ctx):
    conds = [f"c{k}" for k in range(len(node.inputs) - 1)]
    test = " and ".join(f"{c}[()]" for c in conds) or "True"
    head = f"def {{name}}(x{''.join(', ' + c for c in conds)}):"
    if op.can_be_replaced_by_ninf:
        lines = [head,
                 f"    if {test}:",
                 "        return x",
                 "    out = np.empty_like(x)",
                 "    out.fill(-np.inf)",
                 "    return out"]
    else:
        # One return, at the end: codegen pastes the check into the graph function
        # instead of calling one more numba dispatcher.
        err = ctx.import_name(_CHECK, "ParameterValueError")
        lines = [head,
                 f"    if not ({test}):",
                 f"        raise {err}({op.msg!r})",
                 "    return x"]
    return ctx.define("\n".join(lines) + "\n", prefix="check_parameter")

"""``CheckParameterValue``: a logp's parameter conditions as a graph node.

``Check{sigma > 0}(logp, all_conditions)`` returns ``logp`` when the boolean
scalar ``all_conditions`` holds and otherwise raises ``ParameterValueError``
naming the condition (``sigma > 0``) -- or, built with
``can_be_replaced_by_ninf=True`` (``check_parameters(..., ninf=True)``), returns
``-inf`` everywhere, what an optimiser wants for a proposal outside the
support.  The conditions are data in the graph, so rewriting, printing and
compiling see them like any other node; two rewrites act on them, both off
by default (their tags must be included by name):

* ``local_remove_check_parameter``: drop the checks (speed, when the user
  knows the parameters are valid);
* ``local_check_parameter_to_ninf_switch``: turn every check into
  ``switch(all_conditions, logp, -inf)``.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Apply
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.rewriting.db import node_rewriter, register_rewrite, PHASES
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.type import TensorType

__all__ = ["ParameterValueError", "CheckParameterValue", "check_parameters"]


class ParameterValueError(ValueError):
    """A distribution's parameter left its domain (the message is the condition)."""


class CheckParameterValue(Op):
    """``Check{msg}(x, *conds)``: ``x`` when every boolean scalar of ``conds`` is true."""

    __props__ = ("msg", "can_be_replaced_by_ninf")
    view_map = {0: [0]}

    def __init__(self, msg="", can_be_replaced_by_ninf=False):
        if not isinstance(msg, str):
            raise TypeError(f"CheckParameterValue: msg must be a string, got {type(msg).__name__}")
        self.msg = msg
        self.can_be_replaced_by_ninf = bool(can_be_replaced_by_ninf)
        if self.can_be_replaced_by_ninf:
            # The -inf result is a new array, never a view of x.
            self.view_map = {}

    def __str__(self):
        return f"Check{{{self.msg}}}"

    def make_node(self, x, *conds):
        x = as_tensor_variable(x)
        if not isinstance(x.type, TensorType):
            raise TypeError(f"{self}: the checked value must be a tensor, got {x.type}")
        if self.can_be_replaced_by_ninf and x.type.dtype[0] != "f":
            raise TypeError(f"{self}: returning -inf needs a float value, got {x.type.short_str()}")
        checked = []
        for c in conds:
            c = as_tensor_variable(c)
            if c.type.ndim != 0 or c.type.dtype != "bool":
                raise TypeError(f"{self}: each condition must be a boolean scalar (use pt.all), "
                                f"got {c} of type {c.type.short_str()}")
            checked.append(c)
        return Apply(self, [x, *checked], [x.type()])

    def perform(self, node, inputs, output_storage):
        x, *conds = inputs
        if all(bool(c) for c in conds):
            output_storage[0][0] = x
        elif self.can_be_replaced_by_ninf:
            output_storage[0][0] = np.full_like(x, -np.inf)
        else:
            raise ParameterValueError(self.msg)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        # The value's gradient passes through; the conditions are booleans (no gradient).
        return [output_grads[0]] + [None] * (len(inputs) - 1)


def check_parameters(expr, *conditions, msg="", can_be_replaced_by_ninf=False):
    """``Check{msg}(expr, all([all(c) for c in conditions]))`` (PyMC's helper)."""
    from opgraph.kernel_core.tensor.reduction import all as pt_all

    if not conditions:
        return as_tensor_variable(expr)
    conds = [as_tensor_variable(c) for c in conditions]
    all_true = pt_all([pt_all(c) for c in conds])
    return CheckParameterValue(msg, can_be_replaced_by_ninf)(expr, all_true)


@node_rewriter([CheckParameterValue])
def local_remove_check_parameter(fgraph, node):
    """Check{...}(x, conds) -> x: the user asked for speed over safety."""
    return [node.inputs[0]]


@node_rewriter([CheckParameterValue])
def local_check_parameter_to_ninf_switch(fgraph, node):
    """Check{...}(x, conds) -> switch(conds, x, -inf) for float values."""
    from opgraph.kernel_core.tensor.math import and_, switch

    x, *conds = node.inputs
    if x.type.dtype[0] != "f" or not conds:
        return None
    cond = conds[0]
    for c in conds[1:]:
        cond = and_(cond, c)
    out = switch(cond, x, np.array(-np.inf, dtype=x.type.dtype))
    if out.type != node.outputs[0].type:
        return None
    return [out]


# Only by name: neither is selected by canonicalize / fast_run.
register_rewrite(local_remove_check_parameter, "local_remove_check_parameter",
                 position=PHASES["canonicalize"])
register_rewrite(local_check_parameter_to_ninf_switch, "local_check_parameter_to_ninf_switch",
                 position=PHASES["canonicalize"])


def _vectorize_check(op, node, x, *conds):
    """A batched value keeps one Check; batched conditions are reduced to one boolean each."""
    from opgraph.kernel_core.tensor.reduction import all as pt_all

    conds = [c if c.type.ndim == 0 else pt_all(c) for c in conds]
    return op.make_node(x, *conds).outputs


def _register_vectorize():
    from opgraph.kernel_core.vectorize import vectorize_node

    vectorize_node.register(CheckParameterValue)(_vectorize_check)


_register_vectorize()

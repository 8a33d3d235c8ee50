"""Composite: one scalar op made of a small scalar graph (the result of fusion).

``Composite(inputs, outputs)`` takes a graph of scalar ops between scalar
``inputs`` and ``outputs`` and behaves as a single ``ScalarOp``; wrapped in
``Elemwise`` it computes all its outputs in one pass over memory.

The inner graph is cloned on fresh variables named the way dprint shows them
(seed 002): inputs ``i0, i1, ...``, outputs ``o0, o1, ...`` and inner
intermediates used more than once ``t<k>`` (k = their toposort position).
``str`` is the expression (``Composite{exp(sin(i0))}``) for a single short
output and ``Composite{...}`` otherwise.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Constant, Variable
from opgraph.kernel_core.graph.traversal import clone_get_equiv, io_toposort
from opgraph.kernel_core.scalar.basic import ScalarOp
from opgraph.kernel_core.scalar.type import ScalarType

# Infix spelling of binary ops in the Composite name: ``(i2 - (i0 * i1))``.
_INFIX = {
    "add": "+", "sub": "-", "mul": "*", "true_div": "/", "pow": "**", "mod": "%",
    "int_div": "//", "lt": "<", "gt": ">", "le": "<=", "ge": ">=", "eq": "==", "neq": "!=",
}
# Longer expressions are shown as ``Composite{...}`` so dprint lines stay readable.
MAX_NAME_LENGTH = 77


class Composite(ScalarOp):
    """A scalar op defined by an inner graph of scalar ops."""

    __props__ = ("signature",)

    def __init__(self, inputs, outputs, name=None):
        inputs, outputs = list(inputs), list(outputs)
        for v in inputs + outputs:
            if not isinstance(v, Variable) or not isinstance(v.type, ScalarType):
                raise TypeError(f"Composite needs scalar variables, got {v!r} of type {getattr(v, 'type', None)}")
        if not outputs:
            raise ValueError("Composite needs at least one output")
        # Our own copy of the inner graph, so naming it never touches the caller's.
        memo = clone_get_equiv(inputs, outputs, copy_inputs=True, copy_orphans=True)
        self.inputs = [memo[v] for v in inputs]
        self.outputs = [memo[v] for v in outputs]
        self.nodes = io_toposort(self.inputs, self.outputs)
        self._check_closed()
        self._name_inner_variables()
        self.nin = len(self.inputs)
        self.nout = len(self.outputs)
        self.signature = self._signature()
        self._name = name

    # -- construction helpers --------------------------------------------
    def _check_closed(self):
        known = set(self.inputs)
        for node in self.nodes:
            if not isinstance(node.op, ScalarOp):
                raise TypeError(f"Composite inner graphs hold scalar ops only, got {node.op}")
            for v in node.inputs:
                if v not in known and v.owner is None and not isinstance(v, Constant):
                    raise ValueError(f"Composite: inner variable {v} is not one of the inputs")
            known.update(node.outputs)

    def _name_inner_variables(self):
        for k, v in enumerate(self.inputs):
            v.name = f"i{k}"
        uses = {}
        for node in self.nodes:
            for v in node.inputs:
                uses[v] = uses.get(v, 0) + 1
        for k, node in enumerate(self.nodes):
            for v in node.outputs:
                v.name = f"t{k}" if uses.get(v, 0) > 1 else None
        for k, v in enumerate(self.outputs):
            if v.owner is not None:
                v.name = f"o{k}"

    def _signature(self):
        """A hashable description of the inner graph: what equality means."""
        index = {v: ("i", k) for k, v in enumerate(self.inputs)}
        parts = []
        for k, node in enumerate(self.nodes):
            args = []
            for v in node.inputs:
                if v in index:
                    args.append(index[v])
                else:
                    args.append(("c", v.type.dtype, repr(np.asarray(v.data).item())))
            parts.append((node.op, tuple(args), tuple(o.type.dtype for o in node.outputs)))
            for j, o in enumerate(node.outputs):
                index[o] = ("n", k, j)
        outs = tuple(index.get(o, ("c", o.type.dtype, repr(getattr(o, "data", None)))) for o in self.outputs)
        return (tuple(v.type.dtype for v in self.inputs), tuple(parts), outs)

    # -- naming -----------------------------------------------------------
    def expression(self, var):
        """The infix text of one inner variable (iterative, shared nodes repeated)."""
        text = {}
        for v in self.inputs:
            text[v] = v.name
        for node in self.nodes:
            args = []
            for v in node.inputs:
                if v not in text:
                    text[v] = str(v) if isinstance(v, Constant) else v.name
                args.append(text[v])
            name = node.op.name
            if name in _INFIX and len(args) >= 2:
                expr = "(" + f" {_INFIX[name]} ".join(args) + ")"
            elif name == "neg":
                expr = f"(-{args[0]})"
            else:
                expr = f"{name}({', '.join(args)})"
            for o in node.outputs:
                text[o] = expr
        return text[var] if var in text else str(var)

    @property
    def name(self):
        if self._name is not None:
            return self._name
        if self.nout == 1:
            expr = self.expression(self.outputs[0])
            if len(expr) <= MAX_NAME_LENGTH:
                return f"Composite{{{expr}}}"
        return "Composite{...}"

    def __str__(self):
        return self.name

    def __repr__(self):
        return self.name

    def elemwise_name(self):
        return self.name

    def inner_graphs(self):
        return (self.inputs, self.outputs)

    # -- typing and evaluation -------------------------------------------
    def output_dtypes(self, *dtypes):
        expected = tuple(v.type.dtype for v in self.inputs)
        if tuple(dtypes) != expected:
            # Inputs must have the inner dtypes exactly: the inner graph was typed for them.
            raise TypeError(f"{self.name} expects input dtypes {expected}, got {tuple(dtypes)}")
        return tuple(o.type.dtype for o in self.outputs)

    def impl(self, *args):
        """Evaluate the inner graph with NumPy (works on arrays too: Elemwise.perform)."""
        values = dict(zip(self.inputs, args))
        for node in self.nodes:
            ins = [values[v] if v in values else v.data for v in node.inputs]
            res = node.op.impl(*ins)
            if len(node.outputs) == 1:
                res = (res,)
            for o, r in zip(node.outputs, res):
                values[o] = np.asarray(r).astype(o.type.dtype, copy=False)
        results = tuple(values[o] if o in values else o.data for o in self.outputs)
        return results[0] if self.nout == 1 else results

    def pullback(self, inputs, outputs, output_grads):
        """Differentiate a fused graph by unfolding it back into Elemwise ops.

        The inner scalar graph is rebuilt on the (tensor) inputs, and the
        output gradients are pushed through it with ``known_grads``.
        """
        from opgraph.kernel_core.gradient import grad
        from opgraph.kernel_core.tensor.basic import constant
        from opgraph.kernel_core.tensor.elemwise import Elemwise

        def tensor_of(v):
            return mapping[v] if v in mapping else constant(np.asarray(v.data))

        mapping = dict(zip(self.inputs, inputs))
        for node in self.nodes:
            outs = Elemwise(node.op)(*[tensor_of(v) for v in node.inputs], return_list=True)
            mapping.update(zip(node.outputs, outs))
        known = {}
        for inner_out, g in zip(self.outputs, output_grads):
            if g is None:
                continue
            t = tensor_of(inner_out)
            known[t] = g if t not in known else known[t] + g
        if not known:
            return [None] * len(inputs)
        return grad(None, wrt=list(inputs), known_grads=known, disconnected_inputs="ignore",
                    return_disconnected="None")


# The public names: everything defined here (PyTensor's module re-exports them).
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and getattr(_v, "__module__", None) == __name__]

"""``pp``: a graph as one infix expression, PyTensor's pretty printer.

``pp(x + y)`` is ``'(x + y)'``; elementwise arithmetic and comparisons print as
operators (each binary operation parenthesised, so the text is unambiguous
without precedence rules), other elementwise functions as ``name(args)``,
broadcasting ``ExpandDims`` transparently (it changes no value), transposes as
``x.T``, and any other op as its ``str`` applied to its inputs.  Named
variables print by name, so ``pp`` of a graph built from named parts stays
short.  The traversal is iterative, so deep graphs print.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pp", "pprint"]

_INFIX = {"Add": "+", "Sub": "-", "Mul": "*", "True_div": "/", "Int_div": "//", "Mod": "%", "Pow": "**",
          "LT": "<", "GT": ">", "LE": "<=", "GE": ">=", "EQ": "==", "NEQ": "!=", "AND": "&", "OR": "|",
          "XOR": "^"}
_PREFIX = {"Neg": "-", "Invert": "~"}
_FUNCTION_NAMES = {"Second": "fill"}  # PyTensor's name for ``second`` in pp


def _constant_text(var):
    data = np.asarray(var.data)
    if data.ndim == 0 or data.size <= 6:
        return np.array2string(data, separator=", ") if data.ndim else repr(data.item())
    return f"TensorConstant{{shape={data.shape}}}"


def _node_text(var, args):
    from opgraph.kernel_core.tensor.elemwise import DimShuffle, Elemwise

    node = var.owner
    op = node.op
    out = f".{var.index}" if len(node.outputs) > 1 else ""
    if isinstance(op, Elemwise):
        name = type(op.scalar_op).__name__
        if name in _INFIX and len(args) >= 2:
            return "(" + f" {_INFIX[name]} ".join(args) + ")"
        if name in _PREFIX and len(args) == 1:
            return f"{_PREFIX[name]}{args[0]}"
        fname = _FUNCTION_NAMES.get(name, str(op).lower())
        return f"{fname}({', '.join(args)}){out}"
    if isinstance(op, DimShuffle):
        if op.is_expand_dims:
            return args[0]
        if op.is_transpose and op.input_ndim == 2:
            return f"{args[0]}.T"
    return f"{op}({', '.join(args)}){out}"


def pp(*variables):
    """The expression text of each variable, joined by newlines (PyTensor's ``pp``)."""
    from opgraph.kernel_core.graph.basic import Constant

    texts = []
    for root in variables:
        done = {}
        stack = [(root, False)]
        while stack:
            var, expanded = stack.pop()
            if id(var) in done:
                continue
            if var is not root and var.name is not None:
                done[id(var)] = var.name
            elif isinstance(var, Constant):
                done[id(var)] = var.name or _constant_text(var)
            elif var.owner is None:
                done[id(var)] = var.name or str(var)
            elif not expanded:
                stack.append((var, True))
                stack.extend((i, False) for i in var.owner.inputs if id(i) not in done)
            else:
                done[id(var)] = _node_text(var, [done[id(i)] for i in var.owner.inputs])
        texts.append(done[id(root)])
    return "\n".join(texts)


def pprint(*variables):
    """Print ``pp(*variables)``."""
    print(pp(*variables))

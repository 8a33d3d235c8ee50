"""Run a cell in the user namespace and find which graphs it produced.

Outputs are, in order of preference: the names given with ``--show``; the
value of the cell's last expression (a Variable, a list of them, a
FunctionGraph or compiled Function); else the variables the cell created or
rebound that no other new variable depends on (the "sinks").
"""

from __future__ import annotations

import ast

from opgraph.kernel_core.graph.basic import Variable
from opgraph.kernel_core.graph.traversal import ancestors


class CellResult:
    def __init__(self, labels, outputs, value):
        self.labels = labels      # display names, one per output
        self.outputs = outputs    # Variables
        self.value = value        # the last expression's value (may be a Function, ...)


def split_last_expression(source, filename="<%%pytensor>"):
    """(module without the last expression, expression or None).

    Parsed with ``filename`` so that a SyntaxError names the cell and its line
    (not ``<unknown>``), with Python's full message ("'(' was never closed").
    """
    tree = ast.parse(source, filename)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    return tree, last


def is_variable_list(value):
    return isinstance(value, (list, tuple)) and value and all(isinstance(v, Variable) for v in value)


def run_cell_body(source, namespace, filename="<%%pytensor>", compiler=None):
    """Execute ``source`` in ``namespace``; returns (value of last expression or None, names rebound).

    ``filename`` names the code in tracebacks; with IPython's ``compiler`` the
    caller registers the source under that name (``shell.compile.cache``) so
    tracebacks show the cell's lines.
    """
    # IPython's compiler (shell.compile) keeps the __future__ flags of earlier cells.
    compile_ = compiler if compiler is not None else compile
    tree, last = split_last_expression(source, filename)
    before = {k: id(v) for k, v in namespace.items()}
    exec(compile_(tree, filename, "exec"), namespace)
    value = eval(compile_(last, filename, "eval"), namespace) if last is not None else None
    changed = [k for k, v in namespace.items()
               if not k.startswith("_") and (k not in before or before[k] != id(v))]
    return value, changed


def new_sinks(names, namespace):
    """Of the Variables bound to ``names``, those that no other one depends on."""
    new = []
    seen = set()
    for k in names:
        v = namespace.get(k)
        if isinstance(v, Variable) and v not in seen:
            seen.add(v)
            new.append((k, v))
    used = set()
    for _, v in new:
        if v.owner is not None:
            for a in ancestors(v.owner.inputs):
                used.add(a)
    return [(k, v) for k, v in new if v not in used]


def find_outputs(value, changed, namespace, show=None, last_source=None):
    """The CellResult for a run: ``--show`` names, else the last value, else new sinks."""
    if show:
        labels, outs = [], []
        for name in show:
            try:
                v = eval(name, namespace)
            except Exception as exc:
                raise NameError(f"--show {name}: {type(exc).__name__}: {exc}") from None
            if isinstance(v, Variable):
                labels.append(name)
                outs.append(v)
            elif is_variable_list(v):
                labels.extend(f"{name}[{i}]" for i in range(len(v)))
                outs.extend(v)
            else:
                raise TypeError(f"--show {name}: a {type(v).__name__}, not a graph variable")
        return CellResult(labels, outs, value)
    if isinstance(value, Variable):
        return CellResult([last_source or str(value)], [value], value)
    if is_variable_list(value):
        return CellResult([str(v) for v in value], list(value), value)
    if value is not None and (hasattr(value, "maker") or hasattr(value, "clients")):
        return CellResult([], [], value)
    sinks = new_sinks(changed, namespace)
    return CellResult([k for k, _ in sinks], [v for _, v in sinks], value)

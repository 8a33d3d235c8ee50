"""A small interpreter: evaluate a graph by calling each node's ``perform``.

``Variable.eval`` uses it; compiled functions (``opgraph.function``) are the
fast path.  Errors name the missing input or the failing node.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Constant, Variable
from opgraph.kernel_core.graph.traversal import graph_inputs, io_toposort


def _resolve_inputs(outputs, inputs_to_values):
    roots = [v for v in graph_inputs(outputs) if not isinstance(v, Constant)]
    by_name = {}
    for r in roots:
        if r.name is not None:
            by_name.setdefault(r.name, []).append(r)
    given = {}
    for key, value in inputs_to_values.items():
        if isinstance(key, str):
            matches = by_name.get(key)
            if not matches:
                raise KeyError(f"eval: no input named {key!r} in this graph")
            if len(matches) > 1:
                raise KeyError(f"eval: several inputs are named {key!r}; pass the variable instead")
            key = matches[0]
        if not isinstance(key, Variable):
            raise TypeError(f"eval: keys must be Variables or names, got {type(key).__name__}")
        given[key] = value
    return roots, given


def evaluate(outputs, inputs_to_values):
    """Values of ``outputs`` given root values (a dict Variable -> value)."""
    from opgraph.kernel_core.runtime_errors import node_error

    roots, given = _resolve_inputs(outputs, inputs_to_values)
    storage = {}
    for var, value in given.items():
        try:
            storage[var] = var.type.filter(value)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"eval: bad value for input {var}: {exc}") from None
    missing = [r for r in roots if r not in storage and getattr(r.tag, "shared_container", None) is None]
    if missing:
        names = ", ".join(str(m) for m in missing)
        raise ValueError(f"eval: missing value for input{'s' if len(missing) > 1 else ''} {names}")
    for r in roots:
        if r not in storage:
            storage[r] = r.tag.shared_container.value
    for node in io_toposort(list(storage), outputs):
        args = []
        for inp in node.inputs:
            if isinstance(inp, Constant):
                args.append(inp.data)
            else:
                args.append(storage[inp])
        out_cells = [[None] for _ in node.outputs]
        try:
            node.op.perform(node, args, out_cells)
        except Exception as exc:
            raise node_error(node, args, exc) from exc
        for out, cell in zip(node.outputs, out_cells):
            storage[out] = cell[0]
    results = []
    for out in outputs:
        if isinstance(out, Constant):
            results.append(np.array(out.data))
        else:
            results.append(storage[out])
    return results

"""Constant folding: a node whose inputs are all constants becomes its value.

Runs on every node the driver visits.  Skipped for ops that refuse it
(``do_constant_folding``), for ops that overwrite inputs, when ``perform``
fails (the error is left for run time, where it names the node), and when the
result would be a large array made from small inputs (an ``Alloc`` of zeros is
cheaper to keep as a node than as a constant baked into the graph).
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Constant

# Results larger than this many elements are only folded if no input is smaller.
FOLD_SIZE_LIMIT = 10_000


def fold_node(fgraph, node):
    """[(output, constant)] for a foldable node, else None."""
    if not node.inputs or not all(isinstance(i, Constant) for i in node.inputs):
        return None
    op = node.op
    if getattr(op, "destroy_map", None):
        return None
    try:
        if not op.do_constant_folding(fgraph, node):
            return None
    except Exception:
        return None
    cells = [[None] for _ in node.outputs]
    try:
        with np.errstate(all="ignore"):
            op.perform(node, [i.data for i in node.inputs], cells)
    except Exception:
        return None
    largest_input = max((np.size(i.data) for i in node.inputs), default=0)
    pairs = []
    for out, cell in zip(node.outputs, cells):
        value = cell[0]
        if value is None:
            return None
        if np.size(value) > FOLD_SIZE_LIMIT and np.size(value) > largest_input:
            return None
        try:
            const = out.type.make_constant(value)
        except (TypeError, ValueError):
            return None
        pairs.append((out, const))
    return pairs

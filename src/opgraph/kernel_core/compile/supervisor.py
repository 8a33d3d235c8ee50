"""``Supervisor``: the FunctionGraph feature that protects a function's inputs.

A compiled function must never overwrite an array the caller passed unless the
input was declared ``In(x, mutable=True)``.  Inplace rewrites consult the
feature through ``fgraph.validate()`` (it refuses any node whose
``destroy_map`` targets a protected input or a view of one); linkers read
``protected`` to copy before destroying, as a last line of defence.
"""

from __future__ import annotations

from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.graph.fgraph import Feature, InconsistencyError

__all__ = ["Supervisor", "destroyed_roots", "view_roots", "viewed_base"]


def view_roots(order):
    """Map each variable produced by a view (``view_map``) to the variable it views, transitively."""
    root = {}
    for node in order:
        for o, ins in getattr(node.op, "view_map", {}).items():
            if ins:
                base = node.inputs[ins[0]]
                root[node.outputs[o]] = root.get(base, base)
    return root


def viewed_base(var):
    """The variable whose memory ``var`` shares, following ``view_map`` upwards."""
    seen = 0
    while var.owner is not None and seen < 100000:
        vm = getattr(var.owner.op, "view_map", {}).get(var.index)
        if not vm:
            break
        var = var.owner.inputs[vm[0]]
        seen += 1
    return var


def destroyed_roots(node, roots):
    """(input index, variable ultimately overwritten) for each input ``node`` destroys."""
    result = []
    for _, ins in getattr(node.op, "destroy_map", {}).items():
        for i in ins:
            var = node.inputs[i]
            result.append((i, roots.get(var, var)))
    return result


class Supervisor(Feature):
    """Refuses graphs that would overwrite protected inputs, constants or outputs.

    Keeps the set of destroying nodes up to date through the feature hooks, so
    ``validate`` costs about the number of inplace nodes, not the graph size
    (inplace passes validate after every change).
    """

    def __init__(self, protected):
        self.protected = set(protected)
        self.destroyers = set()

    def on_attach(self, fgraph):
        self.destroyers = {n for n in fgraph.apply_nodes if getattr(n.op, "destroy_map", None)}

    def on_import(self, fgraph, node, reason):
        if getattr(node.op, "destroy_map", None):
            self.destroyers.add(node)

    def on_prune(self, fgraph, node, reason):
        self.destroyers.discard(node)

    def is_protected(self, var):
        return var in self.protected or isinstance(var, Constant)

    def validate(self, fgraph):
        # Returned outputs must not be overwritten after they are computed either.
        outputs = set(fgraph.outputs)
        outputs.update(viewed_base(o) for o in fgraph.outputs)
        for node in self.destroyers:
            for _, ins in node.op.destroy_map.items():
                for i in ins:
                    var = viewed_base(node.inputs[i])
                    if self.is_protected(var):
                        raise InconsistencyError(
                            f"{node.op} would overwrite {var}, an input of the function that is not mutable")
                    if var in outputs:
                        raise InconsistencyError(f"{node.op} would overwrite {var}, an output of the function")

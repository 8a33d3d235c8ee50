"""DestroyHandler: decides which nodes may overwrite (destroy) an input buffer.

A node with ``destroy_map = {o: [i]}`` writes output ``o`` into the memory of
input ``i``.  That is safe only when nothing else ever reads that memory:

* the memory is not a graph input the caller owns (unless declared mutable
  through the compile ``Supervisor``) and not a constant;
* no other node reads the destroyed variable or any view of the same memory
  (views follow ``view_map``), and none of them is a graph output;
* no two nodes destroy the same memory.

The rule is deliberately conservative -- it needs no extra scheduling
constraints, so ``orderings`` is empty -- and is what the ``inplace``
rewrite asks (``can_destroy``) before making a node inplace; ``validate``
re-checks the whole graph and raises ``InconsistencyError``.
"""

from __future__ import annotations

from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.graph.fgraph import Feature, InconsistencyError


def view_base(var):
    """The variable owning the memory ``var`` lives in (following view_map upwards)."""
    steps = 0
    while var.owner is not None and steps < 100000:
        vm = getattr(var.owner.op, "view_map", {}).get(var.index)
        if not vm:
            break
        var = var.owner.inputs[vm[0]]
        steps += 1
    return var


class DestroyHandler(Feature):
    def on_attach(self, fgraph):
        self.fgraph = fgraph

    # -- queries --------------------------------------------------------------
    def _protected(self, fgraph, base):
        if isinstance(base, Constant):
            return True
        if base in fgraph.inputs:
            from opgraph.kernel_core.compile.supervisor import Supervisor
            sup = fgraph.get_feature(Supervisor)
            return sup is None or base in sup.protected
        return False

    def _alias_class(self, fgraph, base):
        """``base`` and every variable that views its memory (transitively)."""
        members, stack = [base], [base]
        while stack:
            v = stack.pop()
            for client, i in fgraph.clients.get(v, ()):
                if client == "output":
                    continue
                for o, ins in getattr(client.op, "view_map", {}).items():
                    if i in ins:
                        out = client.outputs[o]
                        members.append(out)
                        stack.append(out)
        return members

    def can_destroy(self, fgraph, node, i):
        """May ``node`` overwrite its input ``i``?"""
        var = node.inputs[i]
        if sum(1 for v in node.inputs if v is var) > 1:
            return False
        base = view_base(var)
        if self._protected(fgraph, base):
            return False
        path = self._path_to(var) | {base}
        for v in self._alias_class(fgraph, base):
            for client, j in fgraph.clients.get(v, ()):
                if client == "output":
                    return False
                if client is node and v is var and j == i:
                    continue
                # The view nodes leading from ``base`` down to ``var`` itself are fine.
                if v in path and any(o in path for o in client.outputs):
                    continue
                return False
        return True

    @staticmethod
    def _path_to(var):
        """``var`` and the variables it views, up to (excluding) its base."""
        path = set()
        steps = 0
        while var.owner is not None and steps < 100000:
            vm = getattr(var.owner.op, "view_map", {}).get(var.index)
            if not vm:
                break
            path.add(var)
            var = var.owner.inputs[vm[0]]
            steps += 1
        return path

    def orderings(self, fgraph):
        return {}

    def validate(self, fgraph):
        destroyed = {}
        for node in fgraph.apply_nodes:
            for _, ins in getattr(node.op, "destroy_map", {}).items():
                for i in ins:
                    base = view_base(node.inputs[i])
                    if base in destroyed and destroyed[base] is not node:
                        raise InconsistencyError(f"{base} would be overwritten by two nodes")
                    destroyed[base] = node
                    if not self.can_destroy(fgraph, node, i):
                        raise InconsistencyError(
                            f"{node.op} may not overwrite input {i} ({node.inputs[i]}): it is still needed "
                            "or belongs to the caller")

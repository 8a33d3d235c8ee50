"""RewriteHistory: a FunctionGraph feature recording every applied rewrite, in order.

The notebook layer (rewrite stepper, ``%%pytensor -r``) reads ``records``:
each record names the rule and its tags, the variables replaced and their
replacements, and the Apply nodes that left / entered the graph with it.
With ``snapshots=True`` each record also keeps a copy of the graph outputs
before and after the step (costs a clone per step: for interactive use).
"""

from __future__ import annotations

from opgraph.kernel_core.graph.fgraph import Feature
from opgraph.kernel_core.graph.traversal import clone_get_equiv


class RewriteRecord:
    __slots__ = ("step", "rule", "tags", "phase", "replaced", "new", "nodes_before", "nodes_after",
                 "before", "after")

    def __init__(self, step, rule, tags, phase, replaced, new, nodes_before, nodes_after):
        self.step = step
        self.rule = rule
        self.tags = tuple(sorted(tags))
        self.phase = phase
        self.replaced = list(replaced)
        self.new = list(new)
        self.nodes_before = list(nodes_before)
        self.nodes_after = list(nodes_after)
        self.before = None  # (outputs, {original var: copy}) when snapshots are on
        self.after = None

    def __repr__(self):
        olds = ", ".join(str(v) for v in self.replaced)
        news = ", ".join(str(v) for v in self.new)
        return f"<step {self.step}: {self.rule} [{', '.join(self.tags)}] {olds} -> {news}>"


class RewriteHistory(Feature):
    def __init__(self, snapshots=False):
        self.records = []
        self.snapshots = snapshots
        self._imported = []
        self._pruned = []
        self._fgraph = None
        self._last = None

    def on_attach(self, fgraph):
        self._fgraph = fgraph
        if self.snapshots:
            self._last = self._snapshot(fgraph)

    def on_import(self, fgraph, node, reason):
        self._imported.append(node)

    def on_prune(self, fgraph, node, reason):
        self._pruned.append(node)

    @staticmethod
    def _snapshot(fgraph):
        memo = clone_get_equiv(fgraph.inputs, fgraph.outputs, copy_inputs=False, copy_orphans=False)
        return [memo[o] for o in fgraph.outputs], memo

    def record(self, rule, tags, phase, replaced, new):
        """Called by the driver after a rule's replacements were applied."""
        pruned = set(self._pruned)
        imported = [n for n in self._imported if n not in pruned]
        imported_set = set(self._imported)
        removed = [n for n in self._pruned if n not in imported_set]
        rec = RewriteRecord(len(self.records), rule, tags, phase, replaced, new, removed, imported)
        self._imported, self._pruned = [], []
        if self.snapshots and self._fgraph is not None:
            rec.before = self._last
            self._last = rec.after = self._snapshot(self._fgraph)
        self.records.append(rec)
        return rec

    def discard_pending(self):
        self._imported, self._pruned = [], []

    def rules_applied(self):
        """Names of the applied rules, in order."""
        return [r.rule for r in self.records]

    def __len__(self):
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    def summary(self):
        """One line per applied rewrite (what ``%%pytensor -r`` prints)."""
        lines = []
        for r in self.records:
            lines.append(f"{r.step:3d} {r.rule} ({', '.join(r.tags)}): "
                         f"{', '.join(str(v) for v in r.replaced)} -> {', '.join(str(v) for v in r.new)}")
        return "\n".join(lines)

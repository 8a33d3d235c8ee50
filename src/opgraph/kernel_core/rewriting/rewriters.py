"""PyTensor's rewriter objects, built on opgraph's own driver.

``in2out`` / ``out2in`` / ``WalkingGraphRewriter`` walk the graph once (in or
out topological order, plus the nodes replacements create);
``EquilibriumGraphRewriter`` repeats to a fixed point; ``SequentialGraphRewriter``
runs graph rewriters in order.  They all run node rewriters through
``EquilibriumDriver``, so type checks, cycle checks, rewrite history and
``config.optimizer_verbose`` behave as in ``rewrite_graph``.  Unlike the
database phases, they do not merge or fold constants unless asked
(``MergeOptimizer`` merges).
"""

from __future__ import annotations

from opgraph.kernel_core.rewriting.db import Entry, GraphRewriter, NodeRewriter, rewriter_name
from opgraph.kernel_core.rewriting.driver import EquilibriumDriver, tracks_of


def _node_rewriters(rewriters, who):
    flat = []
    for rw in rewriters:
        if isinstance(rw, (list, tuple)):
            flat.extend(_node_rewriters(rw, who))
        elif isinstance(rw, SequentialNodeRewriter):
            flat.extend(rw.rewriters)
        elif isinstance(rw, NodeRewriter):
            flat.append(rw)
        else:
            raise TypeError(f"{who}: expected NodeRewriters, got {type(rw).__name__} {rw!r:.60}")
    if not flat:
        raise TypeError(f"{who}: give at least one NodeRewriter")
    return flat


def _entries(rewriters):
    """Driver entries; names made unique (the driver tells entries apart by name, and two
    unnamed instances of one class share their str())."""
    entries, used = [], set()
    for rw in rewriters:
        name = base = rewriter_name(rw)
        k = 1
        while name in used:
            k += 1
            name = f"{base}#{k}"
        used.add(name)
        entry = Entry(rw, name, (), 0.0)
        entry.display = base if entry.display == name else entry.display
        entries.append(entry)
    return entries


class SequentialNodeRewriter(NodeRewriter):
    """Try several node rewriters on a node, in order; the first that fires wins."""

    def __init__(self, *rewriters, name=None):
        self.rewriters = _node_rewriters(rewriters, "SequentialNodeRewriter")
        super().__init__(None, None, name=name or "+".join(rewriter_name(r) for r in self.rewriters))

    def tracks(self):
        tracks = []
        for rw in self.rewriters:
            t = tracks_of(rw)
            if t is None:
                return None
            tracks.extend(t)
        return tracks

    def transform(self, fgraph, node):
        for rw in self.rewriters:
            result = rw.transform(fgraph, node)
            if result:
                return result
        return None


class WalkingGraphRewriter(GraphRewriter):
    """Apply node rewriters to every node once, in ``order`` "in_to_out" or "out_to_in".

    Nodes created by a replacement are visited too (unless ``ignore_newtrees``).
    ``rewrite(fgraph)`` returns the number of replacements.
    """

    def __init__(self, node_rewriter, order="in_to_out", ignore_newtrees=False, failure_callback=None, name=None):
        if order not in ("in_to_out", "out_to_in"):
            raise ValueError(f"WalkingGraphRewriter: order must be 'in_to_out' or 'out_to_in', got {order!r}")
        _no_failure_callback(failure_callback, "WalkingGraphRewriter")
        self.node_rewriters = _node_rewriters([node_rewriter], "WalkingGraphRewriter")
        self.order = order
        self.ignore_newtrees = ignore_newtrees
        super().__init__(None, name=name or "+".join(rewriter_name(r) for r in self.node_rewriters))

    def apply(self, fgraph):
        driver = EquilibriumDriver(_entries(self.node_rewriters), merge=False, constant_folding=False,
                                   phase=self.name, follow_clients=False, follow_new=not self.ignore_newtrees,
                                   reverse=self.order == "out_to_in")
        return driver.apply(fgraph)


def _no_failure_callback(callback, who):
    # opgraph's driver never swallows a rewriter's exception (PyTensor's
    # on_opt_error="raise"); a callback would silently change that.
    if callback is not None:
        raise NotImplementedError(f"{who}(failure_callback=...) is not implemented in opgraph: "
                                  "an exception in a rewriter always propagates")


def in2out(*node_rewriters, name=None, ignore_newtrees=False, failure_callback=None):
    """A WalkingGraphRewriter visiting nodes from the inputs to the outputs."""
    return WalkingGraphRewriter(SequentialNodeRewriter(*node_rewriters) if len(node_rewriters) != 1
                                else node_rewriters[0], order="in_to_out", ignore_newtrees=ignore_newtrees,
                                failure_callback=failure_callback, name=name)


def out2in(*node_rewriters, name=None, ignore_newtrees=False, failure_callback=None):
    """A WalkingGraphRewriter visiting nodes from the outputs to the inputs."""
    return WalkingGraphRewriter(SequentialNodeRewriter(*node_rewriters) if len(node_rewriters) != 1
                                else node_rewriters[0], order="out_to_in", ignore_newtrees=ignore_newtrees,
                                failure_callback=failure_callback, name=name)


class EquilibriumGraphRewriter(GraphRewriter):
    """Apply node rewriters (and graph rewriters, between rounds) until nothing changes."""

    def __init__(self, rewriters, max_use_ratio=None, name=None, merge=False, ignore_newtrees=True,
                 tracks_on_change_inputs=False, failure_callback=None):
        # ignore_newtrees / tracks_on_change_inputs only change the order nodes
        # are visited in: opgraph's worklist always runs to the same fixed point.
        _no_failure_callback(failure_callback, "EquilibriumGraphRewriter")
        rewriters = list(rewriters)
        self.graph_rewriters = [r for r in rewriters if isinstance(r, GraphRewriter)]
        nodes = [r for r in rewriters if not isinstance(r, GraphRewriter)]
        self.node_rewriters = _node_rewriters(nodes, "EquilibriumGraphRewriter") if nodes else []
        if not self.node_rewriters and not self.graph_rewriters:
            raise TypeError("EquilibriumGraphRewriter: give at least one rewriter")
        self.max_use_ratio = max_use_ratio
        self.merge = merge
        super().__init__(None, name=name or "EquilibriumGraphRewriter")

    def add_requirements(self, fgraph):
        for r in self.graph_rewriters:
            r.add_requirements(fgraph)

    def apply(self, fgraph):
        limit = None
        if self.max_use_ratio is not None:
            limit = int(self.max_use_ratio * max(len(fgraph.apply_nodes), 1))
        total = 0
        # Graph rewriters give no change count: a round that applied no node
        # rewrite after them ends the loop.
        for _ in range(1000):
            driver = EquilibriumDriver(_entries(self.node_rewriters), merge=self.merge, constant_folding=False,
                                       phase=self.name, max_rewrites=limit)
            applied = driver.apply(fgraph)
            total += applied
            if not self.graph_rewriters:
                break
            before = _node_ids(fgraph)
            for r in self.graph_rewriters:
                r.apply(fgraph)
            if _node_ids(fgraph) == before:
                break
        return total


def _node_ids(fgraph):
    return frozenset(map(id, fgraph.apply_nodes))


class SequentialGraphRewriter(GraphRewriter):
    """Run graph rewriters one after the other."""

    def __init__(self, *rewriters, name=None, failure_callback=None):
        _no_failure_callback(failure_callback, "SequentialGraphRewriter")
        if len(rewriters) == 1 and isinstance(rewriters[0], (list, tuple)):
            rewriters = tuple(rewriters[0])
        for r in rewriters:
            if not isinstance(r, GraphRewriter):
                raise TypeError(f"SequentialGraphRewriter: expected GraphRewriters, got {r!r:.60}")
        self.rewriters = list(rewriters)
        super().__init__(None, name=name or "SequentialGraphRewriter")

    def add_requirements(self, fgraph):
        for r in self.rewriters:
            r.add_requirements(fgraph)

    def apply(self, fgraph):
        return [r.apply(fgraph) for r in self.rewriters]


class MergeOptimizer(GraphRewriter):
    """Common-subexpression elimination over the whole graph (PyTensor's name)."""

    def __init__(self, name="merge"):
        super().__init__(None, name=name)

    def apply(self, fgraph):
        return EquilibriumDriver([], merge=True, constant_folding=False, phase="merge").apply(fgraph)


class SubstitutionNodeRewriter(NodeRewriter):
    """Replace every application of ``op1`` by ``op2`` on the same inputs."""

    def __init__(self, op1, op2, name=None):
        self.op1, self.op2 = op1, op2
        super().__init__(None, [op1], name=name or f"{op1}->{op2}")

    def transform(self, fgraph, node):
        if node.op != self.op1:
            return None
        out = self.op2(*node.inputs)
        return out if isinstance(out, (list, tuple)) else [out]


class RemovalNodeRewriter(NodeRewriter):
    """Remove ``op``: each output is replaced by the input at the same position."""

    def __init__(self, op, name=None):
        self.op = op
        super().__init__(None, [op], name=name or f"remove_{op}")

    def transform(self, fgraph, node):
        if node.op != self.op or len(node.inputs) != len(node.outputs):
            return None
        return list(node.inputs)


def copy_stack_trace(from_var, to_var):
    """Give ``to_var`` (a variable or a list) the user source line of ``from_var`` (same forms;
    the first one that has a line), so errors in a rewritten graph still point at the user's code."""
    sources = from_var if isinstance(from_var, (list, tuple)) else [from_var]
    targets = to_var if isinstance(to_var, (list, tuple)) else [to_var]
    traces = [t for t in (getattr(v.tag, "trace", None) for v in sources) if t is not None]
    if not traces:
        return
    for v in targets:
        v.tag.trace = traces[0]


__all__ = ["copy_stack_trace", "WalkingGraphRewriter", "EquilibriumGraphRewriter", "SequentialGraphRewriter",
           "SequentialNodeRewriter", "MergeOptimizer", "SubstitutionNodeRewriter", "RemovalNodeRewriter", "in2out",
           "out2in"]

"""The worklist driver: apply node rewriters to a fixed point, about linearly.

Rules are indexed by the Op class they track (``Elemwise`` rules by the class
of their scalar op), so each node only meets the rules that can fire on it.
A worklist holds the nodes to (re)visit: all nodes at the start, then only the
nodes a replacement created and the nodes whose inputs changed (a FunctionGraph
feature feeds it).  Merge (common-subexpression elimination) and constant
folding run on every visited node, whatever the selected tags, and so does the
refinement of static types (refine_types.py) on the nodes an input change may have
refined.
"""

from __future__ import annotations

import types
import warnings
from collections import Counter, deque

from opgraph.kernel_core.graph.basic import Variable
from opgraph.kernel_core.graph.fgraph import Feature
from opgraph.kernel_core.rewriting.constant_folding import fold_node
from opgraph.kernel_core.rewriting.history import RewriteHistory
from opgraph.kernel_core.rewriting.merge import MergeTable
from opgraph.kernel_core.rewriting import refine_types
from opgraph.kernel_core.rewriting.verbose import (
    VerbosePrinter, optimizer_verbose, print_rewrite, printing_replacements,
)


# Work done by all drivers (tests check it grows linearly with graph size):
# "visits" of nodes, "attempts" of rules on a node, "applied" replacements.
work_counts = Counter()


class _Worklist(Feature):
    """Feeds the driver the nodes a change may have made rewritable.

    ``follow_clients=False`` (a single walk, PyTensor's ``in2out``) only adds
    the nodes a replacement created, not the old nodes whose inputs changed.
    """

    def __init__(self, follow_clients=True, follow_new=True):
        self.queue = deque()
        self.queued = set()
        self.refinable = set()   # nodes an input change may have given more specific outputs
        self.follow_clients = follow_clients
        self.follow_new = follow_new

    def push(self, node):
        if node not in self.queued:
            self.queued.add(node)
            self.queue.append(node)

    def pop(self):
        node = self.queue.popleft()
        self.queued.discard(node)
        return node

    def on_import(self, fgraph, node, reason):
        if self.follow_new:
            self.push(node)

    def on_change_input(self, fgraph, node, i, old, new, reason):
        if node == "output":
            return
        if refine_types.may_refine(old, new):
            self.refinable.add(node)
            self.push(node)
        elif self.follow_clients:
            self.push(node)


def tracks_of(rewriter):
    """``rewriter.tracks()`` (PyTensor's protocol: a method), as a list or None."""
    tracks = rewriter.tracks
    if isinstance(tracks, (types.MethodType, types.FunctionType)):
        tracks = tracks()
    if tracks is None:
        return None
    return check_tracks(tracks, rewriter)


def check_tracks(tracks, rewriter=None):
    """``tracks`` as a list, each an Op class or Op instance (a function like ``pt.sum``
    that builds ops would never match any node: refused with a clear error)."""
    from opgraph.kernel_core.graph.op import Op

    if not isinstance(tracks, (list, tuple)):
        tracks = [tracks]
    for t in tracks:
        if not (isinstance(t, Op) or (isinstance(t, type) and issubclass(t, Op))):
            who = f" of {rewriter}" if rewriter is not None else ""
            raise TypeError(f"tracks{who}: {t!r} is not an Op class or Op instance (e.g. pt.log, Elemwise, Sum)")
    return list(tracks)


def _track_keys(rewriter):
    """Index keys of a node rewriter: an Op class, or ("elemwise", scalar op class)."""
    from opgraph.kernel_core.tensor.elemwise import Elemwise

    tracks = tracks_of(rewriter)
    if tracks is None:
        return [None]
    keys = []
    for t in tracks:
        if isinstance(t, Elemwise):
            keys.append(("elemwise", type(t.scalar_op)))
        elif isinstance(t, type):
            keys.append(t)
        else:
            keys.append(type(t))
    return keys


def _matches_track(rewriter, op):
    """Instances in ``tracks`` must equal the node's op (class tracks match by index)."""
    from opgraph.kernel_core.tensor.elemwise import Elemwise

    tracks = tracks_of(rewriter)
    if tracks is None:
        return True
    for t in tracks:
        if isinstance(t, type):
            if isinstance(op, t):
                return True
        elif isinstance(t, Elemwise):
            if isinstance(op, Elemwise) and op.scalar_op == t.scalar_op:
                return True
        elif t == op:
            return True
    return False


def _needs_check(rewriter):
    from opgraph.kernel_core.tensor.elemwise import Elemwise

    tracks = tracks_of(rewriter)
    if tracks is None:
        return False
    for t in tracks:
        if isinstance(t, type):
            continue
        if isinstance(t, Elemwise):
            if t.scalar_op.__props__:
                return True
            continue
        return True
    return False


def compatible_replacement(old, new):
    """``new`` adapted to ``old``'s type, or None when it cannot stand for ``old``.

    Same dtype and rank are required.  A dimension statically 1 in ``new`` where
    ``old`` is not known to be 1 is refused: it would silently drop broadcasting.
    A less specific ``new`` gets a SpecifyShape (through ``convert_variable``).
    """
    ot, nt = old.type, new.type
    if ot == nt:
        return new
    if type(ot) is not type(nt):
        return None
    oshape, nshape = getattr(ot, "shape", None), getattr(nt, "shape", None)
    if oshape is None or nshape is None:
        return ot.convert_variable(new)
    if getattr(ot, "dtype", None) != getattr(nt, "dtype", None) or len(oshape) != len(nshape):
        return None
    for o, n in zip(oshape, nshape):
        if o == n:
            continue
        if o is None and n == 1:
            return None
        if o is not None and n is not None:
            return None
    return ot.convert_variable(new)


def _creates_cycle(fgraph, old_vars, new):
    """Whether ``new`` (partly outside the graph) depends on one of ``old_vars``."""
    stack = [new]
    seen = set()
    while stack:
        v = stack.pop()
        work_counts["cycle_steps"] += 1
        if v in old_vars:
            return True
        if v in seen:
            continue
        seen.add(v)
        if v in fgraph.variables or v.owner is None:
            continue
        stack.extend(v.owner.inputs)
    return False


def _normalize_result(node, result):
    if isinstance(result, dict):
        return list(result.items())
    if isinstance(result, Variable):
        result = [result]
    result = list(result)
    if len(result) != len(node.outputs):
        raise ValueError(f"rewrite returned {len(result)} replacements for {len(node.outputs)} outputs of {node}")
    return [(o, n) for o, n in zip(node.outputs, result) if n is not None]


class EquilibriumDriver:
    """Apply ``entries`` (database entries of node rewriters) until nothing changes."""

    def __init__(self, entries, merge=True, constant_folding=True, phase=None, max_rewrites=None,
                 follow_clients=True, follow_new=True, reverse=False):
        """``follow_clients=False`` with ``reverse`` gives one walk (PyTensor's
        ``in2out`` / ``out2in``): every node once in (reverse) topological
        order, plus the nodes replacements create."""
        self.entries = list(entries)
        self.follow_clients = follow_clients
        self.follow_new = follow_new
        self.reverse = reverse
        self.merge = merge
        self.constant_folding = constant_folding
        self.phase = phase
        self.max_rewrites = max_rewrites
        self.index = {}
        for e in self.entries:
            for key in _track_keys(e.rewrite):
                bucket = self.index.setdefault(key, [])
                if e not in bucket:
                    bucket.append(e)
        self.generic = self.index.pop(None, [])
        self.stats = {}
        self.rejected = []
        self._cache = {}
        self._work = None

    def _candidates(self, op):
        """Entries that may fire on ``op`` (cached per Op class / scalar op class)."""
        scalar = getattr(op, "scalar_op", None)
        key = (type(op), type(scalar))
        found = self._cache.get(key)
        if found is not None:
            return found
        from opgraph.kernel_core.tensor.elemwise import Elemwise

        found = []
        for cls in type(op).__mro__:
            found.extend(self.index.get(cls, ()))
        if isinstance(op, Elemwise):
            for cls in type(scalar).__mro__:
                found.extend(self.index.get(("elemwise", cls), ()))
        found.extend(self.generic)
        seen = set()
        found = [e for e in found if not (e.name in seen or seen.add(e.name))]
        found.sort(key=lambda e: e.order)
        # Rules tracking op *instances* with parameters must compare them; class tracks need no check.
        found = [(e, _needs_check(e.rewrite)) for e in found]
        self._cache[key] = found
        return found

    def apply(self, fgraph, max_steps=None):
        """Run to a fixed point; returns the number of replacements applied."""
        history = fgraph.get_feature(RewriteHistory)
        for e in self.entries:
            add = getattr(e.rewrite, "add_requirements", None)
            if add is not None:
                add(fgraph)
        work = self._work = _Worklist(self.follow_clients, self.follow_new)
        fgraph.attach_feature(work)
        merge_table = MergeTable() if self.merge else None
        limit = self.max_rewrites or (100 * len(fgraph.apply_nodes) + 10000)
        applied = 0
        try:
            order = fgraph.toposort()
            for node in (reversed(order) if self.reverse else order):
                work.push(node)
            if history is not None:
                history.discard_pending()
            while work.queue:
                if max_steps is not None and applied >= max_steps:
                    break
                if applied >= limit:
                    warnings.warn(f"rewrite driver stopped after {applied} rewrites (possible rule cycle)")
                    break
                node = work.pop()
                if node not in fgraph.apply_nodes:
                    continue
                if self._visit(fgraph, node, merge_table, history):
                    applied += 1
        finally:
            fgraph.remove_feature(work)
            self._work = None
        work_counts["applied"] += applied
        return applied

    # -- one node ---------------------------------------------------------
    def _visit(self, fgraph, node, merge_table, history):
        work_counts["visits"] += 1
        if merge_table is not None:
            pairs = merge_table.merge_node(fgraph, node)
            if pairs is not None:
                if pairs == "changed":  # constants unified in place; node is re-queued
                    return False
                return self._apply(fgraph, node, pairs, "merge", ("merge",), history)
        if self.constant_folding:
            pairs = fold_node(fgraph, node)
            if pairs:
                return self._apply(fgraph, node, pairs, "constant_folding", ("constant_folding",), history)
        if self._work is not None and node in self._work.refinable:
            self._work.refinable.discard(node)
            pairs = refine_types.refined_outputs(node)
            if pairs and self._apply(fgraph, node, pairs, refine_types.RULE, (refine_types.RULE,), history):
                return True
        for entry, check in self._candidates(node.op):
            rw = entry.rewrite
            if check and not _matches_track(rw, node.op):
                continue
            work_counts["attempts"] += 1
            result = rw.transform(fgraph, node)
            if not result:
                continue
            pairs = _normalize_result(node, result)
            if entry.user_defined:
                _check_user_replacements(fgraph, entry, pairs)
            if self._apply(fgraph, node, pairs, entry.name, entry.tags - {entry.name}, history, entry.display):
                return True
        return False

    def _apply(self, fgraph, node, pairs, rule, tags, history, display=None):
        checked = []
        old_vars = set(o for o, _ in pairs)
        for old, new in pairs:
            if old is new:
                continue
            if not isinstance(new, Variable):
                raise TypeError(f"rewrite {rule} returned {new!r} for {old}, not a Variable")
            adapted = compatible_replacement(old, new)
            if adapted is None or _creates_cycle(fgraph, old_vars, adapted):
                self.rejected.append((rule, old, new))
                return False
            checked.append((old, adapted))
        if not checked:
            return False
        verbose = optimizer_verbose() and fgraph.get_feature(VerbosePrinter) is None
        for old, new in checked:
            if verbose:
                print_rewrite(display or rule, old, new)
            fgraph.replace(old, new, reason=rule)
        self.stats[rule] = self.stats.get(rule, 0) + 1
        if history is not None:
            history.record(rule, tags, self.phase, [o for o, _ in checked], [n for _, n in checked])
        return True


def _check_user_replacements(fgraph, entry, pairs):
    """A user's rewriter returning a replacement that cannot stand for the original gets a
    clear error (PyTensor raises too) instead of being skipped without a word."""
    old_vars = set(o for o, _ in pairs)
    for old, new in pairs:
        if not isinstance(new, Variable) or old is new:
            continue
        adapted = compatible_replacement(old, new)
        if adapted is None:
            raise TypeError(f"rewrite {entry.display} replaced {old} of type {old.type} by {new} of type "
                            f"{new.type}: the replacement must have the same dtype and rank and keep "
                            "the broadcasting (use pt.zeros(x.shape), pt.specify_broadcastable, pt.cast, ...)")
        if _creates_cycle(fgraph, old_vars, adapted):
            raise ValueError(f"rewrite {entry.display} replaced {old} by {new}, which depends on {old} itself "
                             "(the graph would contain a cycle)")


def run_graph_rewriter(fgraph, entry, phase, history):
    """Run a whole-graph pass, recording it as one history step when it changed the graph."""
    before = len(history.records) if history is not None else 0
    with printing_replacements(fgraph, entry.display):
        entry.rewrite.rewrite(fgraph)
    if history is not None and len(history.records) == before and (history._imported or history._pruned):
        history.record(entry.name, entry.tags - {entry.name}, phase, [], [])


__all__ = ["EquilibriumDriver", "compatible_replacement", "run_graph_rewriter"]

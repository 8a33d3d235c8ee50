"""Run rewrites on a copy of a graph and collect the steps the notebook shows.

The rewrite system's ``RewriteHistory`` feature records each applied rule
(name, tags, phase, replaced and new variables, removed and imported nodes);
with ``snapshots=True`` it also keeps an independent copy of the graph before
and after each step.  Here each record becomes a ``RewriteStep`` whose
changed nodes are mapped into those copies, so views can highlight them.
"""

from __future__ import annotations

from opgraph.kernel_core.graph.basic import as_variable_list

PHASE_TAGS = ("canonicalize", "stabilize", "specialize", "fusion", "inplace")


class RewriteStep:
    """One applied rewrite: rule, tag, graph before/after, changed nodes."""

    def __init__(self, index, rule, tags, tag, before, after, removed, added, replaced, new):
        self.index = index
        self.rule = rule
        self.tags = tuple(tags)
        self.tag = tag            # the phase tag the rule ran under
        self.before = before      # list of output variables (independent snapshot)
        self.after = after
        self.removed = removed    # Apply nodes of `before` that the step removed
        self.added = added        # Apply nodes of `after` that the step created
        self.replaced = replaced  # variables of `before` that were replaced
        self.new = new            # their replacements, in `after`

    def __repr__(self):
        return f"<RewriteStep {self.index}: {self.rule} [{self.tag}]>"


def _api():
    from opgraph.kernel_core.graph.fgraph import FunctionGraph
    from opgraph.kernel_core.rewriting.api import rewrite_fgraph
    from opgraph.kernel_core.rewriting.history import RewriteHistory

    return FunctionGraph, rewrite_fgraph, RewriteHistory


def _tag_of(rec):
    phase = getattr(rec, "phase", None)
    if phase:
        return str(phase)
    tags = tuple(getattr(rec, "tags", ()) or ())
    for t in PHASE_TAGS:
        if t in tags:
            return t
    return tags[0] if tags else ""


def _run(graph, include, exclude, snapshots):
    FunctionGraph, rewrite_fgraph, RewriteHistory = _api()
    fgraph = FunctionGraph(outputs=as_variable_list(graph), clone=True)
    history = RewriteHistory(snapshots=snapshots)
    fgraph.attach_feature(history)
    rewrite_fgraph(fgraph, include=tuple(include), exclude=tuple(exclude))
    fgraph.remove_feature(history)
    return fgraph, history


def rewrite_with_history(graph, include=("canonicalize",), exclude=()):
    """Rewrite a copy of ``graph``; returns (rewritten outputs, history records). No snapshots."""
    fgraph, history = _run(graph, include, exclude, snapshots=False)
    return list(fgraph.outputs), list(history.records)


def record_rewrites(graph, include=("canonicalize",), exclude=()):
    """(steps, original outputs, final outputs, history) for the stepper."""
    FunctionGraph, _, _ = _api()
    fgraph, history = _run(graph, include, exclude, snapshots=True)
    steps = []
    original = None
    for rec in history.records:
        if rec.before is None or rec.after is None:
            continue
        b_outs, b_memo = rec.before
        a_outs, a_memo = rec.after
        if original is None:
            original = b_outs
        removed = {b_memo[o].owner for n in rec.nodes_before for o in n.outputs if o in b_memo}
        added = {a_memo[o].owner for n in rec.nodes_after for o in n.outputs if o in a_memo}
        # A replaced variable whose node survived (e.g. a changed input) is still a change to show.
        replaced = [b_memo[v] for v in rec.replaced if v in b_memo]
        new = [a_memo[v] for v in rec.new if v in a_memo]
        removed |= {v.owner for v in replaced}
        added |= {v.owner for v in new}
        steps.append(RewriteStep(len(steps), str(rec.rule), rec.tags, _tag_of(rec), b_outs, a_outs,
                                 removed - {None}, added - {None}, replaced, new))
    if original is None:
        original = list(fgraph.outputs)
    return steps, original, list(fgraph.outputs), history

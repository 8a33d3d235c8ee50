"""Run rewrites on a copy of a graph and record every step with before/after snapshots.

The stepper needs the graph *as it was* at each step, but a FunctionGraph is
changed in place.  So the fgraph's ``replace`` / ``replace_all`` /
``change_node_input`` are wrapped on the instance: each outermost call is one
step, and after it the current graph is cloned into an independent snapshot.
Nodes that disappeared and appeared in the step are remembered (mapped into
the snapshots) so the views can highlight exactly what changed.  Rule names
and tags come from the rewrite system's ``RewriteHistory`` records when they
line up with the steps, else from the ``reason`` the driver passed.
"""

from __future__ import annotations

from opgraph.kernel_core.graph.basic import as_variable_list
from opgraph.kernel_core.graph.traversal import clone_get_equiv


class RewriteStep:
    """One applied rewrite: rule, tag, graph before/after, changed nodes."""

    def __init__(self, index, rule, tags, before, after, removed, added, replaced, new):
        self.index = index
        self.rule = rule
        self.tags = tuple(tags)
        self.tag = self.tags[0] if self.tags else ""
        self.before = before      # list of output variables (independent snapshot)
        self.after = after
        self.removed = removed    # Apply nodes of `before` that the step removed
        self.added = added        # Apply nodes of `after` that the step created
        self.replaced = replaced  # variables of `before` that were replaced
        self.new = new            # their replacements, in `after`

    def __repr__(self):
        return f"<RewriteStep {self.index}: {self.rule} [{self.tag}]>"


def rewriting_api():
    """(FunctionGraph, rewrite_fgraph, RewriteHistory-or-None); ImportError when rewriting is missing."""
    from opgraph.kernel_core.graph.fgraph import FunctionGraph
    from opgraph.kernel_core.rewriting.api import rewrite_fgraph

    try:
        from opgraph.kernel_core.rewriting.history import RewriteHistory
    except ImportError:
        RewriteHistory = None
    return FunctionGraph, rewrite_fgraph, RewriteHistory


def _reason_info(reason):
    if reason is None:
        return "?", ()
    name = getattr(reason, "name", None) or getattr(reason, "__name__", None) or str(reason)
    tags = getattr(reason, "tags", ()) or ()
    if isinstance(tags, str):
        tags = (tags,)
    return str(name), tuple(tags)


def _snapshot(fgraph):
    memo = clone_get_equiv(fgraph.inputs, fgraph.outputs, copy_inputs=False, copy_orphans=False)
    return [memo[o] for o in fgraph.outputs], memo


class _Recorder:
    def __init__(self, fgraph):
        self.fgraph = fgraph
        self.depth = 0
        self.raw = []  # (reason, before_outs, before_memo, after_outs, after_memo, removed, added, pairs)
        self.current = _snapshot(fgraph)
        self.nodes_at_entry = None
        self.reason = None
        self.pairs = None
        for meth in ("replace", "replace_all", "change_node_input"):
            self._wrap(meth)

    def _wrap(self, meth):
        original = getattr(self.fgraph, meth)
        recorder = self

        def wrapped(*args, **kwargs):
            recorder.enter(meth, args, kwargs)
            try:
                return original(*args, **kwargs)
            finally:
                recorder.exit()

        setattr(self.fgraph, meth, wrapped)

    def enter(self, meth, args, kwargs):
        self.depth += 1
        if self.depth > 1:
            return
        self.nodes_at_entry = set(self.fgraph.apply_nodes)
        self.reason = kwargs.get("reason")
        if meth == "replace":
            if self.reason is None and len(args) >= 3:
                self.reason = args[2]
            self.pairs = [(args[0], args[1])] if len(args) >= 2 else []
        elif meth == "replace_all":
            if self.reason is None and len(args) >= 2:
                self.reason = args[1]
            self.pairs = list(args[0]) if args else []
        else:  # change_node_input(node, i, new_var, reason)
            if self.reason is None and len(args) >= 4:
                self.reason = args[3]
            node, i = args[0], args[1]
            old = self.fgraph.outputs[i] if node == "output" else node.inputs[i]
            self.pairs = [(old, args[2])]

    def exit(self):
        self.depth -= 1
        if self.depth:
            return
        nodes_now = set(self.fgraph.apply_nodes)
        removed = self.nodes_at_entry - nodes_now
        added = nodes_now - self.nodes_at_entry
        if not removed and not added and not any(old is not new for old, new in self.pairs):
            return
        before_outs, before_memo = self.current
        after = _snapshot(self.fgraph)
        self.raw.append((self.reason, before_outs, before_memo, after[0], after[1], removed, added, self.pairs))
        self.current = after


def record_rewrites(graph, include=("canonicalize",), exclude=()):
    """Rewrite a copy of ``graph`` (Variable or list); returns (steps, original_outputs, final_outputs, history).

    ``steps`` is a list of RewriteStep.  Raises ImportError when the rewrite
    system is not available, and whatever ``rewrite_fgraph`` raises for bad tags.
    """
    FunctionGraph, rewrite_fgraph, RewriteHistory = rewriting_api()
    outputs = as_variable_list(graph)
    fgraph = FunctionGraph(outputs=outputs, clone=True)
    history = None
    if RewriteHistory is not None:
        history = RewriteHistory()
        fgraph.attach_feature(history)
    recorder = _Recorder(fgraph)
    original = recorder.current[0]
    rewrite_fgraph(fgraph, include=tuple(include), exclude=tuple(exclude))
    records = list(getattr(history, "records", []) or []) if history is not None else []
    steps = []
    for k, (reason, b_outs, b_memo, a_outs, a_memo, removed, added, pairs) in enumerate(recorder.raw):
        rule, tags = _reason_info(reason)
        if len(records) == len(recorder.raw):
            rec = records[k]
            rule = str(getattr(rec, "rule", rule) or rule)
            tags = tuple(getattr(rec, "tags", tags) or tags)
        b_removed = {b_memo[o].owner for n in removed for o in n.outputs if o in b_memo}
        a_added = {a_memo[o].owner for n in added for o in n.outputs if o in a_memo}
        replaced = [b_memo[old] for old, _ in pairs if old in b_memo]
        new = [a_memo[nw] for _, nw in pairs if nw in a_memo]
        steps.append(RewriteStep(len(steps), rule, tags, b_outs, a_outs, b_removed - {None},
                                 a_added - {None}, replaced, new))
    return steps, original, list(fgraph.outputs), history


def rewrite_with_history(graph, include=("canonicalize",), exclude=()):
    """Rewrite a copy of ``graph``; returns (rewritten outputs, records).

    Cheap path for the magic: only the RewriteHistory feature, no snapshots.
    Falls back to the step recorder when the rewrite system keeps no history.
    """
    FunctionGraph, rewrite_fgraph, RewriteHistory = rewriting_api()
    if RewriteHistory is None:
        steps, _, final, _ = record_rewrites(graph, include, exclude)
        return final, steps
    fgraph = FunctionGraph(outputs=as_variable_list(graph), clone=True)
    history = RewriteHistory()
    fgraph.attach_feature(history)
    rewrite_fgraph(fgraph, include=tuple(include), exclude=tuple(exclude))
    return list(fgraph.outputs), list(getattr(history, "records", []) or [])

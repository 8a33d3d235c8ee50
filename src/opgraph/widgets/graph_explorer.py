"""``GraphExplorer``: browse a graph of 10^4 nodes: clusters that expand on click, search, details, paths.

``GraphExplorer(graph)`` (a Variable, a list of them, a FunctionGraph or a
compiled Function) numbers the graph and its inner graphs (``GraphModel``),
groups them into nested collapsed clusters (``ClusterTree``: inner graph,
name scope, op family, parts) and opens the largest clusters that still fit
``budget`` visible boxes.  The browser side (``graph_explorer.js``, plain
JavaScript shipped in the package: no CDN, no build step) draws the visible
boxes on a canvas with zoom and pan; only what is visible is sent and drawn.

Everything is decided in Python, so it can be used (and tested) without a browser:

- ``expand(cluster)`` / ``collapse(cluster)`` (a click on a cluster sets ``expanded``);
- ``search("theta")``: items whose variable name or op matches, their clusters
  opened, the first one focused (``matches``);
- ``select(a, b=None)``: the details of one or two nodes (type, static shape, the
  source line that built it, inputs, clients) and the shortest path between two (``path``).

The layout (``view``) is recomputed in Python on every expand: longest-path
layers and barycentre ordering (``graph_layout.py``), linear in what is visible.
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets

from opgraph.kernel_core.printing.graphviz import KIND_COLORS
from opgraph.widgets.graph_layout import view_json
from opgraph.widgets.graph_model import ClusterTree, GraphModel, cluster_id, item_id, parse_id

__all__ = ["GraphExplorer", "DEFAULT_BUDGET"]

_HERE = Path(__file__).parent

DEFAULT_BUDGET = 120      # visible boxes the first view may open up to
MAX_FOCUSED_MATCHES = 12  # search: clusters of at most this many matches are opened
MAX_MATCHES = 200         # search: matches listed


class GraphExplorer(anywidget.AnyWidget):
    """Explore ``graph``: collapsed clusters (click to expand), search, node details, paths.

    ``budget``: the first view opens clusters (largest first) while at most this many
    boxes are visible.  ``height``: the canvas height in px.
    """

    _esm = (_HERE / "graph_explorer.js").read_text(encoding="utf-8")
    _css = (_HERE / "graph_explorer.css").read_text(encoding="utf-8")

    view = traitlets.Dict().tag(sync=True)          # visible boxes and edges (graph_layout.view_json)
    expanded = traitlets.List(traitlets.Unicode()).tag(sync=True)   # expanded cluster ids ("c3")
    query = traitlets.Unicode("").tag(sync=True)    # the search box (Python answers in ``matches``)
    matches = traitlets.Dict().tag(sync=True)       # {"query", "count", "items": [{id, label}], "visible": [...]}
    selected = traitlets.List(traitlets.Unicode()).tag(sync=True)   # one or two node ids ("n12")
    details = traitlets.List().tag(sync=True)       # details of the selected nodes / clicked cluster
    path = traitlets.Dict().tag(sync=True)          # {"items": [...], "visible": [...]} between two selected
    focus = traitlets.Unicode("").tag(sync=True)    # a visible id the view centres on
    colors = traitlets.Dict().tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    height = traitlets.Int(560).tag(sync=True)

    def __init__(self, graph, budget=DEFAULT_BUDGET, **kwargs):
        if not isinstance(budget, int) or budget < 1:
            raise ValueError(f"GraphExplorer: budget must be a positive int, got {budget!r}")
        self.model = GraphModel(graph)
        self.tree = ClusterTree(self.model)
        self._rep = []
        self._updating = False
        super().__init__(**kwargs)
        self.colors = dict(KIND_COLORS)
        self.on_msg(self._on_message)
        m = self.model
        self.summary = (f"{len(m):,} nodes, {m.n_edges:,} edges, {len(m.inner_graphs) - 1} inner graph(s), "
                        f"{len(self.tree.kind):,} clusters")
        self._updating = True
        try:
            self.expanded = [cluster_id(c - self.tree.n_items) for c in self._first_expansion(budget)]
        finally:
            self._updating = False
        if not self.view:             # nothing to open: ``expanded`` did not change
            self._on_expanded({"old": [], "new": []})

    # -- which clusters are open ----------------------------------------------------------
    def _first_expansion(self, budget):
        """Open clusters breadth-first, biggest first, while the visible count stays within budget."""
        tree = self.tree
        n = tree.n_items
        visible = len(tree.top)
        opened = []
        frontier = [e for e in tree.top if e >= n]
        while frontier:
            frontier.sort(key=lambda e: -tree.size[e - n])
            nxt = []
            for e in frontier:
                grow = len(tree.children[e - n]) - 1
                if visible + grow <= budget:
                    visible += grow
                    opened.append(e)
                    nxt.extend(ch for ch in tree.children[e - n] if ch >= n)
            frontier = nxt
        return opened

    def _element(self, ident, what):
        kind, k = parse_id(ident)
        n = self.tree.n_items
        if kind == "n":
            if k >= n:
                raise ValueError(f"GraphExplorer.{what}: no node {ident} (the graph has {n} nodes)")
            return k
        if k >= len(self.tree.kind):
            raise ValueError(f"GraphExplorer.{what}: no cluster {ident} ({len(self.tree.kind)} clusters)")
        return n + k

    def _open_ancestors(self, items):
        opened = set(self.expanded)
        for i in items:
            for c in self.tree.ancestors(i):
                opened.add(cluster_id(c - self.tree.n_items))
        return sorted(opened, key=lambda s: int(s[1:]))

    @traitlets.validate("expanded")
    def _check_expanded(self, proposal):
        for ident in proposal["value"]:
            if self._element(ident, "expanded") < self.tree.n_items:
                raise traitlets.TraitError(f"GraphExplorer.expanded: {ident} is a node, not a cluster")
        return list(dict.fromkeys(proposal["value"]))

    @traitlets.observe("expanded")
    def _on_expanded(self, change):
        n = self.tree.n_items
        view, self._rep = view_json(self.tree, {self._element(c, "expanded") for c in self.expanded})
        self.view = view
        self._mark()
        old = set(change["old"] or ())
        new = [c for c in self.expanded if c not in old]
        if new and not self._updating:
            # Centre on the first box of the cluster just opened.
            first = self.tree.children[self._element(new[-1], "expanded") - n][0]
            self.focus = self._visible_id(first)

    def expand(self, cluster):
        """Open a cluster ("c3"), or every cluster around a node ("n12")."""
        e = self._element(cluster, "expand")
        if e < self.tree.n_items:
            self.expanded = self._open_ancestors([e])
        else:
            self.expanded = self.expanded + [cluster]
        return self

    def collapse(self, cluster):
        """Close a cluster and every cluster inside it."""
        e = self._element(cluster, "collapse")
        if e < self.tree.n_items:
            raise ValueError(f"GraphExplorer.collapse: {cluster} is a node, not a cluster")
        inside = set()
        stack = [e]
        while stack:
            x = stack.pop()
            inside.add(cluster_id(x - self.tree.n_items))
            stack.extend(ch for ch in self.tree.children[x - self.tree.n_items] if ch >= self.tree.n_items)
        self.expanded = [c for c in self.expanded if c not in inside]
        return self

    def collapse_all(self):
        self.expanded = []
        return self

    def expand_all(self):
        """Open every cluster: every node drawn (the browser still only paints what is on screen)."""
        self._updating = True          # no focus jump: the browser fits the whole graph
        try:
            self.expanded = [cluster_id(c) for c in range(len(self.tree.kind))]
        finally:
            self._updating = False
        return self

    # -- visible representatives ----------------------------------------------------------
    def _visible_id(self, e):
        """The id of the box that shows element ``e`` now (itself, or its collapsed cluster)."""
        n = self.tree.n_items
        if e >= n:
            ancestors = self.tree.ancestors(e)
            closed = [a for a in ancestors if cluster_id(a - n) not in set(self.expanded)]
            e = closed[-1] if closed else e
            return cluster_id(e - n) if e >= n else item_id(e)
        r = self._rep[e]
        return item_id(r) if r < n else cluster_id(r - n)

    def visible(self, ident):
        """The id of the box that shows node or cluster ``ident`` in the current view."""
        return self._visible_id(self._element(ident, "visible"))

    def _mark(self):
        """Re-map matches, path and selection onto the current view (after an expand)."""
        if self.details:
            self.details = [self._details(s) for s in self.selected]
        if self.matches.get("items"):
            self.matches = dict(self.matches, visible=self._visible_of([d["id"] for d in self.matches["items"]]))
        if self.path.get("items"):
            self.path = dict(self.path, visible=self._visible_of(self.path["items"]))

    def _visible_of(self, ids):
        return list(dict.fromkeys(self._visible_id(self._element(i, "visible")) for i in ids))

    # -- search ---------------------------------------------------------------------------
    @traitlets.observe("query")
    def _on_query(self, change):
        self.search(change["new"])

    def search(self, query):
        """Find nodes by variable name or op (case-insensitive substring); opens the clusters
        holding the first matches and focuses the first."""
        if self.query != query:
            self.query = query          # observer calls back here
            return self
        found = self.model.search(query)
        shown = found[:MAX_MATCHES]
        opened = self._open_ancestors(shown[:MAX_FOCUSED_MATCHES])
        self.matches = {"query": query, "count": len(found),
                        "items": [{"id": item_id(i), "label": self._describe_short(i)} for i in shown],
                        "visible": []}
        if opened != list(self.expanded):
            self._updating = True
            try:
                self.expanded = opened
            finally:
                self._updating = False
        self._mark()
        if shown:
            self.focus = self._visible_id(shown[0])
        return self

    def _describe_short(self, i):
        names = self.model.names(i)
        return f"{names[0]} = {self.model.label[i]}" if names and self.model.apply[i] is not None else \
            (names[0] if names else self.model.label[i])

    # -- selection, details, path ----------------------------------------------------------
    @traitlets.observe("selected")
    def _on_selected(self, change):
        items = [self._element(s, "selected") for s in self.selected]
        self.details = [self._details(s) for s in self.selected]
        if len(items) == 2 and all(i < self.tree.n_items for i in items):
            steps = self.model.path(*items)
            ids = [item_id(i) for i in steps]
            self.path = {"items": ids, "labels": [self.model.label[i] for i in steps],
                         "visible": self._visible_of(ids) if ids else [], "found": bool(ids)}
        else:
            self.path = {}

    def _details(self, ident):
        """A node's details plus where it is drawn now and the open clusters around it."""
        e = self._element(ident, "selected")
        n = self.tree.n_items
        out = self.model.details(e) if e < n else self.tree.describe(e)
        opened = set(self.expanded)
        if e < n:
            out["scope"] = self.tree.scopes[e]       # inferred from clients/producers when unnamed
        out["visible"] = self._visible_id(e)
        out["clusters"] = [{"id": cluster_id(c - n), "title": self.tree.title[c - n]}
                           for c in self.tree.ancestors(e) if cluster_id(c - n) in opened]
        return out

    def reveal(self, ident, add=False):
        """Open the clusters around a node, select it (``add``: as the second node, for the path
        from the one selected last) and centre on it."""
        self.expand(ident)
        if add and self.selected and self.selected[-1] != ident:
            self.select(self.selected[-1], ident)
        else:
            self.select(ident)
        self.focus = self.visible(ident)
        return self

    def _on_message(self, widget, content, buffers):
        action = content.get("action") if isinstance(content, dict) else None
        if action == "reveal":
            self.reveal(content["id"], add=bool(content.get("add")))
        elif action == "collapse":
            self.collapse(content["id"])
        elif action == "expand_all":
            self.expand_all()

    def select(self, a, b=None):
        """Select one node (its details) or two (and the path between them)."""
        self.selected = [a] if b is None else [a, b]
        return self

    # -- text twin --------------------------------------------------------------------------
    def __repr__(self):
        return f"<GraphExplorer {self.summary}>"

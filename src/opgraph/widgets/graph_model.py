"""The graph explorer's model: a graph (and its inner graphs) as numbered items, grouped into clusters.

``GraphModel(outputs)`` numbers every Apply node and every non-constant root
variable (inputs, shared variables) of the graph as an *item*, then those of
every inner graph (Scan, OpFromGraph, Composite, ...), iteratively: an inner
graph's items come after all items of the graph holding it.  Constants are
not items (a gradient has thousands of them): they are listed in the details
of the node that uses them.

``ClusterTree(model)`` groups the items of each graph into collapsed
clusters, nested as: the inner graph of an Apply node (a cluster beside that
node), the name scope (``"group_3/theta"`` is in scope ``group_3``; an unnamed
node is in the scope all of its clients share), the op family (a connected run
of nodes of one family: elementwise, shape, reduction, ...), and, when a
cluster still has more than ``max_children`` children, consecutive parts of
them in topological order.  Everything is computed in passes that are linear
in the number of items and edges (no recursion: 10^5 nodes are fine).

Ids seen by the browser are strings: ``"n12"`` is item 12, ``"c3"`` cluster 3.
"""

from __future__ import annotations

from collections import Counter

from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.graph.traversal import io_toposort
from opgraph.kernel_core.printing.graphviz import graph_outputs, op_kind
from opgraph.kernel_core.runtime_errors import source_of

__all__ = ["GraphModel", "ClusterTree", "item_id", "cluster_id", "parse_id"]

MAX_CHILDREN = 150      # children of one cluster before it is split into consecutive parts
MIN_FAMILY_RUN = 3      # smallest connected run of one op family made into a cluster


def item_id(i):
    return f"n{i}"


def cluster_id(c):
    return f"c{c}"


def parse_id(text):
    """("n", 12) for "n12", ("c", 3) for "c3"; ValueError naming the id otherwise."""
    if isinstance(text, str) and len(text) > 1 and text[0] in "nc" and text[1:].isdigit():
        return text[0], int(text[1:])
    raise ValueError(f"GraphExplorer: {text!r} is not a node id ('n12') or a cluster id ('c3')")


def _short_type(var):
    t = var.type
    return t.short_str() if hasattr(t, "short_str") else str(t)


def _static_shape(var):
    shape = getattr(var.type, "shape", None)
    if shape is None:
        return None
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _scope_of_name(name):
    return name.rsplit("/", 1)[0] if name and "/" in name else None


class GraphModel:
    """Items (Apply nodes and root variables) of a graph and its inner graphs, with edges.

    Per item ``i``: ``apply[i]`` (the Apply node, or None for a root variable),
    ``variables[i]`` (its output variables, or the root variable itself),
    ``family[i]`` (op family: elementwise, shape, ..., "input" for roots),
    ``label[i]`` (the op, or the input's name), ``graph[i]`` (0: the outer
    graph; k: the k-th inner graph), ``preds[i]`` / ``succs[i]`` (data edges,
    item numbers, no duplicates), ``is_output[i]``.  ``inner_graphs[k]`` is
    (outer item, [items of the inner graph]) for k >= 1.
    """

    def __init__(self, graph):
        self.outputs = graph_outputs(graph)
        self.apply, self.variables, self.family, self.label = [], [], [], []
        self.graph, self.preds, self.succs, self.is_output = [], [], [], []
        self.constants = []            # per item: constants among its inputs (strings)
        self.inner_graphs = [(None, [])]   # graph k -> (outer item, items)
        self.virtual_edges = []        # (outer item, first items of its inner graph): drawn, not data
        self.work = 0                  # items + edges visited: the cost the tests check grows linearly
        pending = [(0, [], self.outputs)]   # (graph number, inputs, outputs) still to number
        while pending:
            k, inputs, outputs = pending.pop(0)
            pending.extend(self._add_graph(k, inputs, outputs))
        self.n_edges = sum(len(p) for p in self.preds)

    def __len__(self):
        return len(self.apply)

    def _new_item(self, k, apply, variables, family, label):
        i = len(self.apply)
        self.apply.append(apply)
        self.variables.append(variables)
        self.family.append(family)
        self.label.append(label)
        self.graph.append(k)
        self.preds.append([])
        self.succs.append([])
        self.is_output.append(False)
        self.constants.append([])
        self.inner_graphs[k][1].append(i)
        return i

    def _add_graph(self, k, inputs, outputs):
        """Number the items of one graph; returns the inner graphs found in it (to number later)."""
        nodes = io_toposort(inputs, outputs)
        described = {}       # op -> (family, label): ops are shared by many nodes
        of_var = {}          # variable -> item producing it (root variables: the item itself)
        inner = []

        def root_item(var):
            if var not in of_var:
                label = var.name or _short_type(var)
                of_var[var] = self._new_item(k, None, [var], "input", label)
            return of_var[var]

        for node in nodes:
            ins = []
            for var in node.inputs:
                if var in of_var:
                    ins.append(of_var[var])
                elif isinstance(var, Constant):
                    self.work += 1
                    continue
                else:
                    ins.append(root_item(var))
            op = node.op
            try:
                family, label = described[op]
            except KeyError:
                family, label = described[op] = (op_kind(op), str(op))
            except TypeError:              # an unhashable op
                family, label = op_kind(op), str(op)
            i = self._new_item(k, node, list(node.outputs), family, label)
            self.constants[i] = [str(v) for v in node.inputs if isinstance(v, Constant) and v not in of_var]
            for var in node.outputs:
                of_var[var] = i
            for j in dict.fromkeys(ins):
                self.preds[i].append(j)
                self.succs[j].append(i)
                self.work += 1
            self.work += 1
            found = node.op.inner_graphs()
            if found is not None:
                inner_inputs, inner_outputs = found
                inner.append((i, list(inner_inputs), list(inner_outputs)))
        for var in outputs:
            if var in of_var:
                self.is_output[of_var[var]] = True
            elif not isinstance(var, Constant):
                self.is_output[root_item(var)] = True
        todo = []
        for outer, inner_inputs, inner_outputs in inner:
            self.inner_graphs.append((outer, []))
            todo.append((len(self.inner_graphs) - 1, inner_inputs, inner_outputs))
        return todo

    def finish_inner_edges(self):
        """Virtual edges from each outer node to the items of its inner graph that have no producer."""
        self.virtual_edges = []
        for outer, items in self.inner_graphs[1:]:
            for i in items:
                if not self.preds[i]:
                    self.virtual_edges.append((outer, i))

    # -- what a node is ---------------------------------------------------------------
    def names(self, i):
        return [v.name for v in self.variables[i] if v.name]

    def scope(self, i):
        for name in self.names(i):
            scope = _scope_of_name(name)
            if scope is not None:
                return scope
        return None

    def source_line(self, i):
        for var in self.variables[i]:
            where = source_of(var)
            if where is not None:
                return where
        return None

    def details(self, i):
        """Everything the explorer shows about item ``i`` (JSON-able)."""
        apply = self.apply[i]
        outer = self.inner_graphs[self.graph[i]][0]
        return {
            "id": item_id(i),
            "op": str(apply.op) if apply is not None else None,
            "op_class": type(apply.op).__name__ if apply is not None else None,
            "family": self.family[i],
            "label": self.label[i],
            "names": self.names(i),
            "types": [_short_type(v) for v in self.variables[i]],
            "shapes": [_static_shape(v) for v in self.variables[i]],
            "source": self.source_line(i),
            "inputs": [{"id": item_id(j), "label": self.label[j]} for j in self.preds[i]],
            "constants": self.constants[i],
            "clients": [{"id": item_id(j), "label": self.label[j]} for j in self.succs[i]],
            "output": self.is_output[i],
            "inner_graph_of": None if outer is None else {"id": item_id(outer), "label": self.label[outer]},
            "scope": self.scope(i),
        }

    def to_json(self):
        """The compact JSON model: one row per item, edges as item pairs (for tests and tools)."""
        nodes = [{"id": item_id(i), "op": self.label[i] if self.apply[i] is not None else None,
                  "family": self.family[i], "name": (self.names(i) or [None])[0],
                  "type": [_short_type(v) for v in self.variables[i]],
                  "shape": [_static_shape(v) for v in self.variables[i]],
                  "source": self.source_line(i), "clients": [item_id(j) for j in self.succs[i]],
                  "graph": self.graph[i], "scope": self.scope(i)}
                 for i in range(len(self))]
        edges = [[item_id(j), item_id(i)] for i in range(len(self)) for j in self.preds[i]]
        return {"nodes": nodes, "edges": edges}

    # -- queries ------------------------------------------------------------------------
    def search(self, query, limit=None):
        """Items whose variable name or op contains ``query`` (case-insensitive), in order:
        name matches first, then op matches."""
        q = query.strip().lower()
        if not q:
            return []
        by_name, by_op = [], []
        for i in range(len(self)):
            if any(q in n.lower() for n in self.names(i)):
                by_name.append(i)
            elif self.apply[i] is not None and q in self.label[i].lower():
                by_op.append(i)
        found = by_name + by_op
        return found if limit is None else found[:limit]

    def path(self, a, b):
        """The shortest directed path a -> ... -> b or b -> ... -> a (items), [] when neither exists.

        Virtual edges (outer node -> its inner graph) count, so a path can enter an inner graph."""
        succ = [list(s) for s in self.succs]
        for outer, i in self.virtual_edges:
            succ[outer].append(i)
        for start, goal in ((a, b), (b, a)):
            before = {start: None}
            frontier = [start]
            while frontier and goal not in before:
                nxt = []
                for u in frontier:
                    for v in succ[u]:
                        if v not in before:
                            before[v] = u
                            nxt.append(v)
                frontier = nxt
            if goal in before:
                out = [goal]
                while before[out[-1]] is not None:
                    out.append(before[out[-1]])
                out.reverse()
                return out
        return []


class ClusterTree:
    """Nested clusters over a GraphModel's items (see the module docstring).

    Elements are numbered: items 0..N-1, clusters N..N+C-1.  Per cluster ``c``
    (0-based): ``kind[c]`` (family / scope / inner / part), ``title[c]``,
    ``children[c]`` (element numbers, in order), ``size[c]`` (items inside).
    ``top`` lists the root's children.  ``parent[e]`` is the enclosing cluster
    element (-1: the root).
    """

    def __init__(self, model, max_children=MAX_CHILDREN, min_family_run=MIN_FAMILY_RUN):
        self.model = model
        model.finish_inner_edges()
        self.n_items = n = len(model)
        self.kind, self.title, self.children, self.size, self.family = [], [], [], [], []
        self.parent = [-1] * n
        self.order = list(range(n))          # element -> position in topological order (min over members)
        self.work = 0
        self.scopes = scopes = self._scopes()   # per item: its name scope, given or inferred
        tops = {}
        # Graph by graph (outer first): scope clusters, family runs inside them, parts.
        for k, (outer, items) in enumerate(model.inner_graphs):
            top = self._group_graph(items, scopes, min_family_run)
            if k == 0:
                tops[k] = top
            else:
                c = self._new_cluster("inner", f"inner graph of {model.label[outer]}", top,
                                      family="inner")
                tops[k] = [c]
        # Put each inner-graph cluster beside its outer node (in the outer node's parent).
        self.top = tops[0]
        for k in range(1, len(model.inner_graphs)):
            outer = model.inner_graphs[k][0]
            [c] = tops[k]
            holder = self.parent[outer]
            siblings = self.top if holder == -1 else self.children[holder - n]
            siblings.append(c)
            self.parent[c] = holder
        # Sizes and orders bottom-up, then clusters with too many children split into parts
        # (a part's size and order come from its chunk: the ancestors' do not change).
        self._sizes()
        for holder in range(len(self.kind)):
            self._split(n + holder, max_children)
        self.top = self._split_list(self.top, -1, max_children)

    # -- construction -------------------------------------------------------------------
    def _new_cluster(self, kind, title, children, family=None):
        c = self.n_items + len(self.kind)
        self.kind.append(kind)
        self.title.append(title)
        self.children.append(list(children))
        self.size.append(0)
        self.family.append(family or kind)
        self.parent.append(-1)
        self.order.append(0)
        for e in children:
            self.parent[e] = c
        return c

    def _scopes(self):
        """Per item: its name scope; else the scope all of its clients share (backward pass); else
        the one scope among its producers' (forward pass: gradient nodes, whose clients are
        unnamed outputs); then a second backward pass for what feeds only such nodes."""
        m = self.model
        scope = [m.scope(i) for i in range(len(m))]

        def backward():
            for i in reversed(range(len(m))):
                self.work += 1
                if scope[i] is None and m.succs[i]:
                    shared = {scope[j] for j in m.succs[i]}
                    if len(shared) == 1:
                        scope[i] = shared.pop()

        backward()
        for i in range(len(m)):
            self.work += 1
            if scope[i] is None and m.preds[i]:
                shared = {scope[j] for j in m.preds[i]} - {None}
                if len(shared) == 1:
                    scope[i] = shared.pop()
        backward()
        return scope

    def _group_graph(self, items, scopes, min_run):
        by_scope = {}
        free = []
        for i in items:
            (free if scopes[i] is None else by_scope.setdefault(scopes[i], [])).append(i)
        top = []
        for scope, members in by_scope.items():
            if len(members) < 2:
                free.extend(members)
                continue
            inside = self._family_runs(members, min_run)
            top.append(self._new_cluster("scope", scope, inside))
        top.extend(self._family_runs(free, min_run))
        return sorted(top, key=self._first_item)

    def _first_item(self, e):
        while e >= self.n_items:
            e = self.children[e - self.n_items][0]
        return e

    def _family_runs(self, items, min_run):
        """Connected runs of one op family among ``items`` (union-find); runs of at least
        ``min_run`` nodes become clusters, the rest stay single items."""
        m = self.model
        member = set(items)
        root = {i: i for i in items}

        def find(i):
            while root[i] != i:
                root[i] = root[root[i]]
                i = root[i]
            return i

        for i in items:
            if m.apply[i] is None:
                continue
            for j in m.preds[i]:
                self.work += 1
                if j in member and m.apply[j] is not None and m.family[j] == m.family[i]:
                    ri, rj = find(i), find(j)
                    if ri != rj:
                        root[max(ri, rj)] = min(ri, rj)
        runs = {}
        for i in items:
            runs.setdefault(find(i), []).append(i)
        out = []
        for first in sorted(runs):
            members = runs[first]
            if len(members) >= min_run:
                ops = Counter(m.label[i] if m.apply[i] is not None else "input" for i in members)
                common = ", ".join(name for name, _ in ops.most_common(2))
                out.append(self._new_cluster("family", f"{m.family[first]}: {common}", members,
                                             family=m.family[first]))
            else:
                out.extend(members)
        return out

    def _split(self, c, max_children):
        self.children[c - self.n_items] = self._split_list(self.children[c - self.n_items], c, max_children)

    def _split_list(self, elements, holder, max_children):
        """More than ``max_children`` elements: consecutive parts of them (in topological order),
        repeated until few enough."""
        while len(elements) > max_children:
            elements = sorted(elements, key=lambda e: self.order[e])
            n_parts = -(-len(elements) // max_children)
            step = -(-len(elements) // n_parts)
            parts = []
            for start in range(0, len(elements), step):
                chunk = elements[start:start + step]
                c = self._new_cluster("part", "", chunk)
                self.parent[c] = holder
                self.order[c] = self.order[chunk[0]]
                self.size[c - self.n_items] = sum(1 if e < self.n_items else self.size[e - self.n_items]
                                                  for e in chunk)
                self.work += len(chunk)
                parts.append(c)
            for k, c in enumerate(parts):
                self.title[c - self.n_items] = f"part {k + 1} of {len(parts)}"
            elements = parts
        return elements

    def _sizes(self):
        """Sizes and topological positions of all clusters, bottom-up without recursion."""
        n = self.n_items
        for c in range(len(self.kind)):
            self.size[c] = 0
            self.order[n + c] = None
        for c in self._postorder():
            size, first = 0, None
            for e in self.children[c - n]:
                self.work += 1
                size += 1 if e < n else self.size[e - n]
                first = self.order[e] if first is None else min(first, self.order[e])
            self.size[c - n] = size
            self.order[c] = first if first is not None else 0

    def _postorder(self):
        n = self.n_items
        out, stack = [], [(e, False) for e in self._roots()]
        while stack:
            e, done = stack.pop()
            if done:
                out.append(e)
                continue
            stack.append((e, True))
            stack.extend((ch, False) for ch in self.children[e - n] if ch >= n)
        return out

    def _roots(self):
        n = self.n_items
        return [n + c for c in range(len(self.kind)) if self.parent[n + c] == -1]

    # -- reading ------------------------------------------------------------------------
    def is_cluster(self, e):
        return e >= self.n_items

    def children_of(self, e):
        return self.top if e == -1 else self.children[e - self.n_items]

    def ancestors(self, e):
        """Enclosing clusters of element ``e``, innermost first."""
        out = []
        e = self.parent[e]
        while e != -1:
            out.append(e)
            e = self.parent[e]
        return out

    def leaves(self, e):
        if e < self.n_items:
            return [e]
        out, stack = [], [e]
        while stack:
            x = stack.pop()
            if x < self.n_items:
                out.append(x)
            else:
                stack.extend(reversed(self.children[x - self.n_items]))
        return out

    def describe(self, e):
        """JSON-able details of a cluster element."""
        c = e - self.n_items
        families = Counter(self.model.family[i] for i in self.leaves(e))
        return {"id": cluster_id(c), "kind": self.kind[c], "title": self.title[c], "size": self.size[c],
                "children": len(self.children[c]), "families": dict(families.most_common())}

    def label(self, e):
        if e < self.n_items:
            return self.model.label[e]
        c = e - self.n_items
        return f"{self.title[c]} ({self.size[c]:,})"

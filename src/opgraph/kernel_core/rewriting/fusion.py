"""Fusion: connected elementwise subgraphs become one ``Elemwise(Composite)``.

A chain ``exp(sin(x))`` reads ``x`` and writes a temporary twice when run op
by op; fused, one loop reads ``x`` once and writes the result once.  Several
outputs are allowed: a node in the group whose value is also needed outside
becomes an extra output of the Composite (seed 002's ``Composite{...}.1``).

Grouping is greedy, from the last node backwards: a group grows by the
elementwise producers of its inputs when

* the producer's output has the group's broadcast pattern (same rank, same
  statically-length-1 axes), so fusing never repeats work per element, and
* merging creates no cycle: no path leaves the group through an outside node
  and comes back into it.  Every member is an ancestor of the group's root,
  so this is "no outside client of the new member is an ancestor of the
  root", answered by one lazy upward search per root (linear overall for
  the usual graphs, no size bound).

Two groups that feed each other through outside nodes cannot both be fused;
the later-found one is then left unfused.

Sizes are bounded so compile time stays about linear in the graph (numba and
LLVM are superlinear in the size of one loop body): a group is finally cut
into runs of at most ``MAX_FUSED_NODES`` nodes and ``MAX_INPUTS`` inputs
(``_split_group``), and before grouping an Add or Mul of more than
``MAX_INPUTS`` terms becomes a balanced tree of such nodes (``pt.add`` of
10^4 terms is one node no loop of bounded size can hold).

Size-1 tensor constants feeding the group become scalar constants inside the
Composite.  Groups of a single plain node are left alone (``Cos`` stays
``Cos``).  Registered as the graph rewriter ``elemwise_fusion`` under the
``fusion`` tag (phase 4).
"""

from __future__ import annotations

import heapq
from collections import Counter

import numpy as np

from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.rewriting.db import graph_rewriter, register_rewrite
from opgraph.kernel_core.scalar import basic as ps
from opgraph.kernel_core.scalar.composite import Composite
from opgraph.kernel_core.scalar.type import get_scalar_type
from opgraph.kernel_core.tensor.elemwise import Elemwise

# Bound on the inputs of one Composite (generated loop signatures stay small).
MAX_INPUTS = 32
# Bound on the members of one group (one generated loop body).
MAX_FUSED_NODES = 256

# Work done by the grouping (tests check it grows linearly with graph size):
# "nodes" visited as group candidates, "cycle_steps" of the ancestor searches.
work_counts = Counter()


def _pattern(var):
    return (var.type.ndim, tuple(s == 1 for s in var.type.shape))


def _fusable(node):
    op = node.op
    return (isinstance(op, Elemwise) and not op.inplace_pattern
            and len({_pattern(o) for o in node.outputs}) == 1
            and all(getattr(o.type, "dtype", None) for o in node.outputs))


class _RootAncestors:
    """The ancestors of one group's root, discovered lazily from the top down.

    A group only ever contains ancestors of its root, so a node outside the
    group reaches the group iff it is an ancestor of the root.  The search
    walks up from the root in decreasing toposort position (a heap); to
    answer "is ``c`` an ancestor?" it only needs to expand nodes placed after
    ``c``.  Each node is expanded at most once per root, and only nodes
    between the root and the lowest queried client are touched.
    """

    __slots__ = ("position", "found", "heap")

    def __init__(self, root, position):
        self.position = position
        self.found = {root}
        self.heap = [(-position[root], root)]

    def contains(self, node):
        position, found, heap = self.position, self.found, self.heap
        k = position[node]
        steps = 0
        while heap and -heap[0][0] > k:
            _, cur = heapq.heappop(heap)
            steps += 1
            for inp in cur.inputs:
                owner = inp.owner
                if owner is not None and owner not in found:
                    found.add(owner)
                    heapq.heappush(heap, (-position[owner], owner))
        work_counts["cycle_steps"] += steps + 1
        return node in found


def _creates_cycle(fgraph, members, prod, ancestors):
    """Whether adding ``prod`` to the convex group ``members`` breaks convexity.

    The group is convex (no path leaves it and comes back), so the only new
    paths are ``prod -> outside client -> ... -> group``, i.e. an outside
    client of ``prod`` that is an ancestor of the group's root.
    """
    for out in prod.outputs:
        for client, _ in fgraph.clients.get(out, ()):
            if client != "output" and client not in members and ancestors.contains(client):
                return True
    return False


def _greedy_groups(fgraph, order, position):
    """Grow groups from the last node backwards (the grouping rule of the module docstring)."""
    assigned = set()
    groups = []
    for node in reversed(order):
        work_counts["nodes"] += 1
        if node in assigned or not _fusable(node):
            continue
        pattern = _pattern(node.outputs[0])
        members = {node}
        frontier = [node]
        ancestors = None
        while frontier:
            cur = frontier.pop()
            for inp in cur.inputs:
                prod = inp.owner
                work_counts["nodes"] += 1
                if (prod is None or prod in members or prod in assigned or not _fusable(prod)
                        or _pattern(prod.outputs[0]) != pattern):
                    continue
                if ancestors is None:
                    ancestors = _RootAncestors(node, position)
                if _creates_cycle(fgraph, members, prod, ancestors):
                    continue
                members.add(prod)
                frontier.append(prod)
        assigned |= members
        if len(members) > 1:
            groups.append(members)
    return groups


def _drop_mutually_dependent(order, groups):
    """Keep groups whose contraction leaves the graph acyclic.

    Each group is convex on its own, but two groups can still feed each other
    through outside nodes (A -> Sum -> B and B -> A).  Fusing both would make
    a cycle, so in every strongly connected component of the contracted graph
    only the first-found group is kept.  Linear: one Kahn pass, and Tarjan's
    SCC only when that pass finds a cycle.
    """
    if len(groups) < 2:
        return groups
    rep = {}
    for gid, members in enumerate(groups):
        for n in members:
            rep[n] = ("g", gid)
    succ, indeg = {}, {}
    for n in order:
        r = rep.get(n, n)
        succ.setdefault(r, set())
        indeg.setdefault(r, 0)
        for inp in n.inputs:
            if inp.owner is None:
                continue
            ru = rep.get(inp.owner, inp.owner)
            if ru != r and r not in succ.setdefault(ru, set()):
                succ[ru].add(r)
                indeg[r] = indeg.get(r, 0) + 1
    ready = [r for r, d in indeg.items() if d == 0]
    seen = 0
    while ready:
        r = ready.pop()
        seen += 1
        for s in succ[r]:
            indeg[s] -= 1
            if indeg[s] == 0:
                ready.append(s)
    if seen == len(indeg):
        return groups
    drop = set()
    for component in _strongly_connected(succ):
        gids = sorted(r[1] for r in component if isinstance(r, tuple))
        if len(component) > 1:
            drop.update(gids[1:])
    return [g for gid, g in enumerate(groups) if gid not in drop]


def _strongly_connected(succ):
    """Tarjan's strongly connected components, iteratively."""
    index, low, on_stack, stack, result = {}, {}, set(), [], []
    counter = 0
    for start in succ:
        if start in index:
            continue
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        work_stack = [(start, iter(succ[start]))]
        while work_stack:
            v, it = work_stack[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work_stack.append((w, iter(succ[w])))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work_stack.pop()
            if work_stack:
                parent = work_stack[-1][0]
                low[parent] = min(low[parent], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w is v:
                        break
                result.append(component)
    return result


def _find_groups(fgraph):
    order = fgraph.toposort()
    position = {node: i for i, node in enumerate(order)}
    groups = _drop_mutually_dependent(order, _greedy_groups(fgraph, order, position))
    groups = _GroupMerger(fgraph, groups, order, position).merged_groups(order)
    # Merging keeps every group convex; re-checking pairs of groups is cheap insurance.
    groups = _drop_mutually_dependent(order, groups)
    pieces = []
    for members in groups:
        pieces.extend(_split_group(sorted(members, key=position.get)))
    return pieces


def _outer_inputs(node, inside):
    """The inputs of ``node`` a Composite would take from outside ``inside``."""
    return [v for v in node.inputs if (v.owner is None or v.owner not in inside)
            and not (isinstance(v, Constant) and np.size(v.data) == 1)]


def _split_group(ordered):
    """Cut a group (in toposort order) into runs of consecutive members, each of at
    most ``MAX_FUSED_NODES`` nodes and ``MAX_INPUTS`` outer inputs.

    Any run of a convex group's members in toposort order is convex and the runs
    never feed each other backwards: a path leaving a run and coming back would
    stay between the two positions, so within the group's own span, and so leave
    and re-enter the group itself.  A run that must end is cut, in its second
    half, where the fewest of its values per member are still needed by later
    members (each such value is one more output array of the run's loop); the toposort is
    depth-first, so those places are the ends of subtrees.  Runs of one node are
    not fused.
    """
    if len(ordered) <= MAX_FUSED_NODES:
        # One run unless it has too many inputs (then cut like a long group).
        inside = set(ordered)
        outer = {v for n in ordered for v in _outer_inputs(n, inside)}
        if len(outer) <= MAX_INPUTS:
            return [ordered] if len(ordered) > 1 else []
    index = {n: i for i, n in enumerate(ordered)}
    # last[i]: the last member consuming member i's outputs (i itself when none does).
    last = list(range(len(ordered)))
    for i, node in enumerate(ordered):
        for v in node.inputs:
            j = index.get(v.owner)
            if j is not None and j != i:
                last[j] = max(last[j], i)
    # live[c]: values of members before c still needed at or after c.
    ending = [0] * (len(ordered) + 1)
    for j, lj in enumerate(last):
        if lj > j:
            ending[lj] += 1
    live, ended = [0] * (len(ordered) + 1), 0
    opened = 0
    for c in range(len(ordered) + 1):
        live[c] = opened - ended
        if c < len(ordered):
            ended += ending[c]
            opened += last[c] > c
    pieces, start = [], 0
    while start < len(ordered):
        current, inputs, end = set(), set(), start
        while end < len(ordered):
            node = ordered[end]
            new_inputs = set(_outer_inputs(node, current)) - inputs
            if end > start and (end - start >= MAX_FUSED_NODES or len(inputs) + len(new_inputs) > MAX_INPUTS):
                break
            current.add(node)
            inputs |= new_inputs
            end += 1
        if end < len(ordered):
            # Cut in the run's second half where the fewest values cross per member
            # of the run (the +1: a longer run saves a loop).
            lo = start + max(1, (end - start) // 2)
            end = min(range(lo, end + 1), key=lambda c: ((live[c] + 1) / (c - start), -c))
        pieces.append(ordered[start:end])
        start = end
    return [run for run in pieces if len(run) > 1]


def _scalar_constant(value, dtype):
    return Constant(get_scalar_type(dtype), np.asarray(value).reshape(()).astype(dtype)[()])


def _inline_scalar_graph(scalar_op, args):
    """Apply ``scalar_op`` to scalar ``args``; nested Composites are flattened."""
    if isinstance(scalar_op, Composite):
        mapping = dict(zip(scalar_op.inputs, args))
        for inner in scalar_op.nodes:
            ins = [mapping.get(v, v) for v in inner.inputs]
            new = inner.op.make_node(*ins)
            mapping.update(zip(inner.outputs, new.outputs))
        return [mapping.get(o, o) for o in scalar_op.outputs]
    return scalar_op.make_node(*args).outputs


def _fuse_group(fgraph, members):
    member_set = set(members)
    outer_inputs, inner_of = [], {}
    inner_inputs = []
    for node in members:
        for inp in node.inputs:
            if inp in inner_of or (inp.owner is not None and inp.owner in member_set):
                continue
            if isinstance(inp, Constant) and np.size(inp.data) == 1:
                inner_of[inp] = _scalar_constant(inp.data, inp.type.dtype)
                continue
            s = get_scalar_type(inp.type.dtype).make_variable()
            inner_of[inp] = s
            inner_inputs.append(s)
            outer_inputs.append(inp)
    if len(outer_inputs) > MAX_INPUTS:
        return False
    for node in members:
        outs = _inline_scalar_graph(node.op.scalar_op, [inner_of[v] for v in node.inputs])
        for o, so in zip(node.outputs, outs):
            inner_of[o] = so
    # Outputs: values needed outside the group (other nodes or graph outputs).
    old_outputs = []
    for node in members:
        for o in node.outputs:
            if any(c == "output" or c not in member_set for c, _ in fgraph.clients.get(o, ())):
                old_outputs.append(o)
    if not old_outputs:
        return False
    if not outer_inputs:
        return False  # constant-only group: constant folding's job
    composite = Composite(inner_inputs, [inner_of[o] for o in old_outputs])
    new_node = Elemwise(composite).make_node(*outer_inputs)
    pairs = []
    for old, new in zip(old_outputs, new_node.outputs):
        if old.type != new.type:
            converted = old.type.convert_variable(new) if hasattr(old.type, "convert_variable") else None
            if converted is None:
                return False
            new = converted
        if old.name is not None and new.name is None:
            new.name = old.name
        pairs.append((old, new))
    fgraph.replace_all(pairs, reason="elemwise_fusion")
    return new_node


# Bound on one "is there a path around?" search when merging two groups: past
# it the merge is skipped, which keeps the pass linear on any graph.
MERGE_SEARCH_BUDGET = 5000


class _GroupMerger:
    """Union of fusion groups that feed each other, checked for cycles.

    Greedy grouping gives a value with several users to the first group that
    reaches it, which can leave two fused loops in a row (``d = x - mu``
    feeding both ``-d`` and ``-d**2/2``).  Merging a consumer group with its
    producer group is safe when no path leaves the producer and re-enters the
    consumer through an outside node; each group tracks the outside nodes
    feeding it, so a check searches upward from those only.
    """

    def __init__(self, fgraph, groups, order, position):
        self.position = position
        self.sets, self.group_of = [], {}
        for members in groups:
            self._add(set(members))
        for node in order:
            if _fusable(node) and node not in self.group_of:
                self._add({node})
        self.parent = list(range(len(self.sets)))
        self.feeders = [self._outside_feeders(s) for s in self.sets]
        self.low = [min(position[n] for n in s) for s in self.sets]

    def _add(self, members):
        idx = len(self.sets)
        self.sets.append(members)
        for n in members:
            self.group_of[n] = idx

    @staticmethod
    def _outside_feeders(members):
        return {i.owner for n in members for i in n.inputs if i.owner is not None and i.owner not in members}

    def find(self, i):
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def _path_around(self, p, c):
        """Whether a path runs from group p to group c through a node outside both."""
        sp, sc, low, position = self.sets[p], self.sets[c], self.low[p], self.position
        stack = [n for n in self.feeders[c] if n not in sp and position[n] > low]
        seen = set(stack)
        steps = 0
        while stack:
            node = stack.pop()
            steps += 1
            if steps > MERGE_SEARCH_BUDGET:
                work_counts["cycle_steps"] += steps
                return True  # unknown: be safe
            for inp in node.inputs:
                owner = inp.owner
                if owner is None or owner in seen:
                    continue
                if owner in sp:
                    work_counts["cycle_steps"] += steps
                    return True
                if position[owner] > low and owner not in sc:
                    seen.add(owner)
                    stack.append(owner)
        work_counts["cycle_steps"] += steps + 1
        return False

    def _can_merge(self, p, c):
        """Whether the union of groups p and c is still convex.

        p feeds c directly, but c may also feed p through outside nodes (a
        group grown by merging singletons is not ordered after its producer
        group): ``x + 1`` feeding both a fused product and, through an
        IncSubtensor, the group that consumes that product.  Each group is
        convex, so the union is convex iff no path runs around in EITHER
        direction (a path leaving the union first leaves one group and first
        re-enters the other one)."""
        return not self._path_around(p, c) and not self._path_around(c, p)

    def _union(self, p, c):
        if len(self.sets[p]) > len(self.sets[c]):
            p, c = c, p
        merged = self.sets[c] | self.sets[p]
        self.feeders[c] = {n for n in self.feeders[c] | self.feeders[p] if n not in merged}
        self.sets[c], self.sets[p] = merged, set()
        self.low[c] = min(self.low[c], self.low[p])
        self.parent[p] = c
        return c

    def merged_groups(self, order):
        for node in order:
            if node not in self.group_of:
                continue
            pattern = _pattern(node.outputs[0])
            for inp in node.inputs:
                prod = inp.owner
                if prod is None or prod not in self.group_of or _pattern(prod.outputs[0]) != pattern:
                    continue
                c, p = self.find(self.group_of[node]), self.find(self.group_of[prod])
                if p != c and self._can_merge(p, c):
                    self._union(p, c)
        return [s for i, s in enumerate(self.sets) if self.parent[i] == i and len(s) > 1]


def _split_wide(fgraph):
    """Each Add / Mul of more than ``MAX_INPUTS`` terms becomes a balanced tree of them.

    Only when every term has the output's dtype: a partial sum of narrower terms
    would be computed (and could overflow) in the narrower dtype.  The rounding
    of the sum changes as reordering any floating-point sum does."""
    for node in fgraph.toposort():
        op = node.op
        if (len(node.inputs) <= MAX_INPUTS or not _fusable(node)
                or type(op.scalar_op) not in (ps.Add, ps.Mul) or len(node.outputs) != 1):
            continue
        out = node.outputs[0]
        if any(getattr(v.type, "dtype", None) != out.type.dtype for v in node.inputs):
            continue
        level = list(node.inputs)
        while len(level) > MAX_INPUTS:
            level = [level[k] if k + 1 == len(level) else op.make_node(*level[k:k + MAX_INPUTS]).outputs[0]
                     for k in range(0, len(level), MAX_INPUTS)]
        new = op.make_node(*level).outputs[0]
        if new.type == out.type:
            fgraph.replace(out, new, reason="elemwise_fusion")


@graph_rewriter(name="elemwise_fusion")
def elemwise_fusion(fgraph):
    """Fuse connected elementwise subgraphs into Elemwise(Composite) nodes."""
    _split_wide(fgraph)
    for members in _find_groups(fgraph):
        if all(n in fgraph.apply_nodes for n in members):
            _fuse_group(fgraph, members)


register_rewrite(elemwise_fusion, "fusion", "fast_run", name="elemwise_fusion")

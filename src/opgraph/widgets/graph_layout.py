"""What the graph explorer draws: the visible elements of a ClusterTree and their layered layout.

``visible_view(tree, expanded)`` walks the cluster tree down through the
expanded clusters; every item is represented by its nearest collapsed
enclosing cluster (or itself), and the data edges between items become edges
between their representatives (duplicates merged, with a count).

``layered_layout`` places those elements in layers: elements are taken in
topological order (a cluster's position is its first item's), edges against
that order are left out of the layering (they close the cycles that
collapsing creates and are drawn all the same), every element goes one layer
below its lowest producer (longest path) and every source just above its
first consumer, then a few barycentre sweeps order
each layer by the mean position of its neighbours in the previous layer.
All of it is linear in elements and edges, up to the sorts of each layer.
"""

from __future__ import annotations

from opgraph.widgets.graph_model import cluster_id, item_id

__all__ = ["visible_view", "layered_layout", "view_json", "node_width", "LAYER_GAP", "NODE_HEIGHT"]

LAYER_GAP = 64       # px between the tops of two layers
NODE_HEIGHT = 26
NODE_GAP = 14        # px between two boxes of one layer
SWEEPS = 4           # barycentre sweeps (down, up, down, up)


def node_width(label):
    return max(44, min(190, 7 * len(label) + 16))


def visible_view(tree, expanded):
    """(visible elements in order, representative per item, edges {(a, b): count}) for the
    set ``expanded`` of expanded cluster elements."""
    n = tree.n_items
    visible = []
    stack = list(reversed(tree.top))
    while stack:
        e = stack.pop()
        if e >= n and e in expanded:
            stack.extend(reversed(tree.children[e - n]))
        else:
            visible.append(e)
    rep = [0] * n
    for e in visible:
        if e < n:
            rep[e] = e
            continue
        inside = [e]
        while inside:
            x = inside.pop()
            if x < n:
                rep[x] = e
            else:
                inside.extend(tree.children[x - n])
    model = tree.model
    edges = {}
    for j in range(n):
        for i in model.succs[j]:
            a, b = rep[j], rep[i]
            if a != b:
                edges[(a, b)] = edges.get((a, b), 0) + 1
    for outer, i in model.virtual_edges:
        a, b = rep[outer], rep[i]
        if a != b and (a, b) not in edges:
            edges[(a, b)] = 0          # count 0: an inner-graph link, not data
    return visible, rep, edges


def layered_layout(elements, order, edges, widths):
    """(x, y) of the centre of each element; ``order[k]`` the topological position of
    ``elements[k]``, ``edges`` pairs of indices into ``elements``, ``widths`` px per element."""
    count = len(elements)
    rank = sorted(range(count), key=lambda k: order[k])
    pos_in_order = [0] * count
    for p, k in enumerate(rank):
        pos_in_order[k] = p
    preds = [[] for _ in range(count)]
    succs = [[] for _ in range(count)]
    for a, b in edges:
        if pos_in_order[a] < pos_in_order[b]:
            preds[b].append(a)
            succs[a].append(b)
    layer = [0] * count
    for k in rank:
        for a in preds[k]:
            if layer[a] + 1 > layer[k]:
                layer[k] = layer[a] + 1
    # Sources (inputs, broadcasts of constants) sit just above their first consumer, not all in
    # the top layer (a gradient has thousands of them).
    for k in rank:
        if not preds[k] and succs[k]:
            layer[k] = max(0, min(layer[b] for b in succs[k]) - 1)
    n_layers = max(layer) + 1 if count else 0
    layers = [[] for _ in range(n_layers)]
    for k in rank:
        layers[layer[k]].append(k)
    slot = [0.0] * count

    def place(row):
        half = (len(row) - 1) / 2.0
        for p, k in enumerate(row):
            slot[k] = p - half

    for row in layers:
        place(row)
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        rows = layers[1:] if down else layers[-2::-1]
        for row in rows:
            def key(k, neighbours=preds if down else succs):
                near = neighbours[k]
                return (sum(slot[a] for a in near) / len(near), slot[k]) if near else (slot[k], slot[k])
            row.sort(key=key)
            place(row)
    xs = [0.0] * count
    ys = [0.0] * count
    for depth, row in enumerate(layers):
        total = sum(widths[k] for k in row) + NODE_GAP * max(0, len(row) - 1)
        x = -total / 2.0
        for k in row:
            xs[k] = round(x + widths[k] / 2.0, 1)
            ys[k] = depth * LAYER_GAP
            x += widths[k] + NODE_GAP
    return xs, ys


def view_json(tree, expanded):
    """The visible graph as compact columns for the browser, plus the representative per item."""
    visible, rep, edges = visible_view(tree, expanded)
    n = tree.n_items
    index = {e: k for k, e in enumerate(visible)}
    labels = [tree.label(e) for e in visible]
    widths = [node_width(t) + (16 if e >= n else 0) for t, e in zip(labels, visible)]
    pairs = [(index[a], index[b]) for a, b in edges]
    xs, ys = layered_layout(visible, [tree.order[e] for e in visible], pairs, widths)
    model = tree.model
    view = {
        "ids": [item_id(e) if e < n else cluster_id(e - n) for e in visible],
        "labels": labels,
        "families": [model.family[e] if e < n else tree.family[e - n] for e in visible],
        # 0: a node; a cluster: the number of items inside (drawn as a stacked box)
        "sizes": [0 if e < n else tree.size[e - n] for e in visible],
        "outputs": [1 if e < n and model.is_output[e] else 0 for e in visible],
        "x": xs, "y": ys, "w": widths,
        "src": [a for a, _ in pairs], "dst": [b for _, b in pairs],
        "counts": list(edges.values()),
        "n_items": n,
    }
    return view, rep

"""Join of same-shaped elementwise terms -> one elementwise op over joined leaves.

    join(a, f(x, c_1), ..., f(x, c_n))  ->  f(x, join(a, c_1, ..., c_n))

for terms of length 1 along the join axis ``a`` (stack's terms:
``stack(ts) = join(0, expand_dims(t_1, 0), ...)``, so also
``join(a, D(f(x, c_1)), ...) -> f(D(x), join(a, D(c_1), ...))`` for one
ExpandDims ``D`` adding axis ``a``).  Every term must be the same tree of
Elemwise ops (equal ops, equal types); each leaf position either holds one
variable in every term (it broadcasts along ``a``) or a variable of one type
per term (joined; constants are concatenated into one constant).  Holds
because an elementwise op computes each position from the same position of
its inputs: row k of the result is f at row k of the joined leaves.

The issue 21 case: ``stack([exp(x * (k / n)) for k in range(n)])`` was n
separate loops (n compiled kernels for NUMBA, each with its own constant);
it becomes one loop over an (n, len(x)) output reading a constant column.
Runs at specialize (terms already canonical, before fusion makes Composites
whose constants differ).  Terms of more than ``MAX_TERM_NODES`` nodes are
left alone, so the rule costs linear time in the join's inputs.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.rewriting.db import node_rewriter, register_rewrite
from opgraph.kernel_core.tensor.basic import constant
from opgraph.kernel_core.tensor.elemwise import DimShuffle, Elemwise
from opgraph.kernel_core.tensor.join import Join, join

# Joins of fewer terms are left as they are (few kernels anyway).
MIN_TERMS = 8
# Nodes of one term's elementwise tree at most.
MAX_TERM_NODES = 64


def _term_tree(var):
    """(structure, leaves) of the Elemwise tree computing ``var``: structure is a
    tuple of (op, output index, number of inputs, type) entries and leaf marks in
    depth-first order, leaves the variables at the marks.  None when the tree has
    more than MAX_TERM_NODES nodes or an inplace op."""
    entries, leaves = [], []
    stack = [var]
    while stack:
        v = stack.pop()
        node = v.owner
        if node is None or not isinstance(node.op, Elemwise) or isinstance(v, Constant):
            entries.append(("leaf",))
            leaves.append(v)
            continue
        if node.op.inplace_pattern:
            return None
        entries.append((node.op, node.outputs.index(v), len(node.inputs), v.type))
        if len(entries) > MAX_TERM_NODES:
            return None
        stack.extend(reversed(node.inputs))
    return tuple(entries), leaves


def _expand(var, dimshuffle):
    return var if dimshuffle is None else dimshuffle(var)


def _joined_leaf(axis, column, dimshuffle):
    """The leaves of one position, one per term, joined along ``axis``."""
    if all(isinstance(v, Constant) for v in column):
        datas = []
        for v in column:
            data = np.asarray(v.data)
            if dimshuffle is not None:
                data = data.reshape(tuple(1 if d == "x" else data.shape[d] for d in dimshuffle.new_order))
            datas.append(data)
        return constant(np.concatenate(datas, axis=axis), dtype=column[0].type.dtype)
    return join(axis, *[_expand(v, dimshuffle) for v in column])


def _rebuild(structure, leaves):
    """The tree ``structure`` applied (Elemwise ops made anew) to ``leaves``."""
    # Depth-first entries: rebuild bottom-up with a value stack, right to left.
    values, leaf_iter = [], iter(reversed(leaves))
    for entry in reversed(structure):
        if entry[0] == "leaf":
            values.append(next(leaf_iter))
            continue
        op, index, n_inputs, _ = entry
        args = [values.pop() for _ in range(n_inputs)]
        values.append(op.make_node(*args).outputs[index])
    (out,) = values
    return out


@node_rewriter([Join])
def join_of_elemwise(fgraph, node):
    """join(a, f(x, c_1), ..., f(x, c_n)) -> f(x, join(a, c_1, ..., c_n)), terms of length 1 on a."""
    axis_var, *terms = node.inputs
    if len(terms) < MIN_TERMS or not isinstance(axis_var, Constant):
        return None
    ndim = terms[0].type.ndim
    axis = int(np.asarray(axis_var.data)) % ndim
    # An optional ExpandDims adding ``axis`` on top of every term (stack).
    dimshuffle = None
    first = terms[0].owner
    if first is not None and isinstance(first.op, DimShuffle):
        dimshuffle = first.op
        if not dimshuffle.is_expand_dims or dimshuffle.new_order[axis] != "x":
            return None
    inners = []
    for t in terms:
        if t.type.shape[axis] != 1 or t.owner is None:
            return None
        if dimshuffle is not None:
            if t.owner.op != dimshuffle:
                return None
            t = t.owner.inputs[0]
        inners.append(t)
    tree = _term_tree(inners[0])
    if tree is None or tree[0] == (("leaf",),):
        return None
    structure, _ = tree
    columns = [[] for _ in tree[1]]
    for inner in inners:
        other = tree if inner is inners[0] else _term_tree(inner)
        if other is None or other[0] != structure:
            return None
        for column, leaf in zip(columns, other[1]):
            column.append(leaf)
    new_leaves, varying = [], False
    for column in columns:
        if all(v is column[0] for v in column):
            shared = _expand(column[0], dimshuffle)
            if shared.type.shape[axis] != 1:
                return None
            new_leaves.append(shared)
            continue
        # One type per position (so the joined leaves broadcast as each term's did).
        if any(v.type != column[0].type for v in column):
            return None
        if _expand(column[0], dimshuffle).type.shape[axis] != 1:
            return None
        new_leaves.append(_joined_leaf(axis, column, dimshuffle))
        varying = True
    if not varying:
        return None   # n equal terms: nothing to gain here
    return [_rebuild(structure, new_leaves)]


register_rewrite(join_of_elemwise, "specialize", "join")

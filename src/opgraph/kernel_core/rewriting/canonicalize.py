"""Canonicalization: bring elementwise graphs to one standard form.

Table rules (identities) first, then the rules that need code: the add / mul
canonicalizer (flatten, collect constants, drop neutral elements), constant
upcasting, ``Second`` (fill) sinking and removal, and DimShuffle merging.
Gradient graphs full of ``Second`` and broadcast constants collapse to the
seeds' ``True_div([1.], Add([1.], x))`` with these.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.graph.traversal import io_toposort
from opgraph.kernel_core.rewriting.db import node_rewriter, register_rewrite
from opgraph.kernel_core.rewriting.driver import compatible_replacement, work_counts
from opgraph.kernel_core.rewriting.pattern import P, register_table
from opgraph.kernel_core.scalar import basic as ps
from opgraph.kernel_core.tensor import math as tm
from opgraph.kernel_core.tensor.elemwise import DimShuffle, Elemwise

x, y = P.var("x"), P.var("y")
# Logical identities hold for booleans only (``i & 1`` of an integer is not ``i``).
b = P.var("x", when=lambda v: v.type.dtype == "bool")

# name, pattern, replacement
TABLE = [
    ("sub_self", x - x, lambda x: tm.zeros_like(x)),
    ("sub_zero", x - 0, x),
    ("zero_sub", 0 - x, -x),
    ("sub_neg", x - (-y), x + y),
    ("add_neg", x + (-y), x - y),
    ("div_self", x / x, lambda x: tm.ones_like(x)),
    ("div_one", x / 1, x),
    ("mul_div_cancel", (y * x) / y, x),
    ("div_neg_neg", (-x) / (-y), x / y),
    ("log_exp", P.log(P.exp(x)), x),
    ("and_true", P.and_(b, True), b),
    ("or_false", P.or_(b, False), b),
]
# Double negation is also needed by the stabilize rules (log(sigmoid(-x))).
NEG_NEG = [("neg_neg", -(-x), x)]

register_table(TABLE, "canonicalize", "algebra")
register_table(NEG_NEG, "canonicalize", "stabilize", "fast_compile", "algebra")


# -- helpers -------------------------------------------------------------------
def is_elemwise(var_or_node, scalar_cls):
    node = getattr(var_or_node, "owner", var_or_node)
    return (node is not None and isinstance(getattr(node, "op", None), Elemwise)
            and isinstance(node.op.scalar_op, scalar_cls) and not node.op.inplace_pattern)


def with_dtype(new, old):
    """``new`` cast to ``old``'s dtype when they differ."""
    if new.type.dtype != old.type.dtype:
        return tm.cast(new, old.type.dtype)
    return new


# -- Second (fill) ---------------------------------------------------------------
# The search for the variables a removed fill compared stops after this many
# nodes (the removed value itself is then checked: correct, just coarser).
_LEAF_SEARCH_LIMIT = 100_000
# The gradient of a wide sum drops one fill of the same forward value per term:
# remembering the last answers keeps that linear.  Entries hold their variable,
# so an id is never reused while cached.
_LEAF_CACHE_SIZE = 64
_leaf_cache = OrderedDict()


def _elemwise_leaves(var):
    """The inputs of the Elemwise tree computing ``var``: the variables whose
    shapes that tree compares (``[var]`` when the tree is too large to search)."""
    hit = _leaf_cache.get(id(var))
    if hit is not None and hit[0] is var:
        _leaf_cache.move_to_end(id(var))
        return hit[1]
    leaves, seen, stack = [], {id(var)}, [var]
    while stack:
        v = stack.pop()
        owner = v.owner
        if owner is None or not isinstance(owner.op, Elemwise) or len(owner.outputs) != 1:
            leaves.append(v)
            continue
        if len(seen) > _LEAF_SEARCH_LIMIT:
            leaves = [var]
            break
        for inp in owner.inputs:
            if id(inp) not in seen:
                seen.add(id(inp))
                stack.append(inp)
    _leaf_cache[id(var)] = (var, leaves)
    if len(_leaf_cache) > _LEAF_CACHE_SIZE:
        _leaf_cache.popitem(last=False)
    return leaves


def keep_shape_checks(new, removed):
    """``new`` standing for a value computed with ``removed`` that a rewrite drops.

    Only dims statically 1 broadcast (tensor/elemwise.py), so at the type level
    ``new`` has the dropped value's shape; at run time it is the Elemwise that
    computed ``removed`` which rejects inputs of different lengths.  Every input of
    that computation that ``new`` is not itself computed from gets a
    ``ShapeAgreement`` along its non-static axes (issue 21: the gradient of
    ``a * b`` reduced to ``b`` and ignored ``a``'s shape).

    The check sits on an input of ``new``'s Elemwise tree that has its full shape
    (``_anchor``), so the tree still fuses into one loop; on ``new`` itself when
    there is none.
    """
    from opgraph.kernel_core.tensor.shape import ShapeAgreement, shape_i

    if new.type.ndim == 0:
        return new
    own = _elemwise_leaves(new)
    own_ids = {id(v) for v in own} | {id(new)}
    anchor = _anchor(new, own)
    checked = anchor
    for leaf in _elemwise_leaves(removed):
        if id(leaf) in own_ids or getattr(leaf.type, "ndim", None) != new.type.ndim:
            continue
        dims = [d for d, (ls, ns) in enumerate(zip(leaf.type.shape, new.type.shape))
                if ls != 1 and (ls is None or ns is None)]
        if dims:
            name = leaf.name or str(leaf)
            checked = ShapeAgreement(dims, [f"input {name}"] * len(dims))(checked, *[shape_i(leaf, d) for d in dims])
            own_ids.add(id(leaf))
    if checked is anchor:
        return new   # nothing to check
    if anchor is new:
        return checked
    return _rebuild_elemwise_tree(new, own, anchor, checked)


def _anchor(new, leaves):
    """An input of ``new``'s Elemwise tree with ``new``'s full shape (no static 1
    where ``new`` has none), a graph input first; ``new`` when there is none."""
    full = [v for v in leaves if not isinstance(v, Constant) and getattr(v.type, "ndim", None) == new.type.ndim
            and all(ls != 1 or ns == 1 for ls, ns in zip(v.type.shape, new.type.shape))]
    if not full or len(leaves) == 1 and leaves[0] is new:
        return new
    roots = [v for v in full if v.owner is None]
    return (roots or full)[0]


def _rebuild_elemwise_tree(new, leaves, old, replacement):
    """``new``'s Elemwise tree (between ``leaves`` and ``new``) with its input
    ``old`` read as ``replacement``."""
    memo = {old: replacement}
    for node in io_toposort(list(leaves), [new]):
        inputs = [memo.get(i, i) for i in node.inputs]
        if any(a is not b for a, b in zip(inputs, node.inputs)):
            memo[node.outputs[0]] = node.op.make_node(*inputs).outputs[0]
    return memo.get(new, new)


@node_rewriter([Elemwise(ps.second)])
def useless_second(fgraph, node):
    """Second(a, b) -> b when b already has the output's shape (a only broadcast it);
    the run-time comparison of a's shape with b's stays (``keep_shape_checks``)."""
    a, b = node.inputs
    out = node.outputs[0]
    if b.type.ndim != out.type.ndim or b.type.dtype != out.type.dtype:
        return None
    if all(bs != 1 or os == 1 for bs, os in zip(b.type.shape, out.type.shape)):
        return [keep_shape_checks(b, a)]
    return None


@node_rewriter([Elemwise])
def fill_sink(fgraph, node):
    """f(Second(a, b), c) -> Second(a, f(b, c)): move fills towards the outputs,
    where ``useless_second`` can drop them."""
    op = node.op
    if isinstance(op.scalar_op, ps.Second) or op.inplace_pattern or len(node.outputs) != 1:
        return None
    models, inputs = [], []
    for inp in node.inputs:
        if is_elemwise(inp, ps.Second):
            models.append(inp.owner.inputs[0])
            inputs.append(inp.owner.inputs[1])
        else:
            inputs.append(inp)
    if not models:
        return None
    new = op(*inputs)
    for k, m in enumerate(models):
        if compatible_replacement(node.outputs[0], new) is not None:
            # The remaining fills add no broadcasting, only their shape checks.
            for rest in models[k:]:
                new = keep_shape_checks(new, rest)
            break
        new = tm.second(m, new)
    return [new]


# -- constants --------------------------------------------------------------------
_UPCASTABLE = (ps.Add, ps.Sub, ps.Mul, ps.True_div, ps.Maximum, ps.Minimum, ps.Pow, ps.Int_div, ps.Mod)


@node_rewriter([Elemwise])
def upcast_constants(fgraph, node):
    """Constants take the output dtype: Add(ExpandDims(1), x) -> Add([1.], x)."""
    op = node.op
    if not isinstance(op.scalar_op, _UPCASTABLE) or op.inplace_pattern or len(node.outputs) != 1:
        return None
    dtype = node.outputs[0].type.dtype
    changed, inputs = False, []
    for inp in node.inputs:
        if isinstance(inp, Constant) and inp.type.dtype != dtype:
            data = np.asarray(inp.data)
            cast = data.astype(dtype)
            if np.array_equal(cast, data, equal_nan=data.dtype.kind in "fc"):
                inp = inp.type.clone(dtype=dtype).make_constant(cast)
                changed = True
        inputs.append(inp)
    if not changed:
        return None
    return [op(*inputs)]


def _canonical_terms(fgraph, node, scalar_cls, neutral, combine):
    """Flatten nested single-client same-op terms and collect their constants.

    Returns (terms, constant data or None, changed?).
    """
    terms, consts, changed = [], [], False
    stack = list(reversed(node.inputs))
    while stack:
        v = stack.pop()
        work_counts["flatten_steps"] += 1
        if is_elemwise(v, scalar_cls) and v.owner is not node and len(fgraph.clients.get(v, [])) == 1 \
                and v.type.dtype == node.outputs[0].type.dtype:
            stack.extend(reversed(v.owner.inputs))
            changed = True
            continue
        if isinstance(v, Constant):
            consts.append(v)
        else:
            terms.append(v)
    const_data = None
    if consts:
        const_data = np.asarray(consts[0].data)
        for c in consts[1:]:
            const_data = combine(const_data, np.asarray(c.data))
        if len(consts) > 1:
            changed = True
        if const_data.size and np.all(const_data == neutral):
            changed = True
            const_data = None if terms else const_data
    return terms, consts, const_data, changed


def _absorbed_by_client(fgraph, node, scalar_cls):
    """Whether ``node``'s only client is the same op, which will flatten ``node`` into itself.

    Only the root of a tree of nested sums (products) is canonicalized: it
    takes in the whole tree in one step.  Canonicalizing every level on the way
    up would rebuild a growing node per level, quadratic in the tree's size
    (a Python ``sum()`` of N terms is such a chain).
    """
    out = node.outputs[0]
    clients = fgraph.clients.get(out, [])
    if len(clients) != 1:
        return False
    client = clients[0][0]
    return (client != "output" and is_elemwise(client, scalar_cls) and len(client.outputs) == 1
            and client.outputs[0].type.dtype == out.type.dtype)


def _canonicalize_assoc(fgraph, node, scalar_cls, elem, neutral, combine):
    out = node.outputs[0]
    if _absorbed_by_client(fgraph, node, scalar_cls):
        return None
    terms, consts, const_data, changed = _canonical_terms(fgraph, node, scalar_cls, neutral, combine)
    if not changed:
        return None
    inputs = list(terms)
    if const_data is not None:
        from opgraph.kernel_core.tensor.basic import constant

        c = consts[0] if len(consts) == 1 else constant(const_data.astype(out.type.dtype, copy=False))
        inputs.insert(0, c)
    if not inputs:
        return None
    new = inputs[0] if len(inputs) == 1 else elem(*inputs)
    new = with_dtype(new, out)
    if compatible_replacement(out, new) is None:
        # Dropping the neutral constant lost broadcasting: keep the shape with a fill.
        shaped = [c for c in consts if c.type.ndim == out.type.ndim]
        if not shaped:
            return None
        new = tm.second(shaped[0], new)
        if compatible_replacement(out, new) is None:
            return None
    return [new]


@node_rewriter([Elemwise(ps.add)])
def add_canonical(fgraph, node):
    """Flatten nested sums, add up the constants, drop ``+ 0``."""
    return _canonicalize_assoc(fgraph, node, ps.Add, tm.add, 0, np.add)


@node_rewriter([Elemwise(ps.mul)])
def mul_canonical(fgraph, node):
    """Flatten nested products, multiply the constants, drop ``* 1``; ``-1 * x`` -> ``-x``."""
    result = _canonicalize_assoc(fgraph, node, ps.Mul, tm.mul, 1, np.multiply)
    if result is not None:
        return result
    if len(node.inputs) == 2 and not _absorbed_by_client(fgraph, node, ps.Mul):
        for i, inp in enumerate(node.inputs):
            if isinstance(inp, Constant) and np.asarray(inp.data).size and np.all(np.asarray(inp.data) == -1):
                new = with_dtype(tm.neg(node.inputs[1 - i]), node.outputs[0])
                if compatible_replacement(node.outputs[0], new) is not None:
                    return [new]
    return None


@node_rewriter([Elemwise(ps.switch)])
def switch_constant_condition(fgraph, node):
    """switch(c, a, b) with a constant all-true / all-false condition -> a / b."""
    cond, a, b = node.inputs
    if not isinstance(cond, Constant):
        return None
    data = np.asarray(cond.data)
    if data.size == 0:
        return None
    if np.all(data):
        pick = a
    elif not np.any(data):
        pick = b
    else:
        return None
    new = with_dtype(pick, node.outputs[0])
    return [new] if compatible_replacement(node.outputs[0], new) is not None else None


# -- DimShuffle --------------------------------------------------------------------
@node_rewriter([DimShuffle])
def dimshuffle_merge(fgraph, node):
    """DimShuffle(DimShuffle(x)) -> one DimShuffle; an identity DimShuffle -> x."""
    op = node.op
    x = node.inputs[0]
    inner = x.owner
    if inner is not None and isinstance(inner.op, DimShuffle):
        base = inner.inputs[0]
        order = tuple("x" if d == "x" else inner.op.new_order[d] for d in op.new_order)
        if order == tuple(range(base.type.ndim)):
            return [base]
        return [DimShuffle(base.type.ndim, order)(base)]
    if op.new_order == tuple(range(op.input_ndim)):
        return [x]
    return None


for _rw in (useless_second, dimshuffle_merge):
    register_rewrite(_rw, "canonicalize", "fast_compile", "useless" if _rw is useless_second else "dimshuffle")
register_rewrite(fill_sink, "canonicalize", "fill")
register_rewrite(upcast_constants, "canonicalize", "algebra")
register_rewrite(add_canonical, "canonicalize", "algebra")
register_rewrite(mul_canonical, "canonicalize", "algebra")
register_rewrite(switch_constant_condition, "canonicalize", "algebra")

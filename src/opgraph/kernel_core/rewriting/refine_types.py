"""Static types refined after a replacement: a node re-made on inputs known better.

A node's output types are fixed when it is built.  Rewrites later learn more about
its inputs: constant folding turns a split's sizes into a constant, a Scan re-built
with a constant ``n_steps`` has traces of static length.  The node's outputs keep the
old, vaguer types, and so does everything downstream; rules that need static shapes
(``incsubtensor_of_whole``: a gradient's zeros plus a set_subtensor over the whole
array) then never fire.  The driver re-makes such a node on its current inputs and,
when the new outputs are strictly more specific, puts them in place (each client is
then revisited, so the refinement travels down the graph).

Only nodes that an input change may have refined are tried: an input replaced by a
variable of another type, or by an integer constant (a size, a bound, a step count;
the rewriting driver's worklist marks them), so a graph whose shapes never change
costs nothing here.
"""

from __future__ import annotations

from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.tensor.type import TensorType

RULE = "refine_static_shapes"


def may_refine(old, new):
    """Whether replacing input ``old`` by ``new`` may make its client's outputs more specific."""
    if old.type != new.type:
        return True
    return (isinstance(new, Constant) and not isinstance(old, Constant)
            and getattr(new.type, "dtype", "")[:1] in ("i", "u"))


def _more_specific(old, new):
    """``new``'s type says at least as much as ``old``'s and nothing against it.

    A dimension that becomes statically 1 is refused (as ``compatible_replacement``
    does): a length-1 axis that was not declared broadcastable is a run-time error
    against a longer one, and a static 1 would silently broadcast it instead."""
    ot, nt = old.type, new.type
    if ot == nt:
        return True
    if not (isinstance(ot, TensorType) and isinstance(nt, TensorType)) or not ot.is_super(nt):
        return False
    return all(o is not None or n != 1 for o, n in zip(ot.shape, nt.shape))


def refined_outputs(node):
    """[(old output, new output)] of ``node`` re-made on its inputs, or None when
    re-making it tells nothing new (or fails: the node stays as it was)."""
    try:
        new_node = node.op.make_node(*node.inputs)
    except Exception:   # e.g. a check that now sees a static contradiction: leave it to run time
        return None
    if len(new_node.outputs) != len(node.outputs) or any(
            a is not b for a, b in zip(new_node.inputs, node.inputs)):
        return None
    pairs = list(zip(node.outputs, new_node.outputs))
    if not all(_more_specific(o, n) for o, n in pairs) or all(o.type == n.type for o, n in pairs):
        return None
    for o, n in pairs:
        n.name = o.name
    return pairs


__all__ = ["RULE", "may_refine", "refined_outputs"]

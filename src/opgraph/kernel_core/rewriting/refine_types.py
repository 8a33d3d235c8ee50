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

RULE = "refine_static_shapes"


def may_refine(old, new):
    """Whether replacing input ``old`` by ``new`` may make its client's outputs more specific."""
    if old.type != new.type:
        return True
    return (isinstance(new, Constant) and not isinstance(old, Constant)
            and getattr(new.type, "dtype", "")[:1] in ("i", "u"))


def _more_specific(old, new):
    """``new`` can stand for ``old`` as it is and says at least as much: the driver's own
    test (``compatible_replacement``), minus the replacements it would wrap in a
    SpecifyShape (a vaguer ``new``).  It refuses a dimension that becomes statically 1: a
    length-1 axis that was not declared broadcastable is a run-time error against a
    longer one, and a static 1 would silently broadcast it instead."""
    from opgraph.kernel_core.rewriting.driver import compatible_replacement

    return compatible_replacement(old, new) is new


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

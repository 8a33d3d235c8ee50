"""Inplace: let elementwise outputs reuse an input buffer instead of allocating.

Allocation (and the page faults of touching fresh memory) is a large part of
memory-bound elementwise work, so the last rewrite phase turns
``Elemwise(op)`` into ``Elemwise(op, inplace_pattern={o: i})`` (dprint:
``d={0: [0]}``) whenever the ``DestroyHandler`` says input ``i`` may be
overwritten: same type as the output, nothing else reads that memory, and it
is not an array the caller passed (unless declared mutable) or a constant.
Registered as the graph rewriter ``elemwise_inplace`` under ``inplace``.

``incsubtensor_inplace`` does the same for scatters (``IncSubtensor``,
``AdvancedIncSubtensor1``, ``AdvancedIncSubtensor``; dprint: ``{inplace}``): a
gradient's ``zeros[idx] += g`` writes into its zeros instead of copying them first.
"""

from __future__ import annotations

from opgraph.kernel_core.graph.destroyhandler import DestroyHandler
from opgraph.kernel_core.graph.fgraph import InconsistencyError
from opgraph.kernel_core.rewriting.db import graph_rewriter, register_rewrite
from opgraph.kernel_core.tensor.elemwise import Elemwise
from opgraph.kernel_core.tensor.subtensor import AdvancedIncSubtensor, AdvancedIncSubtensor1, IncSubtensor

_SCATTERS = (IncSubtensor, AdvancedIncSubtensor1, AdvancedIncSubtensor)


def destroy_handler_of(fgraph):
    handler = fgraph.get_feature(DestroyHandler)
    if handler is None:
        handler = DestroyHandler()
        fgraph.attach_feature(handler)
    return handler


@graph_rewriter(name="elemwise_inplace")
def elemwise_inplace(fgraph):
    """Make Elemwise nodes write into an input buffer when that is safe."""
    handler = destroy_handler_of(fgraph)
    for node in fgraph.toposort():
        op = node.op
        if not isinstance(op, Elemwise) or op.inplace_pattern or node not in fgraph.apply_nodes:
            continue
        pattern, used = {}, set()
        for o, out in enumerate(node.outputs):
            for i, inp in enumerate(node.inputs):
                if i in used or inp.type != out.type:
                    continue
                if handler.can_destroy(fgraph, node, i):
                    pattern[o] = i
                    used.add(i)
                    break
        if not pattern:
            continue
        new_node = Elemwise(op.scalar_op, pattern, name=op.name).make_node(*node.inputs)
        # Undone if another feature (the compile Supervisor) refuses it.
        _replace_checked(fgraph, node, new_node, "elemwise_inplace")


def _replace_checked(fgraph, node, new_node, reason):
    """Replace ``node``'s outputs by ``new_node``'s, undone if a feature refuses it."""
    pairs = []
    for old, new in zip(node.outputs, new_node.outputs):
        new.name = old.name
        new.tag.update(old.tag)
        pairs.append((old, new))
    fgraph.replace_all(pairs, reason=reason)
    try:
        fgraph.validate()
    except InconsistencyError:
        fgraph.replace_all([(new, old) for old, new in pairs], reason=reason)


def _inplace_scatter(op):
    """The inplace twin of a scatter op."""
    if isinstance(op, AdvancedIncSubtensor1):
        return AdvancedIncSubtensor1(True, op.set_instead_of_inc)
    return type(op)(op.idx_list, True, op.set_instead_of_inc)


def destroy_first_input_where_safe(fgraph, op_classes, inplace_twin, reason):
    """Replace each node of ``op_classes`` (not inplace yet) by ``inplace_twin(op)``, which
    overwrites its first input, where the DestroyHandler allows it."""
    handler = destroy_handler_of(fgraph)
    for node in fgraph.toposort():
        op = node.op
        if not isinstance(op, op_classes) or op.inplace or node not in fgraph.apply_nodes:
            continue
        if node.inputs[0].type != node.outputs[0].type or not handler.can_destroy(fgraph, node, 0):
            continue
        _replace_checked(fgraph, node, inplace_twin(op).make_node(*node.inputs), reason)


@graph_rewriter(name="incsubtensor_inplace")
def incsubtensor_inplace(fgraph):
    """Make scatters write into their ``x`` when nothing else reads it."""
    destroy_first_input_where_safe(fgraph, _SCATTERS, _inplace_scatter, "incsubtensor_inplace")


register_rewrite(elemwise_inplace, "inplace", "fast_run", name="elemwise_inplace")
register_rewrite(incsubtensor_inplace, "inplace", "fast_run", name="incsubtensor_inplace")

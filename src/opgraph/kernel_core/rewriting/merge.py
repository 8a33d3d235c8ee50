"""Merge: common-subexpression elimination, run on every node the driver visits.

Two constants with the same type and value become one variable; two nodes
applying equal ops to the very same inputs become one node.  A table keyed by
(op, inputs) finds the earlier twin in O(1), so merging costs linear time.
"""

from __future__ import annotations

from opgraph.kernel_core.graph.basic import Constant


class MergeTable:
    def __init__(self):
        self.constants = {}
        self.nodes = {}
        self._signatures = {}
        self._ops = {}
        self._op_ids = {}

    def _signature(self, const):
        sig = self._signatures.get(const)
        if sig is None:
            try:
                sig = const.signature()
                hash(sig)
            except TypeError:  # unhashable data: never merged
                sig = ("unmergeable", id(const))
            self._signatures[const] = sig
        return sig

    def canonical_constant(self, const):
        return self.constants.setdefault(self._signature(const), const)

    def merge_node(self, fgraph, node):
        """Unify the node's constant inputs; return [(output, twin output)] when a twin exists."""
        for i, inp in enumerate(node.inputs):
            if isinstance(inp, Constant):
                canon = self.canonical_constant(inp)
                if canon is not inp and canon.type == inp.type:
                    fgraph.change_node_input(node, i, canon, reason="merge")
        if node.op.destroy_map:
            return None  # an op overwriting its input must keep its own copy
        op_id = self._op_ids.get(id(node.op))
        if op_id is None:
            try:
                canon = self._ops.setdefault(node.op, node.op)  # hash the op's props once
            except TypeError:  # op with unhashable props
                return None
            # Keep the op alive so its id is never reused for another op.
            self._op_ids[id(node.op)] = op_id = (id(canon), node.op)
        key = (op_id[0], *map(id, node.inputs))
        other = self.nodes.get(key)
        if (other is None or other is node or other not in fgraph.apply_nodes
                or len(other.inputs) != len(node.inputs)
                or any(a is not b for a, b in zip(other.inputs, node.inputs))):
            self.nodes[key] = node
            return None
        return list(zip(node.outputs, other.outputs))

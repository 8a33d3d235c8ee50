"""Blockwise rules: a Blockwise whose inputs have no batch dimensions is its core op.

``z[None, :] @ z[:, None]`` builds ``Blockwise{dot, (m,k),(k,n)->(m,n)}`` on
two matrices: nothing is batched, so the node is replaced by ``dot`` itself
(what PyTensor's compiled graphs show, and what backends implement directly).
"""

from __future__ import annotations

from opgraph.kernel_core.rewriting.db import node_rewriter, register_rewrite
from opgraph.kernel_core.rewriting.driver import compatible_replacement
from opgraph.kernel_core.tensor.blockwise import Blockwise

__all__ = ["local_useless_blockwise"]


@node_rewriter([Blockwise], name="local_useless_blockwise")
def local_useless_blockwise(fgraph, node):
    op = node.op
    if any(v.type.ndim != len(sig) for v, sig in zip(node.inputs, op.inputs_sig)):
        return None
    try:
        core_outputs = op.core_op.make_node(*node.inputs).outputs
    except (TypeError, ValueError):
        return None  # the core op refuses these inputs as they are: keep the Blockwise
    replacements = []
    for old, new in zip(node.outputs, core_outputs):
        new = compatible_replacement(old, new)
        if new is None:
            return None
        replacements.append(new)
    return replacements


register_rewrite(local_useless_blockwise, "canonicalize", "specialize", "blockwise")

"""``inline_ofg``: an OpFromGraph built with ``inline=True`` is replaced by its inner
graph (on the node's inputs) before the other rewrites, so they work across it.

Registered in every algebraic phase (it runs in the first one selected) and in
fast_compile: ``inline=True`` means the Op never reaches a backend, whatever the mode.
"""

from __future__ import annotations

from opgraph.kernel_core.compile.builders import OpFromGraph
from opgraph.kernel_core.graph.replace import graph_replace
from opgraph.kernel_core.rewriting.db import node_rewriter, register_rewrite


@node_rewriter([OpFromGraph], name="inline_ofg")
def inline_ofg(fgraph, node):
    op = node.op
    if not op.is_inline:
        return None
    inner_inputs, inner_outputs = op.inner_graphs()
    return graph_replace(list(inner_outputs), dict(zip(inner_inputs, node.inputs)), strict=False)


register_rewrite(inline_ofg, "canonicalize", "stabilize", "specialize", "fast_compile", "inline_ofg")

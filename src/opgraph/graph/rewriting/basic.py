"""PyTensor's module path for the rewriter decorators."""

from opgraph.kernel_core.rewriting.db import GraphRewriter, NodeRewriter, graph_rewriter, node_rewriter  # noqa: F401

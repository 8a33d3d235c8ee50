"""``opgraph.graph.replace``: functional graph replacement and vectorization."""

from opgraph.kernel_core.graph.replace import clone_replace, graph_replace, vectorize_graph  # noqa: F401

__all__ = ["graph_replace", "clone_replace", "vectorize_graph"]

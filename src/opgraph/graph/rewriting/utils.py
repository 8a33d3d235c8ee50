"""PyTensor's module path for ``rewrite_graph``."""

from opgraph.kernel_core.rewriting.api import rewrite_graph  # noqa: F401

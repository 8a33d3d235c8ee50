"""``opgraph.graph.rewriting.utils``: ``rewrite_graph``."""

from opgraph._pytensor_api import missing_names
from opgraph.kernel_core.rewriting.api import rewrite_graph

__all__ = ["rewrite_graph"]
__getattr__ = missing_names(__name__)

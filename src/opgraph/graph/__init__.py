"""``opgraph.graph`` (PyTensor's ``pytensor.graph``): graph structures, traversal,
replacement and rewriting, re-exported from the engine."""

from opgraph._pytensor_api import missing_names
from opgraph.kernel_core.graph.basic import Apply, Constant, Variable  # noqa: F401
from opgraph.kernel_core.graph.fgraph import FunctionGraph  # noqa: F401
from opgraph.kernel_core.graph.op import Op  # noqa: F401
from opgraph.kernel_core.graph.replace import clone_replace, graph_replace, vectorize_graph  # noqa: F401
from opgraph.kernel_core.graph.type import Type  # noqa: F401
from opgraph.kernel_core.graph.traversal import *  # noqa: F401,F403
from opgraph.kernel_core.graph import traversal as _traversal
from opgraph.kernel_core.rewriting.api import rewrite_graph  # noqa: F401

__all__ = ["Apply", "Constant", "Variable", "FunctionGraph", "Op", "Type", "clone_replace", "graph_replace",
           "vectorize_graph", "rewrite_graph", *_traversal.__all__]
__getattr__ = missing_names(__name__)

"""``opgraph.graph``: graph structures, traversal and rewriting."""

from opgraph.kernel_core.graph.basic import Apply, Constant, Variable  # noqa: F401
from opgraph.kernel_core.graph.op import Op  # noqa: F401
from opgraph.kernel_core.graph.type import Type  # noqa: F401
from opgraph.kernel_core.graph.traversal import (  # noqa: F401
    ancestors, applys_between, clone, clone_get_equiv, equal_computations, explicit_graph_inputs,
    graph_inputs, io_toposort, toposort, variables_between,
)

try:  # the rewrite system lands in its own module
    from opgraph.kernel_core.graph.fgraph import FunctionGraph  # noqa: F401
    from opgraph.kernel_core.rewriting.api import rewrite_graph  # noqa: F401
except ImportError:  # pragma: no cover - during bring-up only
    pass

"""``opgraph.graph.rewriting.basic``: PyTensor's rewriter classes and decorators.

A re-export of the engine: the classes wrap opgraph's own database and driver
(``opgraph.kernel_core.rewriting``)."""

from opgraph._pytensor_api import missing_names
from opgraph.kernel_core.rewriting.db import GraphRewriter, NodeRewriter, graph_rewriter, node_rewriter
from opgraph.kernel_core.rewriting.pattern import PatternNodeRewriter
from opgraph.kernel_core.rewriting.rewriters import (
    EquilibriumGraphRewriter, MergeOptimizer, RemovalNodeRewriter, SequentialGraphRewriter,
    SequentialNodeRewriter, SubstitutionNodeRewriter, WalkingGraphRewriter, copy_stack_trace, in2out, out2in,
)

__all__ = ["GraphRewriter", "NodeRewriter", "graph_rewriter", "node_rewriter", "PatternNodeRewriter",
           "EquilibriumGraphRewriter", "MergeOptimizer", "RemovalNodeRewriter", "SequentialGraphRewriter",
           "SequentialNodeRewriter", "SubstitutionNodeRewriter", "WalkingGraphRewriter", "copy_stack_trace", "in2out",
           "out2in"]
__getattr__ = missing_names(__name__)

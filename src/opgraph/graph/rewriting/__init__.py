"""``opgraph.graph.rewriting``: write, register and run graph rewrites (re-exports)."""

from opgraph.kernel_core.rewriting.api import known_tags, rewrite_fgraph, rewrite_graph  # noqa: F401
from opgraph.kernel_core.rewriting.db import (  # noqa: F401
    GraphRewriter, NodeRewriter, graph_rewriter, node_rewriter, register_rewrite, rewrite_db,
)
from opgraph.kernel_core.rewriting.history import RewriteHistory, RewriteRecord  # noqa: F401
from opgraph.kernel_core.rewriting.pattern import P, PatternRule, pattern_rule, register_table  # noqa: F401
from opgraph.graph.rewriting import basic, db, utils  # noqa: F401,E402

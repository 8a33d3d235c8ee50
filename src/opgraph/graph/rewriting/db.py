"""``opgraph.graph.rewriting.db``: PyTensor's rewrite databases, as views of opgraph's tag database."""

from opgraph._pytensor_api import missing_names
from opgraph.kernel_core.rewriting.db import RewriteDatabase, register_rewrite, rewrite_db
from opgraph.kernel_core.rewriting.optdb import EquilibriumDB, RewriteDatabaseQuery, SequenceDB

__all__ = ["RewriteDatabase", "RewriteDatabaseQuery", "EquilibriumDB", "SequenceDB", "register_rewrite",
           "rewrite_db"]
__getattr__ = missing_names(__name__)

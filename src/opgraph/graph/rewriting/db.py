"""PyTensor's module path for the rewrite database."""

from opgraph.kernel_core.rewriting.db import RewriteDatabase, register_rewrite, rewrite_db  # noqa: F401

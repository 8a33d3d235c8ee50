"""``opgraph.tensor.rewriting.math``: opgraph's algebraic rule objects (NodeRewriters), by their
opgraph names.  The table rules (``log1p``, ``softplus``, ...) are entries of the rewrite
database: ``opgraph.graph.rewriting.rewrite_db["log1p"].rewrite``."""

from opgraph._pytensor_api import missing_names
from opgraph.kernel_core.rewriting.canonicalize import (
    add_canonical, dimshuffle_merge, fill_sink, mul_canonical, switch_constant_condition, upcast_constants,
    useless_second,
)
from opgraph.kernel_core.rewriting.reduction import sum_of_fill
from opgraph.kernel_core.rewriting.stabilize import logsumexp_stable

__all__ = ["add_canonical", "dimshuffle_merge", "fill_sink", "mul_canonical", "switch_constant_condition",
           "upcast_constants", "useless_second", "sum_of_fill", "logsumexp_stable"]
__getattr__ = missing_names(__name__)

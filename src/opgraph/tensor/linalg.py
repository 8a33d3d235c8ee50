"""``pt.linalg``: linear algebra (det, inv, solve, cholesky, ...)."""

from opgraph.kernel_core.tensor.linalg import *  # noqa: F401,F403

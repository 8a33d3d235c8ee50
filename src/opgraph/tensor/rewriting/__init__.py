"""``opgraph.tensor.rewriting``: PyTensor's module path for the tensor rewrites."""

from opgraph.tensor.rewriting import basic, math  # noqa: F401

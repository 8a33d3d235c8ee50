"""``opgraph.ifelse``: lazy conditionals (PyTensor's ``pytensor.ifelse``), re-exported from the engine."""

from opgraph.kernel_core.ifelse import IfElse, ifelse  # noqa: F401

__all__ = ["IfElse", "ifelse"]

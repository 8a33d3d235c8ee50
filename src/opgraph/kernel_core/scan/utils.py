"""``until(condition)``: what a step function returns to make scan a while loop.

    def step(x):
        y = x * 2
        return y, until(y > 100)     # stop after the first step where y > 100
"""

from __future__ import annotations

__all__ = ["until"]


class until:
    """The stop condition of a while loop: the step where it is true is the last one."""

    def __init__(self, condition):
        from opgraph.kernel_core.tensor.basic import as_tensor_variable

        condition = as_tensor_variable(condition)
        if condition.type.ndim != 0:
            raise TypeError(f"until: the condition must be a scalar, got {condition.type.short_str()}")
        self.condition = condition

    def __repr__(self):
        return f"until({self.condition})"

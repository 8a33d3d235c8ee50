"""The gradient markers (consider_constant, zero_grad, disconnected_grad, grad_clip,
grad_scale) are identities in the forward pass: a view of the input, as their
``view_map`` declares (and as PYTHON mode's ``perform`` returns)."""

from __future__ import annotations

from opgraph.kernel_core.backends.numba.dispatch import numba_funcify
from opgraph.kernel_core.gradient import GradientMarker


@numba_funcify.register(GradientMarker)
def _funcify_gradient_marker(op, node, ctx):
    return ctx.define("def {name}(x):\n    return x\n", prefix="gradient_marker")

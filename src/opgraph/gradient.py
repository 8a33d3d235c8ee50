"""``opgraph.gradient``: symbolic differentiation (PyTensor's ``pytensor.gradient``)."""

from opgraph.kernel_core.gradient import (  # noqa: F401
    ConsiderConstant, DisconnectedInputError, GradientError, Lop, Rop, consider_constant, grad, hessian,
    jacobian, verify_grad,
)

__all__ = ["grad", "jacobian", "hessian", "Lop", "Rop", "verify_grad", "consider_constant",
           "DisconnectedInputError", "GradientError"]

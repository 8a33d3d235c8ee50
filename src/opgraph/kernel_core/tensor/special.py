"""Special functions PyTensor keeps in ``pytensor.tensor.special``, written as graphs of
existing ops (so gradients, vectorization and both backends come for free).

``softmax`` / ``log_softmax`` are the numerically stable forms (the max is
subtracted first); dedicated ops with their own pullbacks can replace these
builders later without changing a caller.
"""

from __future__ import annotations

from opgraph.kernel_core.tensor import math as tm
from opgraph.kernel_core.tensor import reduction as tr
from opgraph.kernel_core.tensor.basic import as_tensor_variable

__all__ = ["softmax", "log_softmax", "logit", "betaln", "beta", "poch", "factorial"]


def softmax(c, axis=None):
    """``exp(c) / sum(exp(c), axis)``, computed as ``exp(c - max(c))`` so it never overflows."""
    c = as_tensor_variable(c)
    shifted = c - tr.max(c, axis=axis, keepdims=True)
    e = tm.exp(shifted)
    return e / tr.sum(e, axis=axis, keepdims=True)


def log_softmax(c, axis=None):
    """``log(softmax(c, axis))`` without forming the softmax (stable for large ``|c|``)."""
    c = as_tensor_variable(c)
    shifted = c - tr.max(c, axis=axis, keepdims=True)
    return shifted - tm.log(tr.sum(tm.exp(shifted), axis=axis, keepdims=True))


def logit(x):
    """``log(x / (1 - x))``, the inverse of ``sigmoid`` (``expit``)."""
    x = as_tensor_variable(x)
    return tm.log(x / (1 - x))


def betaln(a, b):
    """``log(B(a, b)) = gammaln(a) + gammaln(b) - gammaln(a + b)``."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    return tm.gammaln(a) + tm.gammaln(b) - tm.gammaln(a + b)


def beta(a, b):
    """The beta function ``B(a, b) = exp(betaln(a, b))``."""
    return tm.exp(betaln(a, b))


def poch(z, m):
    """The Pochhammer symbol ``(z)_m = gamma(z + m) / gamma(z)``."""
    z, m = as_tensor_variable(z), as_tensor_variable(m)
    return tm.gamma(z + m) / tm.gamma(z)


def factorial(n):
    """``n! = gamma(n + 1)`` (floating point, as PyTensor's)."""
    return tm.gamma(as_tensor_variable(n) + 1)

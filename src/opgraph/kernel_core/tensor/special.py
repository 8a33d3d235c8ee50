"""Special functions PyTensor keeps in ``pytensor.tensor.special``.

``Softmax`` / ``LogSoftmax`` are ops (one pass over each slice in Numba, pullbacks
without re-forming the softmax); the stabilize rule ``log(softmax(x)) ->
log_softmax(x)`` lives in ``rewriting/special.py``.  The elementwise functions
are Elemwise of scalar ops (``scalar/basic.py``, ``scalar/special.py``), and the
rest (``logit``, ``betaln``, ...) are graphs of existing ops, so gradients,
vectorization and both backends come for free.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Apply
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.scalar import special as ps_special
from opgraph.kernel_core.scalar.basic import upgrade_to_float
from opgraph.kernel_core.tensor import math as tm
from opgraph.kernel_core.tensor import reduction as tr
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.elemwise import Elemwise
from opgraph.kernel_core.tensor.type import TensorType

__all__ = ["softmax", "log_softmax", "Softmax", "LogSoftmax", "logit", "expit", "betaln", "beta", "poch",
           "factorial", "gammaln", "digamma", "psi", "polygamma", "tri_gamma", "xlogx", "xlogy0", "erfcx",
           "log_ndtr"]


class _SliceOp(Op):
    """Base of the ops normalising along one axis (``None``: over all elements)."""

    __props__ = ("axis",)
    _name = ""

    def __init__(self, axis=None):
        self.axis = None if axis is None else int(axis)

    def __str__(self):
        return f"{type(self).__name__}{{axis={self.axis}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.type.dtype.startswith("complex"):
            raise TypeError(f"{self._name}: {x} is complex ({x.type.dtype}); only real inputs are supported")
        if self.axis is not None and not 0 <= self.axis < x.type.ndim:
            raise ValueError(f"{self._name}: axis {self.axis} is out of bounds for {x} with ndim={x.type.ndim}")
        (dtype,) = upgrade_to_float(x.type.dtype)
        return Apply(self, [x], [TensorType(dtype, x.type.shape).make_variable()])

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def _shifted(self, x, dtype):
        x = np.asarray(x, dtype=dtype)
        # initial=-inf: an empty slice stays empty instead of raising.
        return x - np.max(x, axis=self.axis, keepdims=True, initial=-np.inf)


class Softmax(_SliceOp):
    """``exp(x) / sum(exp(x), axis)``, computed as ``exp(x - max(x))`` (never overflows)."""

    _name = "softmax"

    def perform(self, node, inputs, output_storage):
        with np.errstate(invalid="ignore"):
            e = np.exp(self._shifted(inputs[0], node.outputs[0].type.dtype))
            output_storage[0][0] = e / np.sum(e, axis=self.axis, keepdims=True)

    def L_op(self, inputs, outputs, output_grads):
        # J^T g = y * (g - sum(g * y)) along the axis: no n x n Jacobian.
        (y,) = outputs
        g = as_tensor_variable(output_grads[0])
        return [y * (g - tr.sum(g * y, axis=self.axis, keepdims=True))]


class LogSoftmax(_SliceOp):
    """``x - max(x) - log(sum(exp(x - max(x)), axis))``: finite where ``log(softmax(x))`` is -inf."""

    _name = "log_softmax"

    def perform(self, node, inputs, output_storage):
        with np.errstate(invalid="ignore", divide="ignore"):
            s = self._shifted(inputs[0], node.outputs[0].type.dtype)
            output_storage[0][0] = s - np.log(np.sum(np.exp(s), axis=self.axis, keepdims=True))

    def L_op(self, inputs, outputs, output_grads):
        (y,) = outputs
        g = as_tensor_variable(output_grads[0])
        return [g - tm.exp(y) * tr.sum(g, axis=self.axis, keepdims=True)]


def _axis(x, axis, name):
    if axis is None:
        return None
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be an int or None, got {axis!r}")
    nd = x.type.ndim
    if not -nd <= axis < nd:
        raise ValueError(f"{name}: axis {axis} is out of bounds for {x} with ndim={nd}")
    return int(axis) % nd


def softmax(c, axis=None):
    """The softmax of ``c`` along ``axis`` (None: over all elements, as PyTensor)."""
    c = as_tensor_variable(c)
    return Softmax(_axis(c, axis, "softmax"))(c)


def log_softmax(c, axis=None):
    """``log(softmax(c, axis))`` without forming the softmax (stable for large ``|c|``)."""
    c = as_tensor_variable(c)
    return LogSoftmax(_axis(c, axis, "log_softmax"))(c)


# Elementwise special functions (Elemwise of scalar ops).
polygamma = Elemwise(ps_special.polygamma)
xlogx = Elemwise(ps_special.xlogx)
xlogy0 = Elemwise(ps_special.xlogy0)
log_ndtr = Elemwise(ps_special.log_ndtr)
expit = tm.sigmoid
gammaln = tm.gammaln
digamma = psi = tm.psi
tri_gamma = tm.tri_gamma
erfcx = tm.erfcx


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

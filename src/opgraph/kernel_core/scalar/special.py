"""Scalar special functions of ``pt.special`` that the core vocabulary lacks:
``polygamma(n, x)``, ``xlogx``, ``xlogy0`` and the stable normal log-cdf ``log_ndtr``.

Kept apart from ``scalar/basic.py`` (the elementwise core) because they exist for
``pt.special``; they are ordinary scalar ops (Elemwise, fusion and the Numba
kernels in ``backends/numba/scalar_kernels.py`` treat them like any other).
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.scalar.basic import (
    BinaryScalarOp, FloatBinaryOp, FloatUnaryOp, _real_only, _special, _tm, upgrade_to_float,
)
from opgraph.kernel_core.scalar.type import DISCRETE_DTYPES


def _polygamma_dtypes(n_dtype, x_dtype):
    if n_dtype not in DISCRETE_DTYPES or n_dtype == "bool":
        raise TypeError(f"polygamma: the order n must be an integer, got dtype {n_dtype}")
    return upgrade_to_float(x_dtype)


class Polygamma(BinaryScalarOp):
    """The n-th derivative of the digamma function: ``polygamma(0, x) = psi(x)``."""

    output_dtypes = _real_only(_polygamma_dtypes)

    def impl(self, n, x):
        (dtype,) = self.output_dtypes(np.asarray(n).dtype.name, np.asarray(x).dtype.name)
        return _special("polygamma")(n, np.asarray(x, dtype=dtype))

    def pullback(self, inputs, outputs, output_grads):
        n, x = inputs
        return [None, output_grads[0] * polygamma_fn()(n + 1, x)]


def _xlogx(x):
    x = np.asarray(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, np.zeros_like(x), x * np.log(x))


class Xlogx(FloatUnaryOp):
    """``x * log(x)``, with the limit 0 at ``x = 0``."""

    output_dtypes = _real_only(upgrade_to_float)
    nfunc = staticmethod(_xlogx)

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] * (1 + _tm().log(inputs[0]))]


def _xlogy0(x, y):
    x, y = np.broadcast_arrays(np.asarray(x), np.asarray(y))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, np.zeros(x.shape, np.result_type(x, y)), x * np.log(y))


class Xlogy0(FloatBinaryOp):
    """``x * log(y)``, 0 wherever ``x == 0`` (also at ``y = 0``)."""

    output_dtypes = _real_only(upgrade_to_float)
    nfunc = staticmethod(_xlogy0)

    def pullback(self, inputs, outputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        return [gz * _tm().log(y), gz * x / y]


class Log_ndtr(FloatUnaryOp):
    """``log(Phi(x))``, the log of the standard normal cdf, accurate far in both tails
    (``log(ndtr(-40))`` underflows to ``-inf``; this is -804.6)."""

    output_dtypes = _real_only(upgrade_to_float)
    nfunc = staticmethod(_special("log_ndtr"))

    def pullback(self, inputs, outputs, output_grads):
        # d/dx log Phi(x) = phi(x) / Phi(x) = exp(-x^2/2 - log Phi(x)) / sqrt(2 pi):
        # the exponent stays moderate in the left tail (about log(-x)), so no 0/0.
        x = inputs[0]
        tm = _tm()
        return [output_grads[0] * tm.exp(-0.5 * x * x - outputs[0]) * (1.0 / np.sqrt(2.0 * np.pi))]


def polygamma_fn():
    # The tensor function (the pullback is a tensor graph); imported late (cycle).
    from opgraph.kernel_core.tensor.special import polygamma

    return polygamma


polygamma, xlogx, xlogy0, log_ndtr = Polygamma(), Xlogx(), Xlogy0(), Log_ndtr()

__all__ = ["Polygamma", "Xlogx", "Xlogy0", "Log_ndtr", "polygamma", "xlogx", "xlogy0", "log_ndtr"]

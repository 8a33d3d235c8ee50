"""Scalar special functions the distributions' CDFs and quantiles need:

- ``gammainc(a, x)`` / ``gammaincc(a, x)``: the regularized lower / upper incomplete
  gamma functions P(a, x) and Q(a, x) = 1 - P(a, x) (CDFs of gamma, chi-square, poisson);
- ``betainc(a, b, x)``: the regularized incomplete beta function I_x(a, b) (CDFs of beta,
  student t, binomial);
- ``ndtri(q)``: the standard normal quantile (Phi^-1), accurate for tiny q where
  ``erfinv(2 q - 1)`` has lost every digit to the subtraction;
- ``i0``, ``i1`` and the exponentially scaled ``i0e = exp(-|x|) i0``, ``i1e``: modified
  Bessel functions of the first kind (the von Mises normalizer).

PyTensor's names.  The Python mode calls ``scipy.special``; the Numba kernels call the
same SciPy C implementations (``backends/numba/scipy_special.py``), so both modes agree
to the last bit.  Gradients in ``x`` are closed forms; in the shape parameters
(``a``, ``b``) they are series opgraph does not build: ``grad_not_implemented``, which
only raises when such a gradient is asked for.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.scalar.basic import (
    FloatBinaryOp, FloatUnaryOp, ScalarOp, _as_float_args, _real_only, _special, _tm, upgrade_to_float,
)

__all__ = ["GammaInc", "GammaIncC", "BetaInc", "Ndtri", "I0", "I0e", "I1", "I1e",
           "gammainc", "gammaincc", "betainc", "ndtri", "i0", "i0e", "i1", "i1e"]


def _not_implemented(op, pos, x, what):
    from opgraph.kernel_core.gradient import grad_not_implemented

    return grad_not_implemented(op, pos, x, f"the derivative of {op.name} with respect to its shape "
                                f"parameter {what} (a series) is not implemented")


def _gammainc_dx(a, x):
    # d/dx P(a, x) = x^(a-1) e^-x / Gamma(a), in log space (no overflow for large a, x).
    tm = _tm()
    return tm.exp((a - 1.0) * tm.log(x) - x - tm.gammaln(a))


class GammaInc(FloatBinaryOp):
    """The regularized lower incomplete gamma function ``P(a, x)``."""

    output_dtypes = _real_only(upgrade_to_float)
    nfunc = staticmethod(_special("gammainc"))

    def pullback(self, inputs, outputs, output_grads):
        a, x = inputs
        return [_not_implemented(self, 0, a, "a"), output_grads[0] * _gammainc_dx(a, x)]


class GammaIncC(FloatBinaryOp):
    """The regularized upper incomplete gamma function ``Q(a, x) = 1 - P(a, x)``."""

    output_dtypes = _real_only(upgrade_to_float)
    nfunc = staticmethod(_special("gammaincc"))

    def pullback(self, inputs, outputs, output_grads):
        a, x = inputs
        return [_not_implemented(self, 0, a, "a"), -output_grads[0] * _gammainc_dx(a, x)]


class BetaInc(ScalarOp):
    """The regularized incomplete beta function ``I_x(a, b)``."""

    nin = 3
    output_dtypes = _real_only(upgrade_to_float)
    nfunc = staticmethod(_special("betainc"))

    def impl(self, *args):
        return self.nfunc(*_as_float_args(self, args))

    def pullback(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.special import betaln

        a, b, x = inputs
        tm = _tm()
        dx = tm.exp((a - 1.0) * tm.log(x) + (b - 1.0) * tm.log1p(-x) - betaln(a, b))
        return [_not_implemented(self, 0, a, "a"), _not_implemented(self, 1, b, "b"), output_grads[0] * dx]


class Ndtri(FloatUnaryOp):
    """The standard normal quantile function ``Phi^-1(q)``."""

    output_dtypes = _real_only(upgrade_to_float)
    nfunc = staticmethod(_special("ndtri"))

    def pullback(self, inputs, outputs, output_grads):
        # d/dq Phi^-1(q) = 1 / phi(Phi^-1(q)) = sqrt(2 pi) exp(z^2 / 2).
        tm = _tm()
        return [output_grads[0] * np.sqrt(2.0 * np.pi) * tm.exp(0.5 * tm.sqr(outputs[0]))]


class I0(FloatUnaryOp):
    """The modified Bessel function of the first kind, order 0."""

    output_dtypes = _real_only(upgrade_to_float)
    nfunc = staticmethod(_special("i0"))

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] * i1_fn()(inputs[0])]


class I0e(FloatUnaryOp):
    """``exp(-|x|) i0(x)``: finite where ``i0`` overflows (x > 713)."""

    output_dtypes = _real_only(upgrade_to_float)
    nfunc = staticmethod(_special("i0e"))

    def pullback(self, inputs, outputs, output_grads):
        x = inputs[0]
        tm = _tm()
        return [output_grads[0] * (i1e_fn()(x) - tm.sign(x) * outputs[0])]


def _i1_over_x_limit(x, i1_of_x):
    # i1(x) / x -> 1/2 at x = 0 (the derivative of i1 is i0 - i1 / x).
    tm = _tm()
    zero = tm.eq(x, 0.0)
    return tm.switch(zero, 0.5, i1_of_x / tm.switch(zero, 1.0, x))


class I1(FloatUnaryOp):
    """The modified Bessel function of the first kind, order 1."""

    output_dtypes = _real_only(upgrade_to_float)
    nfunc = staticmethod(_special("i1"))

    def pullback(self, inputs, outputs, output_grads):
        x = inputs[0]
        tm = _tm()
        zero = tm.eq(x, 0.0)
        return [output_grads[0] * tm.switch(zero, 0.5, i0_fn()(x) - _i1_over_x_limit(x, outputs[0]))]


class I1e(FloatUnaryOp):
    """``exp(-|x|) i1(x)``."""

    output_dtypes = _real_only(upgrade_to_float)
    nfunc = staticmethod(_special("i1e"))

    def pullback(self, inputs, outputs, output_grads):
        x = inputs[0]
        tm = _tm()
        zero = tm.eq(x, 0.0)
        d = i0e_fn()(x) - _i1_over_x_limit(x, outputs[0]) - tm.sign(x) * outputs[0]
        return [output_grads[0] * tm.switch(zero, 0.5, d)]


# The tensor functions (the pullbacks are tensor graphs); imported late (cycle).
def i0_fn():
    from opgraph.kernel_core.tensor.special_functions import i0 as fn

    return fn


def i0e_fn():
    from opgraph.kernel_core.tensor.special_functions import i0e as fn

    return fn


def i1_fn():
    from opgraph.kernel_core.tensor.special_functions import i1 as fn

    return fn


def i1e_fn():
    from opgraph.kernel_core.tensor.special_functions import i1e as fn

    return fn


gammainc, gammaincc, betainc, ndtri = GammaInc(), GammaIncC(), BetaInc(), Ndtri()
i0, i0e, i1, i1e = I0(), I0e(), I1(), I1e()

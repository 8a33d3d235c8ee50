"""Scalar special functions the distributions' CDFs and quantiles need:

- ``gammainc(a, x)`` / ``gammaincc(a, x)``: the regularized lower / upper incomplete
  gamma functions P(a, x) and Q(a, x) = 1 - P(a, x) (CDFs of gamma, chi-square, poisson);
- ``gammaincinv(a, y)`` / ``gammainccinv(a, y)``: their inverses in x (P(a, x) = y,
  Q(a, x) = y: the quantiles of gamma, chi-square, inverse gamma);
- ``betainc(a, b, x)``: the regularized incomplete beta function I_x(a, b) (CDFs of beta,
  student t, binomial), ``betaincinv(a, b, y)`` its inverse in x (quantiles of beta
  and student t) and ``betainccinv(a, b, y)`` the inverse of its complement, ``1 - I_x(a, b)
  = y`` (SciPy's; not a PyTensor name: the student t quantile near the center, where
  ``betaincinv(a, b, 1 - y)`` has lost a tiny y to the subtraction);
- ``pdtrik(q, lam)``, ``bdtrik(q, n, p)``, ``nbdtrik(q, n, p)``: SciPy's continuous inverses
  in k of the poisson, binomial and negative binomial CDFs (the discrete quantiles round
  them up and correct by one; not PyTensor names, not exported to ``pt``);
- ``ndtri(q)``: the standard normal quantile (Phi^-1), accurate for tiny q where
  ``erfinv(2 q - 1)`` has lost every digit to the subtraction;
- ``i0``, ``i1`` and the exponentially scaled ``i0e = exp(-|x|) i0``, ``i1e``: modified
  Bessel functions of the first kind (the von Mises normalizer).

PyTensor's names.  Each op is a short declaration on ``SciPyFunction``: the SciPy name,
the names of its shape parameters (the leading inputs) and the derivative in its last
input ``x``.  The Python mode calls ``scipy.special``; the Numba kernels call the same
SciPy C implementations (``backends/numba/scipy_special.py``), so both modes agree to
the last bit.  Gradients in ``x`` are closed forms (for an inverse ``x(y)``: ``1 /
f'(x(y))``, the inverse-function rule); in the shape parameters (``a``, ``b``) they are
series opgraph does not build: ``grad_not_implemented``, which only raises when such a
gradient is asked for.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.scalar.basic import (
    FloatBinaryOp, FloatUnaryOp, ScalarOp, _as_float_args, _real_only, _special, _tm, upgrade_to_float,
)

__all__ = ["GammaInc", "GammaIncC", "GammaIncInv", "GammaIncCInv", "BetaInc", "BetaIncInv", "BetaIncCInv",
           "Ndtri", "I0", "I0e", "I1", "I1e", "gammainc", "gammaincc", "gammaincinv", "gammainccinv", "betainc",
           "betaincinv", "betainccinv", "ndtri", "i0", "i0e", "i1", "i1e"]


class SciPyFunction:
    """Mixin of the ops here (listed before their ScalarOp base): ``scipy.special.<scipy>`` on
    float arguments (integers converted to the float output dtype first) computed in float64,
    float outputs.

    A subclass declares ``scipy`` (the SciPy name, a class keyword), ``nin`` (a class keyword,
    for a ternary op on ScalarOp), ``shape_params`` (the names of the inputs before the last:
    their gradients are not implemented) and ``d_dx(*inputs, out)``, the derivative in the
    last input.
    """

    output_dtypes = _real_only(upgrade_to_float)
    shape_params = ()

    def __init_subclass__(cls, scipy=None, nin=None, **kwargs):
        super().__init_subclass__(**kwargs)
        if scipy is not None:
            cls.nfunc = staticmethod(_special(scipy))
        if nin is not None:
            cls.nin = nin

    def impl(self, *args):
        # In float64, as the Numba kernels compute (SciPy's float32 loops of cdflib's functions
        # overflow near the float32 maximum where the float64 result rounds back to a finite one).
        wide = [a.astype("float64") if a.dtype.kind == "f" and a.dtype.itemsize < 8 else a
                for a in map(np.asarray, _as_float_args(self, args))]
        return self.nfunc(*wide)

    def d_dx(self, *inputs_and_output):
        raise NotImplementedError(f"the gradient of {self.name} is not implemented")

    def pullback(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.gradient import grad_not_implemented

        *shape, x = inputs
        grads = [grad_not_implemented(self, pos, v, f"the derivative of {self.name} with respect to its shape "
                                      f"parameter {name} (a series) is not implemented")
                 for pos, (v, name) in enumerate(zip(shape, self.shape_params))]
        return grads + [output_grads[0] * self.d_dx(*inputs, outputs[0])]


def _gammainc_dx(a, x):
    # d/dx P(a, x) = x^(a-1) e^-x / Gamma(a), in log space (no overflow for large a, x).
    tm = _tm()
    return tm.exp((a - 1.0) * tm.log(x) - x - tm.gammaln(a))


def _gammainc_inv_dy(a, x):
    # 1 / (d/dx P(a, x)) at x = P^-1(a, y): exp(x - (a - 1) log x + gammaln(a)).
    tm = _tm()
    return tm.exp(x - (a - 1.0) * tm.log(x) + tm.gammaln(a))


def _log_beta_density(a, b, x):
    from opgraph.kernel_core.tensor.special import betaln

    tm = _tm()
    return (a - 1.0) * tm.log(x) + (b - 1.0) * tm.log1p(-x) - betaln(a, b)


class GammaInc(SciPyFunction, FloatBinaryOp, scipy="gammainc"):
    """The regularized lower incomplete gamma function ``P(a, x)``."""

    shape_params = ("a",)

    def d_dx(self, a, x, out):
        return _gammainc_dx(a, x)


class GammaIncC(SciPyFunction, FloatBinaryOp, scipy="gammaincc"):
    """The regularized upper incomplete gamma function ``Q(a, x) = 1 - P(a, x)``."""

    shape_params = ("a",)

    def d_dx(self, a, x, out):
        return -_gammainc_dx(a, x)


class GammaIncInv(SciPyFunction, FloatBinaryOp, scipy="gammaincinv"):
    """The inverse of ``P(a, x)`` in x: ``gammaincinv(a, gammainc(a, x)) = x``."""

    shape_params = ("a",)

    def d_dx(self, a, y, out):
        return _gammainc_inv_dy(a, out)


class GammaIncCInv(SciPyFunction, FloatBinaryOp, scipy="gammainccinv"):
    """The inverse of ``Q(a, x)`` in x: ``gammainccinv(a, gammaincc(a, x)) = x``."""

    shape_params = ("a",)

    def d_dx(self, a, y, out):
        return -_gammainc_inv_dy(a, out)


class BetaInc(SciPyFunction, ScalarOp, scipy="betainc", nin=3):
    """The regularized incomplete beta function ``I_x(a, b)``."""

    shape_params = ("a", "b")

    def d_dx(self, a, b, x, out):
        return _tm().exp(_log_beta_density(a, b, x))


class BetaIncInv(SciPyFunction, ScalarOp, scipy="betaincinv", nin=3):
    """The inverse of ``I_x(a, b)`` in x: ``betaincinv(a, b, betainc(a, b, x)) = x``."""

    shape_params = ("a", "b")

    def d_dx(self, a, b, y, out):
        return _tm().exp(-_log_beta_density(a, b, out))


class BetaIncCInv(SciPyFunction, ScalarOp, scipy="betainccinv", nin=3):
    """The inverse of ``1 - I_x(a, b)`` in x: ``betainccinv(a, b, 1 - betainc(a, b, x)) = x``."""

    shape_params = ("a", "b")

    def d_dx(self, a, b, y, out):
        return -_tm().exp(-_log_beta_density(a, b, out))


class _DiscreteQuantile(SciPyFunction):
    """A continuous inverse in k of a discrete CDF: its only use is a quantile rounded to an
    integer, and no input has a derivative opgraph builds."""

    def pullback(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.gradient import grad_not_implemented

        return [grad_not_implemented(self, pos, v, f"the derivative of {self.name} (the inverse in k of a "
                                     f"discrete CDF) is not implemented") for pos, v in enumerate(inputs)]


class Pdtrik(_DiscreteQuantile, FloatBinaryOp, scipy="pdtrik"):
    """The k at which the poisson CDF ``Q(k + 1, lam)`` is ``q`` (k real)."""


class Bdtrik(_DiscreteQuantile, ScalarOp, scipy="bdtrik", nin=3):
    """The k at which the binomial CDF ``I_{1-p}(n - k, k + 1)`` is ``q`` (k real)."""


class Nbdtrik(_DiscreteQuantile, ScalarOp, scipy="nbdtrik", nin=3):
    """The k at which the negative binomial CDF ``I_p(n, k + 1)`` is ``q`` (k real)."""


class Ndtri(SciPyFunction, FloatUnaryOp, scipy="ndtri"):
    """The standard normal quantile function ``Phi^-1(q)``."""

    def d_dx(self, q, out):
        # d/dq Phi^-1(q) = 1 / phi(Phi^-1(q)) = sqrt(2 pi) exp(z^2 / 2).
        return np.sqrt(2.0 * np.pi) * _tm().exp(0.5 * _tm().sqr(out))


def _i1_over_x_limit(x, i1_of_x):
    # i1(x) / x -> 1/2 at x = 0 (the derivative of i1 is i0 - i1 / x).
    tm = _tm()
    zero = tm.eq(x, 0.0)
    return tm.switch(zero, 0.5, i1_of_x / tm.switch(zero, 1.0, x))


class I0(SciPyFunction, FloatUnaryOp, scipy="i0"):
    """The modified Bessel function of the first kind, order 0."""

    def d_dx(self, x, out):
        return _tensor_fn("i1")(x)


class I0e(SciPyFunction, FloatUnaryOp, scipy="i0e"):
    """``exp(-|x|) i0(x)``: finite where ``i0`` overflows (x > 713)."""

    def d_dx(self, x, out):
        return _tensor_fn("i1e")(x) - _tm().sign(x) * out


class I1(SciPyFunction, FloatUnaryOp, scipy="i1"):
    """The modified Bessel function of the first kind, order 1."""

    def d_dx(self, x, out):
        tm = _tm()
        return tm.switch(tm.eq(x, 0.0), 0.5, _tensor_fn("i0")(x) - _i1_over_x_limit(x, out))


class I1e(SciPyFunction, FloatUnaryOp, scipy="i1e"):
    """``exp(-|x|) i1(x)``."""

    def d_dx(self, x, out):
        tm = _tm()
        d = _tensor_fn("i0e")(x) - _i1_over_x_limit(x, out) - tm.sign(x) * out
        return tm.switch(tm.eq(x, 0.0), 0.5, d)


def _tensor_fn(name):
    # The tensor functions (the pullbacks are tensor graphs); imported late (cycle).
    from opgraph.kernel_core.tensor import special_functions

    return getattr(special_functions, name)


gammainc, gammaincc, gammaincinv, gammainccinv = GammaInc(), GammaIncC(), GammaIncInv(), GammaIncCInv()
betainc, betaincinv, betainccinv, ndtri = BetaInc(), BetaIncInv(), BetaIncCInv(), Ndtri()
i0, i0e, i1, i1e = I0(), I0e(), I1(), I1e()
pdtrik, bdtrik, nbdtrik = Pdtrik(), Bdtrik(), Nbdtrik()

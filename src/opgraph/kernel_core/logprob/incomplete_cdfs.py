"""Log-CDFs through the regularized incomplete gamma / beta functions, quantiles through
their inverses (``gammaincinv``, ``gammainccinv``, ``betaincinv``) and ``ndtri``, and the
von Mises density through ``i0e``.

Each log-CDF picks the tail whose probability is small: ``log(P)`` where ``P`` is
below 1/2, ``log1p(-Q)`` with the complementary function where ``P`` is near 1 (so
the upper tail keeps its digits instead of rounding ``P`` to 1).  The side is chosen
by the value of one of the two functions (a threshold on the mean misjudges tiny
means of discrete variables: binomial(1000, 1e-9) has P(K <= 0) near 1).
"""

from __future__ import annotations

import numpy as np

import opgraph.kernel_core.tensor.math as pm
from opgraph.kernel_core.logprob.check import check_parameters
from opgraph.kernel_core.logprob.continuous import _check_prob, _in_support
from opgraph.kernel_core.logprob.discrete import _fv
from opgraph.kernel_core.logprob.rules import _icdf, _logcdf, _logprob
from opgraph.kernel_core.tensor.random import basic as rv
from opgraph.kernel_core.tensor.special import betaln
from opgraph.kernel_core.tensor.special_functions import (
    bdtrik, betainc, betainccinv, betaincinv, gammainc, gammaincc, gammainccinv, gammaincinv, i0e, nbdtrik,
    ndtri, pdtrik,
)


def _gamma_lcdf(a, x):
    """log P(a, x) for x >= 0 (x < 0 gives -inf)."""
    pos = pm.gt(x, 0.0)
    xs = pm.switch(pos, x, 1.0)
    lower = gammainc(a, xs)
    res = pm.switch(pm.lt(lower, 0.5), pm.log(lower), pm.log1p(-gammaincc(a, xs)))
    return pm.switch(pos, res, -np.inf)


def _beta_lcdf(a, b, x):
    """log I_x(a, b) on [0, 1]: 0 at and above 1, -inf at and below 0."""
    inside = pm.and_(pm.gt(x, 0.0), pm.lt(x, 1.0))
    xs = pm.switch(inside, x, 0.5)
    lower = betainc(a, b, xs)
    res = pm.switch(pm.lt(lower, 0.5), pm.log(lower), pm.log1p(-betainc(b, a, 1.0 - xs)))
    return pm.switch(inside, res, pm.switch(pm.ge(x, 1.0), 0.0, -np.inf))


# -- gamma, chi-square, inverse gamma ------------------------------------------------------------
@_logcdf.register(rv.GammaRV)
def gamma_logcdf(op, value, shape, scale):
    return check_parameters(_gamma_lcdf(shape, value / scale), pm.gt(shape, 0), pm.gt(scale, 0),
                            msg="shape > 0, scale > 0")


@_logcdf.register(rv.ChiSquareRV)
def chisquare_logcdf(op, value, df):
    return check_parameters(_gamma_lcdf(df / 2.0, value / 2.0), pm.gt(df, 0), msg="df > 0")


@_logcdf.register(rv.InvGammaRV)
def invgamma_logcdf(op, value, alpha, beta):
    # P(X <= x) = Q(alpha, beta / x): the upper incomplete gamma at beta / x.
    pos = pm.gt(value, 0.0)
    y = beta / pm.switch(pos, value, 1.0)
    upper = gammaincc(alpha, y)
    res = pm.switch(pm.lt(upper, 0.5), pm.log(upper), pm.log1p(-gammainc(alpha, y)))
    return check_parameters(_in_support(pos, res), pm.gt(alpha, 0), pm.gt(beta, 0), msg="alpha > 0, beta > 0")


# -- beta, student t ------------------------------------------------------------------------------------
@_logcdf.register(rv.BetaRV)
def beta_logcdf(op, value, alpha, beta):
    return check_parameters(_beta_lcdf(alpha, beta, value), pm.gt(alpha, 0), pm.gt(beta, 0),
                            msg="alpha > 0, beta > 0")


_T_TAIL_TERMS = 40


@_logcdf.register(rv.StudentTRV)
def studentt_logcdf(op, value, df, loc, scale):
    # P(T < -|t|) = I_x(df/2, 1/2) / 2 with x = df / (df + t^2); for x near 1 (|t| small)
    # the complement 1 - I_{1-x}(1/2, df/2), with 1 - x = t^2 / (df + t^2) computed directly.
    t = (value - loc) / scale
    t2 = pm.sqr(t)
    x = df / (df + t2)
    small_t = pm.gt(x, 0.5)
    t2s = pm.switch(small_t, t2, 0.0)
    tail = 0.5 * pm.switch(small_t, 1.0 - betainc(0.5, df / 2.0, t2s / (df + t2s)),
                           betainc(df / 2.0, 0.5, pm.switch(small_t, 0.5, x)))
    # Far tails, where t^2 may overflow or I_x underflow (log x < -40 or a log x < -700): in log space,
    # I_x(a, b) = x^a (1 - x)^b / (a B(a, b)) 2F1(a + b, 1; a + 1; x) with the hypergeometric
    # series summed to 40 terms (its ratio is about x < exp(-700 / a): below 0.25 for df up
    # to 1000), log x = log df - 2 log|t| - log1p(df / t^2), log(1 - x) = -log1p(df / t^2).
    a = df / 2.0
    abs_t = pm.abs(t)
    safe_t = pm.switch(pm.gt(abs_t, 0.0), abs_t, 1.0)
    log1p_ratio = pm.log1p(df / safe_t / safe_t)
    log_x = pm.log(df) - 2.0 * pm.log(safe_t) - log1p_ratio
    far = pm.and_(pm.gt(abs_t, 0.0), pm.or_(pm.lt(log_x, -40.0), pm.lt(a * log_x, -700.0)))
    xf = pm.exp(pm.switch(far, log_x, -50.0))
    term, series = 1.0, 1.0
    for n in range(_T_TAIL_TERMS):
        term = term * ((a + 0.5 + n) / (a + 1.0 + n)) * xf
        series = series + term
    log_far_tail = (a * log_x - 0.5 * log1p_ratio - pm.log(a) - betaln(a, 0.5) + pm.log(series)
                    - np.log(2.0))
    lower = pm.switch(far, log_far_tail, pm.log(tail))
    res = pm.switch(pm.lt(t, 0.0), lower, pm.log1p(-tail))
    return check_parameters(res, pm.gt(df, 0), pm.gt(scale, 0), msg="df > 0, scale > 0")


# -- poisson, binomial, negative binomial --------------------------------------------------------------------
@_logcdf.register(rv.PoissonRV)
def poisson_logcdf(op, value, lam):
    # P(K <= k) = Q(k + 1, lam).
    k = pm.floor(_fv(value))
    kp = pm.maximum(k, 0.0) + 1.0
    above = gammainc(kp, lam)        # P(K > k)
    res = pm.switch(pm.lt(above, 0.5), pm.log1p(-above), pm.log(gammaincc(kp, lam)))
    res = pm.switch(pm.lt(k, 0.0), -np.inf, res)
    return check_parameters(res, pm.ge(lam, 0.0), msg="lam >= 0")


@_logcdf.register(rv.BinomialRV)
def binomial_logcdf(op, value, n, p):
    # P(K <= k) = I_{1-p}(n - k, k + 1) = 1 - I_p(k + 1, n - k) for 0 <= k < n.
    k = pm.floor(_fv(value))
    nf = pm.cast(n, "float64")
    inside = pm.and_(pm.ge(k, 0.0), pm.lt(k, nf))
    ks = pm.switch(inside, k, 0.0)
    ns = pm.switch(inside, nf, 1.0)
    above = betainc(ks + 1.0, ns - ks, p)        # P(K > k), from p itself (1 - p drops digits of a tiny p)
    res = pm.switch(pm.lt(above, 0.5), pm.log1p(-above), pm.log(betainc(ns - ks, ks + 1.0, 1.0 - p)))
    res = pm.switch(inside, res, pm.switch(pm.lt(k, 0.0), -np.inf, 0.0))
    return check_parameters(res, pm.ge(n, 0), pm.ge(p, 0.0), pm.le(p, 1.0), msg="n >= 0, 0 <= p <= 1")


@_logcdf.register(rv.NegativeBinomialRV)
def negative_binomial_logcdf(op, value, n, p):
    # P(K <= k) = I_p(n, k + 1) = 1 - I_{1-p}(k + 1, n).
    k = pm.floor(_fv(value))
    ks = pm.maximum(k, 0.0)
    lower = betainc(n, ks + 1.0, p)
    res = pm.switch(pm.lt(lower, 0.5), pm.log(lower), pm.log1p(-betainc(ks + 1.0, n, 1.0 - p)))
    res = pm.switch(pm.lt(k, 0.0), -np.inf, res)
    return check_parameters(res, pm.gt(n, 0), pm.gt(p, 0.0), pm.le(p, 1.0), msg="n > 0, 0 < p <= 1")


# -- discrete quantiles: the smallest k with P(K <= k) >= q ------------------------------------------------------
def _round_up_quantile(k_real, q, cdf):
    """ceil of the continuous inverse in k (SciPy's pdtrik / bdtrik / nbdtrik), one less where
    the CDF already reaches q there (the inverse is accurate to a few digits, not to the step)."""
    k0 = pm.ceil(k_real)
    k1 = pm.maximum(k0 - 1.0, 0.0)
    return pm.switch(pm.ge(cdf(k1), q), k1, k0)


@_icdf.register(rv.PoissonRV)
def poisson_icdf(op, value, lam):
    res = _round_up_quantile(pdtrik(value, lam), value, lambda k: gammaincc(k + 1.0, lam))
    return _check_prob(value, check_parameters(res, pm.ge(lam, 0.0), msg="lam >= 0"))


@_icdf.register(rv.BinomialRV)
def binomial_icdf(op, value, n, p):
    nf = pm.cast(n, "float64")

    def cdf(k):   # I_{1-p}(n - k, k + 1) below n, 1 from n on
        below = pm.lt(k, nf)
        ks = pm.switch(below, k, 0.0)
        return pm.switch(below, betainc(pm.switch(below, nf, 1.0) - ks, ks + 1.0, 1.0 - p), 1.0)
    # n = 0 or p = 0: K is 0; p = 1: K is n (the continuous inverse is nan there).
    res = pm.switch(pm.or_(pm.eq(nf, 0.0), pm.eq(p, 0.0)), 0.0,
                    pm.switch(pm.eq(p, 1.0), nf, _round_up_quantile(bdtrik(value, nf, p), value, cdf)))
    res = check_parameters(res, pm.ge(n, 0), pm.ge(p, 0.0), pm.le(p, 1.0), msg="n >= 0, 0 <= p <= 1")
    return _check_prob(value, res)


@_icdf.register(rv.NegativeBinomialRV)
def negative_binomial_icdf(op, value, n, p):
    res = _round_up_quantile(nbdtrik(value, n, p), value, lambda k: betainc(n, k + 1.0, p))
    res = pm.switch(pm.eq(p, 1.0), 0.0, res)   # K is 0 (the continuous inverse is huge there)
    res = check_parameters(res, pm.gt(n, 0), pm.gt(p, 0.0), pm.le(p, 1.0), msg="n > 0, 0 < p <= 1")
    return _check_prob(value, res)


# -- normal and lognormal quantiles through ndtri ------------------------------------------------------------
@_icdf.register(rv.NormalRV)
def normal_icdf(op, value, mu, sigma):
    return _check_prob(value, check_parameters(mu + sigma * ndtri(value), pm.gt(sigma, 0), msg="sigma > 0"))


@_icdf.register(rv.LogNormalRV)
def lognormal_icdf(op, value, mean, sigma):
    res = pm.exp(mean + sigma * ndtri(value))
    return _check_prob(value, check_parameters(res, pm.gt(sigma, 0), msg="sigma > 0"))


# -- quantiles through the inverse incomplete gamma / beta functions ------------------------------------------
def _gamma_quantile(a, q):
    """P^-1(a, q): the lower inverse below 1/2, the upper one at 1 - q (exact there) above."""
    upper = pm.gt(q, 0.5)
    return pm.switch(upper, gammainccinv(a, 1.0 - q), gammaincinv(a, q))


@_icdf.register(rv.GammaRV)
def gamma_icdf(op, value, shape, scale):
    res = check_parameters(scale * _gamma_quantile(shape, value), pm.gt(shape, 0), pm.gt(scale, 0),
                           msg="shape > 0, scale > 0")
    return _check_prob(value, res)


@_icdf.register(rv.ChiSquareRV)
def chisquare_icdf(op, value, df):
    return _check_prob(value, check_parameters(2.0 * _gamma_quantile(df / 2.0, value), pm.gt(df, 0), msg="df > 0"))


@_icdf.register(rv.InvGammaRV)
def invgamma_icdf(op, value, alpha, beta):
    # P(X <= x) = Q(alpha, beta / x) = q: x = beta / Q^-1(alpha, q) = beta / P^-1(alpha, 1 - q).
    upper = pm.gt(value, 0.5)
    y = pm.switch(upper, gammaincinv(alpha, 1.0 - value), gammainccinv(alpha, value))
    res = check_parameters(beta / y, pm.gt(alpha, 0), pm.gt(beta, 0), msg="alpha > 0, beta > 0")
    return _check_prob(value, res)


@_icdf.register(rv.BetaRV)
def beta_icdf(op, value, alpha, beta):
    res = check_parameters(betaincinv(alpha, beta, value), pm.gt(alpha, 0), pm.gt(beta, 0),
                           msg="alpha > 0, beta > 0")
    return _check_prob(value, res)


@_icdf.register(rv.StudentTRV)
def studentt_icdf(op, value, df, loc, scale):
    # With r = min(q, 1 - q) (exact), P(T < -|t|) = I_x(df/2, 1/2) / 2 = r at x = df / (df + t^2):
    # t^2 = df (1 - x) / x.  Where x > 1/2 (|t| small, or a large df) 1 - x has lost digits;
    # there y = 1 - x = t^2 / (df + t^2) directly, from 1 - I_y(1/2, df/2) = 2r (betainccinv:
    # betaincinv at 1 - 2r would lose a tiny r to the subtraction), and t^2 = df y / (1 - y).
    r = pm.minimum(value, 1.0 - value)
    x = betaincinv(df / 2.0, 0.5, 2.0 * r)
    y = betainccinv(0.5, df / 2.0, 2.0 * r)
    central = pm.gt(x, 0.5)
    t2 = pm.switch(central, df * y / (1.0 - y), df * ((1.0 - x) / x))
    t = pm.switch(pm.lt(value, 0.5), -pm.sqrt(t2), pm.sqrt(t2))
    res = check_parameters(loc + scale * t, pm.gt(df, 0), pm.gt(scale, 0), msg="df > 0, scale > 0")
    return _check_prob(value, res)


# -- von Mises on [-pi, pi] ------------------------------------------------------------------------------------
@_logprob.register(rv.VonMisesRV)
def vonmises_logprob(op, value, mu, kappa):
    # kappa cos(x - mu) - log(2 pi I0(kappa)) = kappa (cos(x - mu) - 1) - log(2 pi) - log(i0e(kappa)):
    # i0e keeps the normalizer finite for kappa > 713, where I0 overflows.
    res = kappa * (pm.cos(value - mu) - 1.0) - np.log(2.0 * np.pi) - pm.log(i0e(kappa))
    res = _in_support(pm.and_(pm.ge(value, -np.pi), pm.le(value, np.pi)), res)
    return check_parameters(res, pm.gt(kappa, 0), msg="kappa > 0")


# Wald icdf, von Mises logcdf / icdf: Newton iterations (their own module).
from opgraph.kernel_core.logprob import iterative_quantiles  # noqa: E402,F401

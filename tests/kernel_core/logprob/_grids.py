"""Parameter grids (including extreme ones) and their scipy.stats references, shared by the
distribution tests.  Each case: (distribution name, parameters as arrays, values, scipy frozen-ish
callables by kind)."""

import itertools

import numpy as np
import scipy.stats as st


def grid(*axes):
    cols = [np.asarray(c, dtype=float) for c in zip(*itertools.product(*axes))]
    return cols


# value grids: tails, near the mode, huge magnitudes
X_REAL = [-1e300, -1e10, -40.0, -3.5, -1.0, -1e-8, 0.0, 0.3, 2.0, 37.0, 1e10, 1e300]
X_POS = [1e-300, 1e-10, 0.01, 0.5, 1.0, 3.0, 50.0, 1e10, 1e300]
X_UNIT = [1e-12, 1e-4, 0.1, 0.5, 0.9, 1 - 1e-4, 1 - 1e-12]
Q = [1e-6, 0.01, 0.2, 0.5, 0.8, 0.99, 1 - 1e-6]
LOC = [-3.0, 0.0, 1e5]
SCALE = [1e-8, 0.5, 1.0, 1e6]


def continuous_cases():
    cases = []
    loc, scale, x = grid(LOC, SCALE, X_REAL)
    for name, ref in [("normal", st.norm), ("cauchy", st.cauchy), ("laplace", st.laplace),
                      ("logistic", st.logistic), ("gumbel", st.gumbel_r)]:
        cases.append((name, (loc, scale), x, ref(loc=loc, scale=scale)))
    locp, scalep, xp = grid([0.0, -2.0], SCALE, X_POS)
    for name, ref in [("halfnormal", st.halfnorm), ("halfcauchy", st.halfcauchy)]:
        cases.append((name, (locp, scalep), locp + xp, ref(loc=locp, scale=scalep)))
    lo, width, u = grid([-5.0, 0.0, 1e6], [1e-6, 1.0, 1e8], [1e-9, 0.3, 0.999])
    hi = lo + width
    # scipy's scale is the rounded hi - lo the op sees, not the grid's width
    cases.append(("uniform", (lo, hi), lo + u * (hi - lo), st.uniform(loc=lo, scale=hi - lo)))
    s, xe = grid([1e-6, 1.0, 3.0, 1e8], X_POS)
    cases.append(("exponential", (s,), xe, st.expon(scale=s)))
    a, s2, xg = grid([1e-3, 0.5, 1.0, 2.5, 100.0], [1e-3, 1.0, 20.0], X_POS[:-1])
    cases.append(("gamma", (a, s2), xg, st.gamma(a, scale=s2)))
    m, sg, xl = grid([-2.0, 0.0, 10.0], [1e-3, 1.0, 5.0], X_POS)
    cases.append(("lognormal", (m, sg), xl, st.lognorm(s=sg, scale=np.exp(m))))
    al, be, xb = grid([0.1, 1.0, 3.5, 200.0], [0.1, 1.0, 7.0, 200.0], X_UNIT)
    cases.append(("beta", (al, be), xb, st.beta(al, be)))
    df, lt, stt, xt = grid([0.5, 1.0, 4.0, 1e3], [0.0, 2.0], [1e-3, 1.0, 100.0], X_REAL)
    cases.append(("t", (df, lt, stt), xt, st.t(df, loc=lt, scale=stt)))
    k, xc = grid([0.5, 1.0, 2.0, 7.0, 300.0], X_POS[:-1])
    cases.append(("chisquare", (k,), xc, st.chi2(k)))
    w, xw = grid([0.3, 1.0, 2.0, 9.0], [1e-10, 0.01, 0.5, 1.0, 3.0, 20.0])
    cases.append(("weibull", (w,), xw, st.weibull_min(w)))
    return cases


def more_continuous_cases():
    """pareto, wald, triangular, invgamma, rayleigh (continuous_more.py)."""
    cases = []
    b, sp_, xpa = grid([0.5, 2.0, 30.0], [1e-3, 1.0, 1e4], [1.0, 1.0 + 1e-9, 1.5, 10.0, 1e6])
    cases.append(("pareto", (b, sp_), sp_ * xpa, st.pareto(b, scale=sp_)))
    mw, lw, xw2 = grid([0.1, 1.0, 20.0], [1e-2, 1.0, 1e3], [1e-3, 0.5, 1.0, 4.0, 100.0])
    cases.append(("wald", (mw, lw), xw2, st.invgauss(mw / lw, scale=lw)))
    left, mfrac, wt, ut = grid([-2.0, 0.0, 1e5], [0.0, 0.3, 1.0], [1e-3, 1.0, 50.0], [1e-6, 0.2, 0.5, 0.9, 1 - 1e-6])
    lt_, mt, rt = left, left + mfrac * wt, left + wt
    cases.append(("triangular", (lt_, mt, rt), lt_ + ut * (rt - lt_),
                  st.triang((mt - lt_) / (rt - lt_), loc=lt_, scale=rt - lt_)))
    ai, bi, xi = grid([0.1, 1.0, 3.0, 100.0], [1e-3, 1.0, 50.0], X_POS[1:-1])
    cases.append(("invgamma", (ai, bi), xi, st.invgamma(ai, scale=bi)))
    sr, xr = grid([1e-4, 1.0, 300.0], X_POS)
    cases.append(("rayleigh", (sr,), xr, st.rayleigh(scale=sr)))
    mv, kv, xv = grid([-1.0, 0.0, 2.5], [1e-8, 0.5, 5.0, 800.0, 1e5], [-np.pi, -2.0, -1e-9, 0.0, 0.7, 3.0, np.pi])
    cases.append(("vonmises", (mv, kv), xv, st.vonmises(kv, loc=mv)))
    return cases


def discrete_cases():
    cases = []
    lo, width, kk = grid([-3.0, 0.0, 1e6], [1.0, 2.0, 1000.0], [0.0, 0.4, 1.0, 999.0])
    lo, width = lo.astype(np.int64), width.astype(np.int64)
    k = np.minimum(np.floor(kk), width - 1).astype(np.int64) + lo
    cases.append(("integers", (lo, lo + width), k, st.randint(lo, lo + width)))
    p, kb = grid([0.0, 1e-12, 0.3, 1 - 1e-12, 1.0], [0, 1])
    cases.append(("bernoulli", (p,), kb.astype(np.int64), st.bernoulli(p)))
    n, pb, kf = grid([0, 1, 10, 1000], [0.0, 1e-9, 0.2, 0.7, 1.0], [0.0, 0.3, 1.0])
    n = n.astype(np.int64)
    kbin = np.floor(kf * n).astype(np.int64)
    cases.append(("binomial", (n, pb), kbin, st.binom(n, pb)))
    lam, kp = grid([0.0, 1e-10, 0.5, 3.0, 1e4], [0, 1, 2, 5, 30, 10000])
    cases.append(("poisson", (lam,), kp.astype(np.int64), st.poisson(lam)))
    nn, pn, kn = grid([0.5, 1.0, 20.0], [1e-6, 0.3, 1.0], [0, 1, 7, 400])
    cases.append(("negative_binomial", (nn, pn), kn.astype(np.int64), st.nbinom(nn, pn)))
    pg, kg = grid([1e-9, 0.2, 0.9, 1.0], [1, 2, 10, 1000])
    cases.append(("geometric", (pg,), kg.astype(np.int64), st.geom(pg)))
    return cases

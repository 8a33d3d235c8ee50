"""The 40-digit mpmath reference of the von Mises log-CDF, and its stored table.

Computing the grid's 162 references takes ~30 s of mpmath quadrature, so the table is stored
beside this file (vonmises_logcdf_reference.csv, every value as ``repr`` of the float) and
test_vonmises_logcdf.py checks it against this function on a few live rows.  Regenerate with
``python tests/kernel_core/scalar/vonmises_logcdf_reference.py``.
"""

import csv
import os

import mpmath
import numpy as np

TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vonmises_logcdf_reference.csv")


def _mass_log(lo, hi, mu, k):
    """log int_lo^hi exp(k (cos(t - mu) - 1)) dt / (2 pi I0(k) e^-k) in mpmath (factored at the
    interval's greatest cos; cut geometrically around the ends and the modes)."""
    pts = [lo, hi] + [mu + 2 * n * mpmath.pi for n in range(-3, 4) if lo < mu + 2 * n * mpmath.pi < hi]
    vmax = max(mpmath.cos(p - mu) for p in pts)
    cuts = set(pts)
    for e in pts:
        d = 1 / (k * abs(mpmath.sin(e - mu)) + mpmath.sqrt(k) + 1)
        for j in range(-10, 40):
            for s in (e + d * mpmath.mpf(2) ** (mpmath.mpf(j) / 2), e - d * mpmath.mpf(2) ** (mpmath.mpf(j) / 2)):
                if lo < s < hi:
                    cuts.add(s)
    total = mpmath.quad(lambda t: mpmath.exp(k * (mpmath.cos(t - mu) - vmax)), sorted(cuts))
    return k * vmax + mpmath.log(total) - mpmath.log(2 * mpmath.pi * mpmath.besseli(0, k))


def reference_logcdf(x, mu, k):
    """log P(-pi <= X <= x) in 40 digits: the lower mass, or log1p(-upper mass) above 1/2."""
    with mpmath.workdps(40):
        x, mu, k = mpmath.mpf(x), mpmath.mpf(mu), mpmath.mpf(k)
        lower = _mass_log(-mpmath.pi, x, mu, k)
        if lower < mpmath.log(0.5):
            return float(lower)
        return float(mpmath.log1p(-mpmath.exp(_mass_log(x, mpmath.pi, mu, k))))


KAPPAS = [1e-3, 0.1, 1.0, 30.0, 1e3, 1e4]
XS = [-np.pi, -3.0, -2.0, -0.5, 0.0, 0.4, 2.0, 3.0, np.pi - 1e-3]
MUS = [0.0, 0.3, -2.5]




def grid():
    """The grid's (x, mu, kappa) as flat arrays, x slowest."""
    return tuple(a.ravel() for a in np.meshgrid(XS, MUS, KAPPAS, indexing="ij"))


def load_table():
    """(x, mu, kappa, log F) of the stored table, as float arrays."""
    with open(TABLE, newline="") as f:
        rows = [tuple(float(v) for v in row) for row in csv.reader(f) if row and not row[0].startswith("#")]
    return tuple(np.array(col) for col in zip(*rows))


def write_table():
    with open(TABLE, "w", newline="") as f:
        f.write("# x,mu,kappa,log F: vonmises_logcdf_reference.reference_logcdf (40-digit mpmath)\n")
        w = csv.writer(f, lineterminator="\n")
        for p in zip(*grid()):
            w.writerow([repr(float(v)) for v in p] + [repr(reference_logcdf(*p))])


if __name__ == "__main__":
    write_table()

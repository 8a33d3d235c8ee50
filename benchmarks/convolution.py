"""convolve1d of 10^6 samples with kernels of length 8 and 1,024 (mode "full").

opgraph NUMBA compiles ``pt.signal.convolve1d`` with a static kernel length, so the
``fft_convolution`` rewrite decides: the direct loop for 8, FFTConvolve for 1,024
(threshold 512, ``rewriting/signal.py``).  Against NumPy (``np.convolve``, direct),
``scipy.signal.convolve`` with ``method="direct"`` and ``method="fft"``, and PyTensor's
``convolve1d`` (NUMBA) when installed.

    python benchmarks/convolution.py
"""

import numpy as np

from common import OPGRAPH, available, report, timeit

N = 1_000_000
KERNELS = (8, 1024)


def main():
    from scipy import signal as ss

    import opgraph
    import opgraph.tensor as pt

    g = np.random.default_rng(0)
    xv = g.normal(size=N)
    records = []
    for m in KERNELS:
        kv = g.normal(size=m)
        x, k = pt.dvector("x"), pt.tensor("k", shape=(m,))
        f = opgraph.function([x, k], pt.signal.convolve1d(x, k), mode="NUMBA", trust_input=True)
        impls = [("numpy", lambda: np.convolve(xv, kv)),
                 (OPGRAPH, lambda f=f: f(xv, kv)),
                 ("scipy direct", lambda: ss.convolve(xv, kv, method="direct")),
                 ("scipy fft", lambda: ss.convolve(xv, kv, method="fft"))]
        if available("pytensor"):
            import pytensor
            import pytensor.tensor as ppt
            from pytensor.tensor.signal import convolve1d as pconv

            px, pk = ppt.dvector("x"), ppt.tensor("k", shape=(m,), dtype="float64")
            pf = pytensor.function([px, pk], pconv(px, pk), mode="NUMBA", trust_input=True)
            impls.append(("pytensor NUMBA", lambda pf=pf: pf(xv, kv)))
        want = np.convolve(xv, kv)
        rows = []
        for label, fn in impls:
            np.testing.assert_allclose(fn(), want, rtol=1e-9, atol=1e-9 * np.sqrt(m))
            rows.append((label, timeit(fn, min_time=0.3, repeat=3)))
        records += report(f"convolve1d n=1e+06 kernel={m}", rows)
    return records


if __name__ == "__main__":
    main()

"""Where FFT convolution starts to pay: convolve1d of n samples with a kernel of length m,
opgraph NUMBA direct (Convolve1d's loop) against the FFT op (FFTConvolve, NumPy's rfft in
objmode), both compiled once with symbolic lengths.  The threshold of the
``fft_convolution`` rewrite (``rewriting/signal.py``) is read off this table.

    python benchmarks/fft_crossover.py
"""

import numpy as np

from common import fmt, timeit

SIZES = (10_000, 1_000_000)
KERNELS = (8, 16, 32, 64, 128, 256, 384, 512, 1024)


def main():
    import opgraph
    import opgraph.tensor as pt
    from opgraph.kernel_core.compile.mode import get_mode
    from opgraph.kernel_core.tensor.signal import FFTConvolve

    x, k = pt.dvector("x"), pt.dvector("k")
    direct = opgraph.function([x, k], pt.signal.convolve1d(x, k),
                              mode=get_mode("NUMBA").excluding("fft_convolution"), trust_input=True)
    fft = opgraph.function([x, k], FFTConvolve(1)(x, k), mode="NUMBA", trust_input=True)
    g = np.random.default_rng(0)
    rows = []
    for n in SIZES:
        xv = g.normal(size=n)
        for m in KERNELS:
            kv = g.normal(size=m)
            np.testing.assert_allclose(fft(xv, kv), direct(xv, kv), rtol=1e-9, atol=1e-9 * np.sqrt(m))
            td, tf = timeit(lambda: direct(xv, kv), 0.1, 3), timeit(lambda: fft(xv, kv), 0.1, 3)
            rows.append((n, m, td, tf))
            print(f"n={n:>8} m={m:>5}  direct {fmt(td):>10}  fft {fmt(tf):>10}  direct/fft {td / tf:6.2f}")
    return rows


if __name__ == "__main__":
    main()

"""scan: a step whose new value is a view of a row its state's window (or another state's)
rewrites before reading it -- the step returning ``x_tm3`` itself, a slice, a transpose or a
reshape of it, the other state of a swap, or the previous state as a per-step output -- in
modes PYTHON, NUMBA and (when jax is installed) JAX, against NumPy.

Only the final values are used, so the states keep a window of their last rows
(``save_last``), which the loop shifts each step: the case where a view could read a row
already overwritten.  One trace is kept whole (the other layout).  All loops share ONE
compiled function per mode (compile cost); the step count is static for JAX."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt

STEPS = 4   # (x_t = x_{t-3} and the wrong x_t = x_{t-2} agree at some step counts, not at 4)


def _window(initial, step, steps=STEPS):
    """NumPy: the rows of a state with taps [-3, -1] whose new row is ``step(x_tm3, x_tm1)``."""
    rows = [np.array(r) for r in initial]
    for _ in range(steps):
        rows.append(np.array(step(rows[-3], rows[-1])))
    return rows[3:]


def _build():
    vec = pt.matrix("vec")   # 3 rows of length 3
    sq = pt.tensor3("sq")    # 3 rows of 3x3
    rect = pt.tensor3("rect")  # 3 rows of 2x3
    a0, b0 = pt.vector("a0"), pt.vector("b0")
    rng = np.random.default_rng(7)
    vals = dict(vec=rng.normal(size=(3, 3)), sq=rng.normal(size=(3, 3, 3)), rect=rng.normal(size=(3, 2, 3)),
                a0=rng.normal(size=3), b0=rng.normal(size=3))
    outs, want, names = [], [], []

    def add(name, var, expected):
        outs.append(var)
        want.append(expected)
        names.append(name)

    def window(init, step):
        trace, _ = opgraph.scan(step, outputs_info=[dict(initial=init, taps=[-3, -1])], n_steps=STEPS)
        return trace

    add("the oldest tap itself", window(vec, lambda x3, x1: x3)[-1],
        _window(vals["vec"], lambda x3, x1: x3)[-1])
    add("a reversed view", window(vec, lambda x3, x1: x3[::-1])[-1],
        _window(vals["vec"], lambda x3, x1: x3[::-1])[-1])
    add("a transposed view", window(sq, lambda x3, x1: x3.T)[-1],
        _window(vals["sq"], lambda x3, x1: x3.T)[-1])
    add("a reshaped, transposed view", window(rect, lambda x3, x1: x3.reshape((3, 2)).T)[-1],
        _window(vals["rect"], lambda x3, x1: x3.reshape((3, 2)).T)[-1])
    add("the oldest tap, trace kept", window(vec, lambda x3, x1: x3),
        np.array(_window(vals["vec"], lambda x3, x1: x3)))

    # One-row windows (lag 1): the state's own row reversed, and a swap of two states.
    rev, _ = opgraph.scan(lambda x: x[::-1], outputs_info=[a0], n_steps=STEPS)
    add("its own row reversed", rev[-1], vals["a0"][::-1] if STEPS % 2 else vals["a0"])
    (sa, sb), _ = opgraph.scan(lambda a, b: (b, a), outputs_info=[a0, b0], n_steps=STEPS)
    even = STEPS % 2 == 0
    add("a swap, first", sa[-1], vals["a0"] if even else vals["b0"])
    add("a swap, second", sb[-1], vals["b0"] if even else vals["a0"])
    # A per-step output that is the previous state (read after the state's row is written).
    (c, ys), _ = opgraph.scan(lambda c: (c * 2.0, c), outputs_info=[a0, None], n_steps=STEPS)
    add("the previous state as a per-step output", ys, np.array([vals["a0"] * 2.0 ** k for k in range(STEPS)]))
    add("that state", c[-1], vals["a0"] * 2.0 ** STEPS)
    # Another state's oldest tap, reversed (its window is shifted first).
    d0 = pt.stack([a0, a0 + 1.0, a0 + 2.0])
    (d, e), _ = opgraph.scan(lambda d3, d1, e: (d1 + 1.0, d3[::-1]),
                             outputs_info=[dict(initial=d0, taps=[-3, -1]), b0], n_steps=STEPS)
    d_rows = _window([vals["a0"], vals["a0"] + 1.0, vals["a0"] + 2.0], lambda x3, x1: x1 + 1.0)
    d_all = [vals["a0"], vals["a0"] + 1.0, vals["a0"] + 2.0] + d_rows
    add("another state's tap", e[-1], d_all[STEPS - 1][::-1])
    add("that other state", d[-1], d_rows[-1])
    inputs = [vec, sq, rect, a0, b0]
    return inputs, [vals[v.name] for v in inputs], outs, want, names


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA", "JAX"])
def test_views_of_window_rows(mode):
    if mode == "JAX":
        pytest.importorskip("jax")
    inputs, values, outs, want, names = _build()
    f = opgraph.function(inputs, outs, mode=mode)
    if mode == "NUMBA":
        f.wait_compiled()   # the Numba tier, not the Python tier that serves first calls
    given = [v.copy() for v in values]
    got = f(*given)
    for name, g, w in zip(names, got, want):
        assert np.shape(g) == np.shape(w), name
        np.testing.assert_allclose(g, w, rtol=1e-12, err_msg=f"{mode}: {name}")
    for g, v in zip(given, values):   # the caller's arrays are left as they were
        np.testing.assert_array_equal(g, v)

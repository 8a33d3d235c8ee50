"""Scan's generated Numba loop: the step generated once (no peeled first step), rows copied by
loop nests (no numba array setitem, whose error path costs seconds of cold compile), values
against NumPy for vector / matrix states, a two-tap window and per-step outputs, at 0, 1 and
several steps, in ONE compiled function."""

import re

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt


def _numpy(xv, m0, w0, n):
    h, m, win = np.zeros(3), m0.copy(), [w0[0].copy(), w0[1].copy()]
    hs, ms, ys = [], [], []
    for i in range(n):
        h = np.tanh(h + xv[i])
        m = m * 0.5 + xv[i][:2, None]
        new = win[0] * 0.25 + win[1] + xv[i]
        win = [win[1], new]
        hs.append(h)
        ms.append(m)
        ys.append(np.exp(xv[i]) * h)
    # (No step: a per-step output's rows have their static shape, unknown lengths 0, as in mode PYTHON.)
    return [np.array(hs).reshape(n, 3), np.array(ms).reshape((n,) + m0.shape), win[1],
            np.array(ys).reshape(n, 3) if n else np.empty((0, 0))]


def test_scan_loop_rows_and_first_step():
    x = pt.matrix("x")
    m0 = pt.matrix("m0")
    w0 = pt.matrix("w0")
    n = pt.lscalar("n")

    def step(v, h, m, w2, w1):
        h_new = pt.tanh(h + v)
        return h_new, m * 0.5 + v[:2].dimshuffle(0, "x"), w2 * 0.25 + w1 + v, pt.exp(v) * h_new

    (hs, ms, last, ys), _ = opgraph.scan(
        step, sequences=x, n_steps=n,
        outputs_info=[pt.zeros(3), m0, dict(initial=w0, taps=[-2, -1]), None])
    f = opgraph.function([x, m0, w0, n], [hs, ms, last[-1], ys], mode="NUMBA")
    f.wait_compiled()
    source = f.maker.thunk.source
    scans = re.findall(r"def scan_\d+\(.*?\n(?=\n\n|\Z)", source, flags=re.S)
    assert scans
    for body in scans:
        assert "_f_" not in body                               # no peeled copy of the step
        # Every state and per-step row here is an array: copied by loop nests, never assigned whole.
        assert not re.search(r"^\s*(buf|nit)\d+\[[^\]]*\] = ", body, flags=re.M), body
    # An elemwise step writes its result straight into its row of the loop's buffer (here
    # the matrix state's ``m * 0.5 + v[:2, None]``): no array per step, no copy.
    assert any(re.search(r"\w+_out0 = (buf|nit)\d+\[", body) for body in scans)
    llvm = "".join(f.maker.thunk.dispatcher.inspect_llvm().values())
    assert "raise_with_shape_context" not in llvm

    rng = np.random.default_rng(0)
    xv = rng.normal(size=(5, 3))
    m0v = rng.normal(size=(2, 4))
    w0v = rng.normal(size=(2, 3))
    inputs = [xv.copy(), m0v.copy(), w0v.copy()]
    for steps in (0, 1, 5):
        got = f(xv, m0v, w0v, np.int64(steps))
        want = _numpy(xv, m0v, w0v, steps)
        for g, w in zip(got, want):
            assert g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-12)
    for given, before in zip((xv, m0v, w0v), inputs):   # the caller's arrays are left as they were
        np.testing.assert_array_equal(given, before)



def test_step_results_copied_only_when_a_window_rewrite_would_change_them():
    """A step's view of its inputs is copied into its row by the row's loop nest, with no
    copy of its own; only a view of a row of a ``save_last`` window read after the window is
    shifted is copied first (tests/kernel_core/scan/test_scan_window_aliasing.py has more
    values).  Rows computed in place by an elemwise get no huge-page advice."""
    x, w0, a0 = pt.matrix("x"), pt.matrix("w0"), pt.vector("a0")
    rev, _ = opgraph.scan(lambda v: v[::-1], sequences=x)                 # a view of a sequence row
    kept, _ = opgraph.scan(lambda x3, x1: x3[::-1], n_steps=4,
                           outputs_info=[dict(initial=w0, taps=[-3, -1])])  # trace kept: older rows stay
    last, _ = opgraph.scan(lambda x3, x1: x3[::-1] * 2.0, n_steps=4,
                           outputs_info=[dict(initial=w0 + 1.0, taps=[-3, -1])])
    shifted, _ = opgraph.scan(lambda x3, x1: x3[::-1], n_steps=4,
                              outputs_info=[dict(initial=w0, taps=[-3, -1])])  # save_last: shifted first
    big, _ = opgraph.scan(lambda v, h: pt.tanh(h * 0.5 + v), sequences=x, outputs_info=[a0])
    f = opgraph.function([x, w0, a0], [rev, kept, last[-1], shifted[-1], big], mode="NUMBA")
    f.wait_compiled()
    source = f.maker.thunk.source
    # (The scans may be fused: all their functions together.)
    scans = "".join(re.findall(r"def scan_\d+\(.*?\n(?=\n\n|\Z)", source, flags=re.S))
    copies = re.findall(r"^\s*(\w+) = (.*)\.copy\(\)$", scans, flags=re.M)
    hoisted = [c for c in copies if re.fullmatch(r"\w*_l_h\d+", c[0])]
    assert len(hoisted) == 1, copies
    assert all(c in hoisted or re.fullmatch(r"\w*buf\d+\[\d+\]", c[1]) for c in copies), copies
    rows = re.findall(r"^\s*(\w+) = buf\d+\[1 \+ i\]$", scans, flags=re.M)   # computed in their row
    assert rows
    advised = re.findall(r"advise_huge_pages\((\w+)\)", scans)   # (fresh temporaries may be advised)
    assert not set(rows) & set(advised), (rows, advised)
    xv = np.arange(12.0).reshape(4, 3)
    w0v = xv[:3] + 1.0
    got = f(xv, w0v, np.zeros(3))
    np.testing.assert_array_equal(got[0], xv[:, ::-1])
    np.testing.assert_array_equal(got[1], np.concatenate([w0v[:, ::-1], w0v[:1]]))
    np.testing.assert_array_equal(got[2], (w0v[0] + 1.0) * 4.0)   # x_t = 2 x_{t-3} reversed: x_6 = 4 x_0
    np.testing.assert_array_equal(got[3], w0v[0])


def test_two_output_elemwise_step_writes_both_rows():
    # One fused loop computing the per-step output t and the new state t / 3: both are
    # written straight into their rows (no per-step arrays copied afterwards).
    x, h0 = pt.matrix("x"), pt.vector("h0")

    def step(v, h):
        t = pt.exp(v) + h
        return t / 3.0, t

    (hs, ts), _ = opgraph.scan(step, sequences=x, outputs_info=[h0, None])
    f = opgraph.function([x, h0], [hs, ts], mode="NUMBA")
    f.wait_compiled()
    body = re.findall(r"def scan_\d+\(.*?\n(?=\n\n|\Z)", f.maker.thunk.source, flags=re.S)[0]
    assert sorted(re.findall(r"\w+_out(\d+) = (buf|nit)\d+\[", body)) == [("0", "nit"), ("1", "buf")]
    xv = np.random.default_rng(5).normal(size=(4, 3))
    h, want_h, want_t = np.zeros(3), [], []
    for row in xv:
        t = np.exp(row) + h
        h = t / 3.0
        want_h.append(h)
        want_t.append(t)
    got_h, got_t = f(xv, np.zeros(3))
    np.testing.assert_allclose(got_h, want_h, rtol=1e-14)
    np.testing.assert_allclose(got_t, want_t, rtol=1e-14)


def _scan_source(f):
    return re.findall(r"def scan_\d+\(.*?\n(?=\n\n|\Z)", f.maker.thunk.source, flags=re.S)[0]


def test_rows_of_fixed_shapes_are_not_tested_each_step():
    # The step's values have static shapes, and so have the buffers' rows (the initial state
    # a (3,) vector, the per-step output allocated from the first value): no "changes shape"
    # test is generated.  With a state of unknown length it stays, and fires.
    x, h0, hv = pt.matrix("x", shape=(None, 3)), pt.vector("h0", shape=(3,)), pt.vector("hv")

    def step(v, h):
        t = pt.exp(v) + h
        return t / 3.0, t

    (hs, ts), _ = opgraph.scan(step, sequences=x, outputs_info=[h0, None])
    f = opgraph.function([x, h0], [hs, ts], mode=opgraph.Mode("NUMBA", tiered=False))
    assert "changes shape" not in _scan_source(f)
    xv = np.random.default_rng(6).normal(size=(4, 3))
    got_h, got_t = f(xv, np.zeros(3))
    np.testing.assert_allclose(got_t[0], np.exp(xv[0]), rtol=1e-14)
    np.testing.assert_allclose(got_h[-1], got_t[-1] / 3.0, rtol=1e-14)

    y = pt.matrix("y")
    hs2, _ = opgraph.scan(lambda v, h: h[:1] * 0.0 + v[:1], sequences=y, outputs_info=[hv])
    g = opgraph.function([y, hv], hs2, mode=opgraph.Mode("NUMBA", tiered=False))
    assert "changes shape" in _scan_source(g)
    with pytest.raises(Exception, match="changes shape between steps"):
        g(np.ones((2, 3)), np.ones(3))        # h has 3 entries, the step makes 1

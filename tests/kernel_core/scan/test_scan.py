"""scan: PyTensor's documented examples in both modes, the layout's corners, dprint, errors.

The examples share ONE compiled function per mode (numba compile cost)."""

import numpy as np
import pytest

import _recurrences
import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.runtime_errors import NodeRuntimeError
from opgraph.scan import Scan
from opgraph.scan.utils import until

MODES = ["PYTHON", "NUMBA"]


@pytest.mark.parametrize("mode", MODES)
def test_documented_examples(mode):
    """The tutorial's loops and the layout's corners (_recurrences.py) against NumPy."""
    loops = _recurrences.build()
    f = opgraph.function(loops.inputs, loops.outputs, mode=mode)
    f.wait_compiled()   # mode NUMBA: the Numba tier, not the Python tier that serves first calls
    got = f(*loops.values)
    for name, g, want in zip(loops.output_names, got, loops.expected):
        np.testing.assert_allclose(g, want, err_msg=name)
    named = dict(zip(loops.output_names, got))
    np.testing.assert_array_equal(named["fib"], [1.0, 2, 3, 5, 8, 13])
    np.testing.assert_array_equal(named["doubling"], [2.0, 4, 8, 16, 32])
    if mode == "NUMBA":   # the loops are generated into the graph module: no objmode, no Python per step
        source = f.maker.thunk.source
        assert source.count("def scan_") >= 8 and "objmode" not in source
    # Zero steps: empty traces, not errors.
    got = f(*loops.values_with(k=0, n=0))
    assert got[loops.output_names.index("fib")].shape == (0,)
    np.testing.assert_array_equal(got[loops.output_names.index("power")], np.ones(3))


def test_shared_updates_come_back_in_updates():
    acc = opgraph.shared(np.float64(0.0), name="acc")
    x = pt.vector("x")
    out, updates = opgraph.scan(lambda v: (v * 2, {acc: acc + v}), sequences=x)
    assert list(updates) == [acc]
    f = opgraph.function([x], out, updates=updates, mode="PYTHON")
    np.testing.assert_allclose(f(np.array([1.0, 2.0, 3.0])), [2, 4, 6])
    assert acc.get_value() == 6.0
    f(np.array([1.0]))
    assert acc.get_value() == 7.0


def test_loop_invariants_move_out_of_the_step():
    W = pt.matrix("W")
    h0 = pt.vector("h0")
    out, _ = opgraph.scan(lambda h: pt.dot(pt.exp(W), h), outputs_info=h0, n_steps=4)
    op = out.owner.op
    # exp(W) does not depend on the loop: computed once, passed as a non-sequence.
    assert op.n_nonseqs == 1 and op.inner_nonseqs[0].type.ndim == 2
    assert out.owner.inputs[-1].owner is not None and "exp" in str(out.owner.inputs[-1].owner.op).lower()
    inner_ops = {str(n.owner.op) for n in op.inner_outputs if n.owner}
    assert not any("exp" in o.lower() for o in inner_ops)


@pytest.mark.parametrize("mode", MODES)
def test_last_state_only_keeps_a_window(mode):
    """``scan(...)[-1]`` must not allocate n_steps x state."""
    h0 = pt.vector("h0")
    a = pt.scalar("a")
    out, _ = opgraph.scan(lambda h, a: h * a + 1, outputs_info=h0, non_sequences=a, n_steps=1000)
    f = opgraph.function([h0, a], out[-1], mode=mode)
    f.wait_compiled()   # mode NUMBA: the Numba tier, not the Python tier that serves first calls
    (node,) = [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Scan)]
    assert node.op.save_last == (True,) and node.outputs[0].type.ndim == 1
    h = np.ones(2)
    for _ in range(1000):
        h = h * 0.5 + 1
    np.testing.assert_allclose(f(np.ones(2), 0.5), h)


def test_dprint_shows_the_inner_graph():
    x = pt.vector("x")
    out, _ = opgraph.scan(lambda v, acc: acc + v, sequences=x, outputs_info=pt.constant(0.0), name="cumsum")
    text = opgraph.dprint(out, file="str")
    assert "Scan{cumsum, while_loop=False, inplace=none}" in text
    assert "Inner graphs:" in text and "← Add" in text
    # The drawing treats it as an inner-graph node (graphviz code path, no dot needed).
    from opgraph.kernel_core.printing.graphviz import op_kind

    assert op_kind(out.owner.op) == "inner"


def test_build_errors_name_the_scan_and_the_types():
    x = pt.vector("x")
    h32 = pt.vector("h32", dtype="float32")
    with pytest.raises(TypeError, match=r"scan 'rnn': output 0: the initial value is .*float32.*float64"):
        opgraph.scan(lambda v, h: h + v, sequences=x, outputs_info=h32, name="rnn")
    with pytest.raises(ValueError, match="returned 2 output.*outputs_info has 1"):
        opgraph.scan(lambda v, h: [h + v, h], sequences=x, outputs_info=pt.vector("h"))
    with pytest.raises(ValueError, match="taps .* reach 3 steps back.*2 rows"):
        opgraph.scan(lambda a, b: a + b, outputs_info=dict(initial=pt.zeros(2), taps=[-3, -1]), n_steps=2)
    with pytest.raises(ValueError, match="give sequences or n_steps"):
        opgraph.scan(lambda h: h, outputs_info=pt.vector("h"))
    with pytest.raises(TypeError, match="different numbers of dimensions"):
        opgraph.scan(lambda v, h: h.sum() + v, sequences=x, outputs_info=pt.vector("h"))
    with pytest.raises(ValueError, match="strict=True.*not among the non_sequences"):
        opgraph.scan(lambda v: v + x.sum(), sequences=pt.vector("y"), strict=True)


def test_run_time_errors():
    x = pt.vector("x")
    n = pt.lscalar("n")
    init = pt.vector("init")
    out, _ = opgraph.scan(lambda v: v * 2, sequences=x, n_steps=n)
    fib, _ = opgraph.scan(lambda a, b: a + b, outputs_info=dict(initial=init, taps=[-2, -1]), n_steps=n)
    f = opgraph.function([x, n, init], [out, fib], mode="PYTHON")
    with pytest.raises(NodeRuntimeError, match="sequence 0 has 2 steps, the loop has 3"):
        f(np.ones(2), 3, np.ones(2))
    with pytest.raises(NodeRuntimeError, match="taps that reach before the start"):
        f(np.ones(3), 3, np.ones(1))


def test_map_reduce_foldl_foldr():
    x = pt.vector("x")
    squares, _ = opgraph.map(lambda v: v ** 2, x)
    total, _ = opgraph.reduce(lambda v, acc: acc + v, x, pt.constant(0.0))
    left, _ = opgraph.foldl(lambda v, acc: acc * 2 + v, x, pt.constant(0.0))
    right, _ = opgraph.foldr(lambda v, acc: acc * 2 + v, x, pt.constant(0.0))
    f = opgraph.function([x], [squares, total, left, right], mode="PYTHON")
    got = f(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(got[0], [1, 4, 9])
    assert got[1] == 6 and got[2] == (1 * 2 + 2) * 2 + 3 and got[3] == (3 * 2 + 2) * 2 + 1
    # reduce keeps no trace: the [-1] read becomes a saved last state.
    assert any(isinstance(n.op, Scan) and n.op.save_last == (True,) for n in f.maker.fgraph.apply_nodes)


def test_public_names():
    """``opgraph.scan`` is the function and the package, as ``pytensor.scan``."""
    import opgraph.scan.utils
    from opgraph import scan as scan_module
    from opgraph.scan.basic import scan

    out = scan_module(lambda h: h * 2, outputs_info=pt.constant(1.0), n_steps=3, return_updates=False)
    np.testing.assert_allclose(out.eval(), [2, 4, 8])
    assert opgraph.scan.utils.until is until and callable(scan)
    out2 = scan(lambda h: h + 1, outputs_info=pt.constant(0.0), n_steps=2, return_list=True)[0]
    assert isinstance(out2, list) and len(out2) == 1


def test_numba_steps_write_into_the_loop_buffers():
    """NUMBA: a step's elemwise result is computed in its row of the trace / per-step
    output / one-row window (no array per step); where the previous value is still read
    afterwards (or through a view) the window is not overwritten early.  Values against NumPy."""
    x = pt.matrix("x")
    m = pt.matrix("m")
    trace, _ = opgraph.scan(lambda v, h: pt.tanh(h + v), sequences=x, outputs_info=pt.zeros(3))
    (last, per_step), _ = opgraph.scan(lambda v, h: (h * 0.5 + v, pt.exp(v) * 2.0), sequences=x,
                                       outputs_info=[pt.zeros(3), None])
    flipped, _ = opgraph.scan(lambda v, h: h[::-1] + v, sequences=x, outputs_info=pt.zeros(3))
    later, _ = opgraph.scan(lambda v, h, m: pt.tanh(h + v) + pt.dot(m, h), sequences=x,
                            outputs_info=pt.zeros(3), non_sequences=m)
    outs = [trace, last[-1], per_step, flipped[-1], later[-1]]
    f = opgraph.function([x, m], outs, mode="NUMBA")
    f.wait_compiled()
    xv = np.arange(12.0).reshape(4, 3) / 10
    mv = np.arange(9.0).reshape(3, 3) / 9
    h, hs, acc, rev, lat = np.zeros(3), [], np.zeros(3), np.zeros(3), np.zeros(3)
    for v in xv:
        h = np.tanh(h + v)
        hs.append(h)
        acc = acc * 0.5 + v
        rev = rev[::-1] + v
        lat = np.tanh(lat + v) + mv @ lat
    want = [np.array(hs), acc, np.exp(xv) * 2.0, rev, lat]
    for got, w in zip(f(xv, mv), want):
        np.testing.assert_allclose(got, w, rtol=1e-12)
    # (The four scans share x: merged into one loop.)  Trace row, per-step output row and
    # two of the three windows are written in place; the reversed read keeps its copy.
    import re

    source = f.maker.thunk.source
    assert re.search(r"_out0 = buf\d+\[1 \+ i\]\n", source) and re.search(r"_out0 = nit\d+\[i\]\n", source)
    assert len(re.findall(r"_l_\w+_out0 = buf\d+\[0\]\n", source)) == 2
    assert len(re.findall(r"^ +_l_o\d+_d = buf\d+\[0\]\n", source, flags=re.M)) == 1   # the flipped window


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_a_per_step_output_changing_shape_is_an_error(mode):
    """Longer or shorter rows than the first step's: an error (NUMBA writes the rows in
    place: its check keeps a longer row from running past the buffer's)."""
    n = pt.lvector("n")
    out, _ = opgraph.scan(lambda k: pt.arange(k) * 2.0, sequences=n)
    f = opgraph.function([n], out, mode=mode)
    np.testing.assert_allclose(f(np.array([2, 2, 2])), np.array([[0.0, 2.0]] * 3))
    for lengths in ([2, 3], [3, 2]):
        with pytest.raises(ValueError):
            f(np.array(lengths))

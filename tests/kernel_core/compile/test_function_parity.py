"""PyTensor's calling conventions for compiled functions: aliased mutable inputs,
default updates, In/Out options, copy and pickle, trust_input and masked arrays."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph import In
from opgraph.kernel_core.compile.mode import get_mode

# The Python VM with the fast_run rewrites (inplace included), and Numba.
INPLACE_MODES = {"vm": get_mode("FAST_RUN").clone(linker="vm"), "numba": "NUMBA"}


@pytest.mark.parametrize("mode", list(INPLACE_MODES))
def test_aliased_mutable_inputs_are_copied(mode):
    x, y = pt.dvector("x"), pt.dvector("y")
    m1, m2 = pt.dmatrix("m1"), pt.dmatrix("m2")
    s = opgraph.shared(np.arange(5.0), name="s")
    f = opgraph.function([In(x, mutable=True), In(y, mutable=True), In(m1, mutable=True),
                          In(m2, mutable=True)], [pt.dot(x * 2, m1) + pt.dot(y * 3, m2), x * 2 + s],
                         mode=INPLACE_MODES[mode])
    assert f.maker.destroyed_inputs, "the test needs a graph that overwrites its inputs"
    v, m = np.arange(1.0, 6.0), np.eye(5)
    out, _ = f(v, v, m, m)
    np.testing.assert_allclose(out, [5, 10, 15, 20, 25])
    # A mutable input given the shared variable's own array must not overwrite the shared value.
    own = s.get_value(borrow=True)
    _, out2 = f(own, np.ones(5), m, np.eye(5))
    np.testing.assert_allclose(out2, 3 * np.arange(5.0))
    np.testing.assert_allclose(s.get_value(), np.arange(5.0))


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_trust_input_wrong_type_is_one_line_naming_the_input(mode):
    x, n = pt.dvector("x"), pt.lscalar("n")
    f = opgraph.function([n, x], x * n, mode=mode, trust_input=True)
    two = np.asarray(2, dtype="int64")
    np.testing.assert_allclose(f(two, np.ones(3)), [2.0, 2.0, 2.0])
    with pytest.raises(TypeError) as info:
        f(np.int64(2), [[1.0, 2.0]])   # the list is named, not the NumPy scalar
    msg = str(info.value)
    assert len(msg.splitlines()) == 1 and info.value.__cause__ is None
    assert "'x'" in msg and "Vector(float64" in msg and "got list" in msg
    if mode == "NUMBA":   # the compiled code itself rejects a wrong ndim
        with pytest.raises(TypeError, match=r"'x' expects Vector\(float64, shape=\(\?,\)\), got ndarray float64 "
                                            r"shape \(2, 2\)") as info:
            f(two, np.ones((2, 2)))
        assert len(str(info.value).splitlines()) == 1
        with pytest.raises(TypeError, match=r"'n' expects Scalar\(int64, shape=\(\)\), got the NumPy scalar"):
            f(np.int64(2), np.ones(3))


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_masked_arrays_are_rejected(mode):
    x = pt.dvector("x")
    f = opgraph.function([x], x * 2, mode=mode)
    masked = np.ma.array([1.0, 2.0, 3.0], mask=[0, 1, 0])
    with pytest.raises(TypeError, match="input 0 'x': masked arrays are not supported"):
        f(masked)
    with pytest.raises(TypeError, match="masked arrays"):
        f(x=masked)
    np.testing.assert_allclose(f(masked.filled(0.0)), [2.0, 0.0, 6.0])


def test_default_updates_and_no_default_updates():
    x = pt.dscalar("x")
    c = opgraph.shared(np.float64(0.0), name="c")
    c.default_update = c + 1
    f = opgraph.function([x], x + c, mode="PYTHON")
    f(1.0)
    f(1.0)
    assert c.get_value() == 2.0          # was 0: default_update ignored
    for option in (True, [c]):
        opgraph.function([x], x + c, mode="PYTHON", no_default_updates=option)(1.0)
        assert c.get_value() == 2.0
    # An explicit update wins over the default one.
    opgraph.function([x], x + c, mode="PYTHON", updates={c: c * 10})(1.0)
    assert c.get_value() == 20.0
    # A default update that reads another shared variable with its own default update.
    step = opgraph.shared(np.float64(1.0), name="step")
    step.default_update = step * 2
    c.default_update = c + step
    c.set_value(0.0)
    g = opgraph.function([x], x * c, mode="PYTHON")
    g(1.0)
    g(1.0)
    assert (c.get_value(), step.get_value()) == (3.0, 4.0)
    with pytest.raises(TypeError, match="no_default_updates lists"):
        opgraph.function([x], x + c, mode="PYTHON", no_default_updates=[x])


def test_accept_inplace():
    from opgraph.kernel_core.scalar import basic as ps
    from opgraph.kernel_core.tensor.elemwise import Elemwise

    x = pt.dvector("x")
    y = Elemwise(ps.exp, {0: 0})(x * 1)
    with pytest.raises(TypeError, match="contains the inplace operation .*accept_inplace=True"):
        opgraph.function([x], y, mode="PYTHON")
    f = opgraph.function([x], y, mode="PYTHON", accept_inplace=True)
    np.testing.assert_allclose(f(np.zeros(2)), [1.0, 1.0])


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_in_value_update_implicit_strict(mode):
    x, acc, hidden = pt.dscalar("x"), pt.dscalar("acc"), pt.dscalar("hidden")
    f = opgraph.function([In(x, strict=True), In(acc, value=0.0, update=acc + x),
                          In(hidden, value=10.0, implicit=True, update=hidden - 1)],
                         [acc * 1, hidden * 1], mode=mode)
    one = np.asarray(1.0)
    assert [float(v) for v in f(one)] == [0.0, 10.0]
    assert [float(v) for v in f(np.asarray(2.0))] == [1.0, 9.0]
    assert float(f["acc"]) == 3.0 and float(f[hidden]) == 8.0
    assert [float(v) for v in f(one, 100.0)] == [100.0, 8.0]   # an explicit value, then updated
    assert float(f["acc"]) == 101.0
    f["acc"] = 0.0
    assert float(f(one)[0]) == 0.0
    with pytest.raises(TypeError, match=r"takes 2 inputs \(x, acc\) but 3 were given"):
        f(one, 1.0, 1.0)
    with pytest.raises(TypeError, match="'hidden' is implicit"):
        f(one, hidden=1.0)
    with pytest.raises(TypeError, match="input 0 'x': expected an array of dtype float64, got float"):
        f(1.0)   # strict: no conversion
    with pytest.raises(ValueError, match="needs an initial value"):
        In(acc, update=acc + 1)
    with pytest.raises(ValueError, match="mutable=True with borrow=False"):
        In(acc, mutable=True, borrow=False)
    assert not In(acc, value=0.0, update=acc + 1).mutable and In(acc, mutable=True).borrow


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_outputs_are_fresh_unless_borrowed(mode):
    x = pt.dvector("x")
    y = pt.exp(x)
    f = opgraph.function([x], [y, y[1:], opgraph.Out(y * 2, borrow=True)], mode=mode)
    first = f(np.zeros(3))
    kept = [a.copy() for a in first]
    f(np.ones(3))
    for a, b in zip(first[:2], kept[:2]):   # not overwritten by the next call
        np.testing.assert_array_equal(a, b)
    assert first[0] is not first[1].base


def test_copy_share_memory_swap_delete_updates():
    x = pt.dscalar("x")
    w = opgraph.shared(np.float64(1.0), name="w")
    acc = pt.dscalar("acc")
    f = opgraph.function([x, In(acc, value=0.0, update=acc + 1)], x * w, updates={w: w + 1}, mode="PYTHON",
                         name="f")
    import copy

    own = copy.copy(f)
    assert own.name == "f copy"
    own(1.0)
    assert w.get_value() == 1.0 and float(f["acc"]) == 0.0          # own storage
    assert own.get_shared()[0].get_value() == 2.0 and float(own["acc"]) == 1.0
    same = f.copy(share_memory=True, name="g")
    same(1.0)
    assert w.get_value() == 2.0 and float(f["acc"]) == 1.0          # the same storage
    other = opgraph.shared(np.float64(10.0), name="other")
    swapped = f.copy(swap={w: other}, delete_updates=True)
    assert float(swapped(2.0)) == 20.0
    assert other.get_value() == 10.0 and w.get_value() == 2.0       # no updates written
    with pytest.raises(ValueError, match="not a shared variable of this function"):
        f.copy(swap={other: w})
    with pytest.raises(TypeError, match="has type"):
        f.copy(swap={w: opgraph.shared(np.zeros(2))})


_UNPICKLE_AND_CALL = """
import pickle, sys
import numpy as np
f = pickle.loads(sys.stdin.buffer.read())
out = f(np.zeros(3))
stats = f.maker.thunk.dispatcher.stats
print(out[0].tolist(), f.get_shared()[0].get_value().tolist(), sum(stats.cache_hits.values()),
      sum(stats.cache_misses.values()))
"""


def test_pickle_in_a_new_process_loads_from_the_disk_cache():
    import pickle
    import subprocess
    import sys

    x = pt.dvector("x")
    w = opgraph.shared(np.ones(3), name="w")
    f = opgraph.function([x], [pt.exp(x) * w], updates={w: w * 2}, mode="NUMBA")
    f.wait_compiled()   # the Numba tier fills the disk cache the new process loads from
    f(np.zeros(3))
    data = pickle.dumps(f)
    run = subprocess.run([sys.executable, "-c", _UNPICKLE_AND_CALL], input=data, capture_output=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    printed = run.stdout.decode()
    hits, misses = printed.split()[-2:]
    assert printed.startswith("[2.0, 2.0, 2.0] [4.0, 4.0, 4.0]")
    assert (int(hits), int(misses)) == (1, 0)     # machine code from the cache, no compilation
    assert w.get_value().tolist() == [2.0, 2.0, 2.0]   # the unpickled copy has its own storage
    # In-process (PYTHON): shared identity kept within one pickle, state of In(update=) kept.
    acc = pt.dscalar("acc")
    g = opgraph.function([In(acc, value=5.0, update=acc + 1)], acc * w.sum(), mode="PYTHON")
    g()
    g2, w2 = pickle.loads(pickle.dumps((g, w)))
    assert float(g2["acc"]) == 6.0 and float(g2()) == 36.0
    w2.set_value(np.zeros(3))
    assert float(g2()) == 0.0

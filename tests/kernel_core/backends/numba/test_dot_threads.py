"""blas_threads: the NUMBA backend's BLAS product and its thread policy.

The policy's decisions per shape, the OpenBLAS thread count seen before and after a call
(restored, never changed for good), the OpenBLAS worker threads observed through
/proc (a capped product wakes none of them, an uncapped one does), results against NumPy
for every layout and dtype, and the generated Dot code / attention kernels using it."""

import ctypes
import os
import threading
import time

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.backends.numba import attention_kernels, blas_threads
from opgraph.kernel_core.backends.numba.blas_threads import (
    GEMV_SERIAL_BELOW,
    OPENBLAS_SERIAL,
    SERIAL_BELOW,
    blas_dot,
    blas_threads_for,
)

_LIB = ctypes.CDLL(blas_threads.SCIPY_OPENBLAS)
get_threads = _LIB.scipy_openblas_get_num_threads
set_threads = _LIB.scipy_openblas_set_num_threads


@pytest.fixture
def two_threads():
    """scipy's OpenBLAS at two threads for the test, the caller's count restored after."""
    before = get_threads()
    set_threads(2)
    yield
    set_threads(before)


@pytest.mark.parametrize("m, n, k, capped", [
    (8, 8, 8, 0),                 # OpenBLAS runs it on one thread itself
    (50, 50, 1000, 1),            # the scan gradient's (50 x 1000) @ (1000 x 50)
    (100, 100, 100, 1),
    (200, 200, 200, 1),
    (255, 256, 256, 1),
    (256, 256, 256, 0),           # 2^24 multiply-adds: threads left to OpenBLAS
    (1000, 1000, 1000, 0),
    (1000, 1, 1000, 1),           # gemv
    (1, 1000, 1000, 1),           # row @ matrix: gemv of the transpose
    (2047, 1, 2048, 1),
    (2048, 1, 2048, 0),           # 2^22: left to OpenBLAS
    (96, 1, 96, 1),               # 9,216 = OPENBLAS_SERIAL
    (95, 1, 95, 0),
    (1, 1, 20000, 1),             # vector dot
])
def test_policy_decisions(m, n, k, capped):
    assert blas_threads_for(m, n, k) == capped
    assert blas_threads_for.py_func(m, n, k) == capped


def test_policy_constants_are_ordered():
    assert OPENBLAS_SERIAL < GEMV_SERIAL_BELOW < SERIAL_BELOW


def _operands(shape_x, shape_y, dtype, rng):
    x = rng.normal(size=shape_x)
    y = rng.normal(size=shape_y)
    if dtype.startswith("complex"):
        x = x + 1j * rng.normal(size=shape_x)
        y = y + 1j * rng.normal(size=shape_y)
    return x.astype(dtype), y.astype(dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32", "complex128"])
@pytest.mark.parametrize("shapes", [
    ((50, 1000), (1000, 50)),     # capped
    ((300, 300), (300, 300)),     # uncapped
    ((7, 5), (5, 3)),             # tiny
    ((200, 300), (300,)),         # gemv, capped
    ((300,), (300, 40)),
    ((20000,), (20000,)),
])
def test_results_match_numpy(two_threads, dtype, shapes):
    rng = np.random.default_rng(0)
    x, y = _operands(*shapes, dtype, rng)
    x0, y0 = x.copy(), y.copy()
    want = np.dot(x, y)
    layouts = [(x, y)]
    # Layouts only for float64: each (dtype, layout) pair is a signature numba compiles
    # cold (~0.6 s each), and blas_dot's layout handling does not depend on the dtype.
    if x.ndim == 2 and dtype == "float64":
        layouts.append((np.asfortranarray(x), y))
        xs = np.zeros((x.shape[0], 2 * x.shape[1]), dtype=dtype)[:, ::2]   # strided: copied
        xs[...] = x
        layouts.append((xs, y))
    if y.ndim == 2 and dtype == "float64":
        layouts.append((x, np.ascontiguousarray(y.T).T))                   # a transposed view
    tol = 1e-4 if dtype == "float32" else 1e-11
    for a, b in layouts:
        got = blas_dot(a, b)
        if want.ndim:                      # vector . vector: a scalar (dot.py boxes it)
            assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())
        assert get_threads() == 2
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize("shapes", [((50, 1000), (1000, 50)), ((256, 256), (256, 256)), ((4, 4), (4, 4))])
@pytest.mark.parametrize("user_threads", [1, 2, 3])
def test_thread_count_is_restored(shapes, user_threads):
    before = get_threads()
    try:
        set_threads(user_threads)
        x, y = _operands(*shapes, "float64", np.random.default_rng(1))
        blas_dot(x, y)
        assert get_threads() == user_threads
    finally:
        set_threads(before)


def test_misaligned_shapes_raise_and_leave_threads(two_threads):
    with pytest.raises(ValueError, match="not aligned"):
        blas_dot(np.ones((200, 300)), np.ones((301, 200)))
    assert get_threads() == 2


# --- the OpenBLAS workers' activity, observed ------------------------------------------

def _runtimes():
    """CPU time (ns, /proc/self/task/*/schedstat) of each thread of this process but the caller."""
    me = threading.get_native_id()
    out = {}
    for tid in os.listdir("/proc/self/task"):
        if int(tid) == me:
            continue
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as fh:
                out[int(tid)] = int(fh.read().split()[0])
        except FileNotFoundError:     # a thread that ended meanwhile
            pass
    return out


def _woken(before, after, tids=None):
    return {t for t in (tids if tids is not None else after) if after.get(t, 0) > before.get(t, 0)}


def _quiet(tids):
    """Wait until the threads ``tids`` stop running (OpenBLAS's workers spin a while after a
    product, then sleep until the next threaded one)."""
    last = _runtimes()
    for _ in range(200):
        time.sleep(0.05)
        now = _runtimes()
        if not _woken(last, now, tids):
            return
        last = now
    raise AssertionError(f"OpenBLAS workers {sorted(tids)} never went idle")


def test_capped_product_wakes_no_openblas_worker(two_threads):
    rng = np.random.default_rng(2)
    # 2^27 multiply-adds: OpenBLAS 0.3.31 threads these every time, where at 256^3 (our
    # policy's threshold) it ran some batches on the caller's thread alone, so the worker
    # set came out empty about one run in three.
    big = rng.normal(size=(512, 512))
    mid = rng.normal(size=(50, 1000)), rng.normal(size=(1000, 50))
    assert blas_threads_for(512, 512, 512) == 0 and blas_threads_for(50, 50, 1000) == 1

    def uncapped_workers():
        before = _runtimes()
        for _ in range(5):
            blas_dot(big, big)
        return _woken(before, _runtimes())

    workers = uncapped_workers()
    _quiet(workers)
    workers &= uncapped_workers()                # threads woken by both runs: OpenBLAS's workers
    assert workers, "no thread ran during threaded products: the observation does not work here"
    _quiet(workers)
    before = _runtimes()
    for _ in range(50):
        blas_dot(*mid)
    assert not _woken(before, _runtimes(), workers), "a capped product woke OpenBLAS's worker threads"


# --- the backend's users of the policy -------------------------------------------------

def test_generated_dot_calls_blas_dot(two_threads):
    x, y = pt.matrix("x"), pt.matrix("y")
    f = opgraph.function([x, y], pt.dot(x, y), mode="NUMBA")
    assert "blas_threads import blas_dot " in f.maker.thunk.source
    a, b = _operands((50, 1000), (1000, 50), "float64", np.random.default_rng(3))
    np.testing.assert_allclose(f(a, b), a @ b, rtol=1e-12)
    assert get_threads() == 2


def test_attention_kernels_restore_threads(two_threads):
    rng = np.random.default_rng(4)
    q, k, v = (rng.normal(size=(40, 8)) for _ in range(3))
    none = np.zeros((1, 1))
    out, lse = attention_kernels.forward(q, k, v, 0.35, none, 0, 0.0, 0, 16, 16)
    assert get_threads() == 2
    s = 0.35 * q @ k.T
    p = np.exp(s - s.max(axis=1, keepdims=True))
    np.testing.assert_allclose(out, (p / p.sum(axis=1, keepdims=True)) @ v, rtol=1e-10)
    attention_kernels.backward(q, k, v, 0.35, none, 0, 0.0, 0, out, lse, np.ones_like(out), np.zeros(40), 16, 16)
    assert get_threads() == 2

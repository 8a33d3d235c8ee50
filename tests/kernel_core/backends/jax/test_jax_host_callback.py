"""Host callbacks (backends/jax/host_callback.py) in mode JAX with float64 on and off (issue 17).

XLA's CPU runtime runs a larger computation on its own thread, outside the linker's
thread-local ``enable_x64``: JAX's wrapper then canonicalized a callback's float64 result
to float32 ("Expected: float64, Actual: float32").  The long input below runs there."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.backends.jax.host_callback import host_callback

LENGTHS = (3, 5, 200_000, 3)   # new shapes: re-traces; 200k runs on an XLA thread


@pytest.fixture(params=[False, True], ids=["x64_off", "x64_on"])
def global_x64(request):
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", request.param)
    yield request.param
    jax.config.update("jax_enable_x64", previous)


def test_gammaincinv_callback_across_retraces_equals_python_mode(global_x64):
    q, a = pt.dvector("q"), pt.dvector("a")
    out = pt.gammaincinv(a, q) * 2.0
    f = opgraph.function([q, a], out, mode="JAX")
    g = opgraph.function([q, a], out, mode="PYTHON")
    for n in LENGTHS:
        qv, av = np.linspace(0.05, 0.95, n), np.linspace(0.5, 4.0, n)
        got = f(qv, av)
        assert got.dtype == np.float64 and got.shape == (n,)
        np.testing.assert_array_equal(got, g(qv, av))
        assert jax.config.jax_enable_x64 is global_x64          # the user's config is unchanged


def test_solver_callback_float64_solution_across_retraces(global_x64):
    x, c = pt.dvector("x"), pt.dvector("c")
    solution, success = pt.optimize.root(x ** 3 - c, x)
    f = opgraph.function([x, c], [solution, success], mode="JAX")
    g = opgraph.function([x, c], [solution, success], mode="PYTHON")
    for n in (2, 4):
        xv, cv = np.ones(n), np.arange(1.0, n + 1)
        got, ok = f(xv, cv)
        want, want_ok = g(xv, cv)
        assert got.dtype == np.float64 and bool(ok) == bool(want_ok)
        np.testing.assert_array_equal(got, want)
        assert jax.config.jax_enable_x64 is global_x64


def test_host_callback_passes_64_bit_arguments_and_results_as_bits_on_any_thread():
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", False)
    try:
        def host(x):
            return np.asarray(x) * (1 + 2.0 ** -40), np.asarray(x).astype(np.int64) + 2 ** 40

        def fn(x):
            structs = (jax.ShapeDtypeStruct(x.shape, jnp.float64), jax.ShapeDtypeStruct(x.shape, jnp.int64))
            return host_callback(host, structs, x, vmap_method="broadcast_all")

        with jax.enable_x64(True):
            jitted = jax.jit(fn)
        for n in (6, 1_000_000, 1_000_000):   # long: XLA's CPU threads (timing-dependent)
            xv = np.arange(n, dtype=np.float64) + 0.5
            with jax.enable_x64(True):
                y, k = jax.block_until_ready(jitted(xv))
                batched = jax.block_until_ready(jax.vmap(jitted)(xv[:6].reshape(2, 3)))
            np.testing.assert_array_equal(np.asarray(y), xv * (1 + 2.0 ** -40))   # nothing rounded to float32
            np.testing.assert_array_equal(np.asarray(k), xv.astype(np.int64) + 2 ** 40)
            np.testing.assert_array_equal(np.asarray(batched[0]), xv[:6].reshape(2, 3) * (1 + 2.0 ** -40))
        with jax.enable_x64(True):
            scalar = jax.block_until_ready(jitted(np.float64(2.5)))   # 0-d: the host returns NumPy scalars
        assert np.asarray(scalar[0]).shape == () and float(scalar[0]) == 2.5 * (1 + 2.0 ** -40)
        assert not jax.config.jax_enable_x64
    finally:
        jax.config.update("jax_enable_x64", previous)

"""Scan (lax.scan / lax.while_loop) and IfElse (lax.cond) in mode "JAX", against mode PYTHON.

The loops (tests/kernel_core/scan/_recurrences.py, shared with test_scan.py) share one compiled
function per mode (compile cost)."""

import functools
import importlib.util
import os

import numpy as np
import pytest

pytest.importorskip("jax")

import opgraph  # noqa: E402
import opgraph.tensor as pt  # noqa: E402
from opgraph.gradient import grad  # noqa: E402
from opgraph.ifelse import ifelse  # noqa: E402
from opgraph.kernel_core.backends.jax.dispatch import JaxCompileError  # noqa: E402
from opgraph.scan.utils import until  # noqa: E402

_RECURRENCES_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "scan", "_recurrences.py")


def _loops():
    """The recurrences of tests/kernel_core/scan/_recurrences.py with the step counts JAX needs
    when compiling, the while loop's last value only, and the RNN with its gradient."""
    spec = importlib.util.spec_from_file_location("_recurrences_for_jax", _RECURRENCES_PATH)
    recurrences = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recurrences)
    return recurrences.build(power_steps=recurrences.POWER_STEPS, fib_steps=recurrences.FIB_STEPS,
                             while_trace=False, rnn=True)


@functools.lru_cache(maxsize=None)
def _results():
    loops = _loops()
    return loops, [opgraph.function(loops.inputs, loops.outputs, mode=m)(*loops.values) for m in ("PYTHON", "JAX")]


def test_loops_match_python_mode_and_numpy():
    loops, (py, jx) = _results()
    for name, a, b, want in zip(loops.output_names, py, jx, loops.expected):
        assert np.shape(a) == np.shape(b), name
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12, err_msg=f"{name}: JAX against PYTHON")
        np.testing.assert_allclose(b, want, rtol=1e-10, atol=1e-12, err_msg=f"{name}: JAX against NumPy")
    named = dict(zip(loops.output_names, jx))
    np.testing.assert_allclose(named["fib"], [1.0, 2, 3, 5, 8, 13])
    assert named["doubling"] == 32.0


def test_scan_uses_lax_loops():
    import jax

    loops = _loops()
    f = opgraph.function(loops.inputs, [loops.output("fib"), loops.output("doubling")], mode="JAX",
                         on_unused_input="ignore")
    fn = f.maker.thunk.graph_function
    with jax.enable_x64(True):
        text = str(jax.make_jaxpr(fn)(*loops.values))
    assert "scan[" in text and "while[" in text


def test_while_loop_with_a_trace_is_a_clear_compile_error():
    bound = pt.scalar("bound")
    doubling, _ = opgraph.scan(lambda p, b: (p * 2, until(p * 2 > b)), outputs_info=pt.constant(1.0),
                               non_sequences=bound, n_steps=100)
    with pytest.raises(JaxCompileError, match="while loop"):
        opgraph.function([bound], doubling, mode="JAX")(20.0)


def test_while_loop_with_a_runtime_step_count():
    bound, n = pt.scalar("bound"), pt.lscalar("n")
    doubling, _ = opgraph.scan(lambda p, b: (p * 2, until(p * 2 > b)), outputs_info=pt.constant(1.0),
                               non_sequences=bound, n_steps=n)
    f = opgraph.function([bound, n], doubling[-1], mode="JAX")
    assert f(20.0, 100) == 32.0
    assert f(20.0, 2) == 4.0        # stopped by n_steps first


def test_step_count_from_input_values_is_a_clear_compile_error():
    k = pt.lscalar("k")
    A = pt.vector("A")
    power, _ = opgraph.scan(lambda prior, A: prior * A, outputs_info=pt.ones_like(A), non_sequences=A, n_steps=k)
    with pytest.raises(JaxCompileError, match="n_steps"):
        opgraph.function([A, k], power, mode="JAX")(np.arange(3.0), 2)


def test_scan_with_random_draws_threads_the_key():
    rng = opgraph.shared(np.random.default_rng(42), name="rng")
    x = pt.vector("x")
    out, updates = opgraph.scan(lambda v: v + pt.random.normal(0, 1, rng=rng), sequences=x)
    f = opgraph.function([x], out, updates=updates, mode="JAX")
    first, second = f(np.zeros(2000)), f(np.zeros(2000))
    assert len(set(first.tolist())) == 2000                 # each step draws anew
    assert not np.allclose(first, second)                    # the update advanced the generator
    assert abs(first.mean()) < 0.1 and abs(first.std() - 1) < 0.1


def test_ifelse_matches_python_mode_and_its_gradient():
    a, b = pt.scalar("a"), pt.scalar("b")
    x, y = pt.vector("x"), pt.vector("y")
    z = ifelse(pt.lt(a, b), pt.mean(x) * a, pt.sum(y ** 2))
    pair = ifelse(pt.gt(a, 0), [x * 2, a], [y + 1, b])
    gx = grad(z, [x, a])
    outs = [z, *pair, *gx]
    fj = opgraph.function([a, b, x, y], outs, mode="JAX")
    fp = opgraph.function([a, b, x, y], outs, mode="PYTHON")
    xv, yv = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    for av, bv in ((1.0, 2.0), (3.0, 2.0), (-1.0, 2.0)):
        for got, want in zip(fj(av, bv, xv, yv), fp(av, bv, xv, yv)):
            np.testing.assert_allclose(got, want)


def test_ifelse_with_branch_shapes_jax_cannot_join():
    c = pt.scalar("c")
    x = pt.vector("x")
    z = ifelse(pt.gt(c, 0), x, pt.concatenate([x, x]))
    f = opgraph.function([c, x], z, mode="JAX")
    with pytest.raises(JaxCompileError, match="same shapes"):
        f(1.0, np.ones(2))


def test_ifelse_inside_a_scan():
    x = pt.vector("x")
    out, _ = opgraph.scan(lambda v, acc: ifelse(pt.gt(v, 0), acc + v, acc * 2), sequences=x,
                          outputs_info=pt.constant(1.0))
    xv = np.array([1.0, -1.0, 2.0, -3.0])
    np.testing.assert_allclose(opgraph.function([x], out, mode="JAX")(xv),
                               opgraph.function([x], out, mode="PYTHON")(xv))


def test_while_loop_over_a_sequence_checks_the_step_count():
    x, n = pt.vector("x"), pt.lscalar("n")
    out, _ = opgraph.scan(lambda v, acc: (acc + v, until(acc + v > 100)), sequences=x,
                          outputs_info=pt.constant(0.0), n_steps=n)
    f = opgraph.function([x, n], out[-1], mode="JAX")
    assert f(np.ones(5), 3) == 3.0
    with pytest.raises(ValueError, match="fewer steps than the loop"):
        f(np.ones(5), 7)

"""Mode "JAX" per call: Function's fast path into the jitted graph, read-only NumPy results
(no copy), profiles (one "JAX jit" entry, JAX's compile time apart), and the XLA program
of the stabilized logistic step (no more transcendental work than the hand-written one)."""

import collections
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.compile.mode import Mode


# -- the fast path -------------------------------------------------------------------------------
def test_fast_path_returns_read_only_host_views_and_converts_other_arguments():
    x = pt.vector("x")
    f = opgraph.function([x], [pt.exp(x), x * 2], mode="JAX")
    assert f._direct is not None
    xv = np.array([0.0, 1.0])
    e, d = f(xv)
    assert type(e) is np.ndarray and not e.flags.writeable          # JAX's buffer, not copied
    np.testing.assert_allclose(e, np.exp(xv))
    with pytest.raises(ValueError, match="read-only"):
        e[0] = 1.0
    # Not the compiled types: refused when JAX traces them, converted by the checked path,
    # same results (float64); later such calls are refused before JAX sees them.
    sizes = []
    for _ in range(3):
        got = f(np.array([0, 1]))[0]
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, np.exp(xv))
        sizes.append(f.maker.thunk.jitted._cache_size())
    assert sizes[0] == sizes[-1]
    np.testing.assert_allclose(f([0.0, 1.0])[1], [0.0, 2.0])
    np.testing.assert_allclose(f(jnp.asarray(xv))[0], np.exp(xv))   # a JAX array takes the fast path too
    # By name (the checked path): also the read-only results, not copies.
    byname = f(x=xv)[0]
    assert not byname.flags.writeable
    with pytest.raises(TypeError, match="takes 1 input"):
        f(xv, xv)


def _global_x64(on):
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", on)
    return previous


def test_with_float64_on_the_fast_path_is_the_jitted_graph_itself():
    previous = _global_x64(True)
    try:
        x = pt.vector("x")
        f = opgraph.function([x], pt.exp(x), mode="JAX")
        thunk = f.maker.thunk
        assert f._direct is thunk.jitted and thunk.direct_single   # no Python layer, no 1-tuple
        xv = np.array([0.0, 1.0])
        out = f(xv)
        assert type(out) is np.ndarray and not out.flags.writeable and out.dtype == np.float64
        np.testing.assert_allclose(out, np.exp(xv))
        # Other types: refused at JAX's trace, converted; then checked before JAX sees them.
        np.testing.assert_allclose(f(np.array([0, 1])), np.exp(xv))
        assert f._direct is not thunk.jitted
        sizes = [thunk.jitted._cache_size()]
        for _ in range(2):
            np.testing.assert_allclose(f(np.array([0, 1])), np.exp(xv))
            sizes.append(thunk.jitted._cache_size())
        assert sizes[0] == sizes[-1]
        np.testing.assert_allclose(f(xv), np.exp(xv))
        with pytest.raises(TypeError, match="takes 1 input"):
            f(xv, xv)
        # The caller turns float64 off after compiling: still float64 results (the graph is
        # not traced in float32), through the entry entering enable_x64.
        g = opgraph.function([x], [pt.exp(x), x.sum()], mode=Mode("JAX", jax_arrays=True))
        assert g._direct is g.maker.thunk.jitted
        jax.config.update("jax_enable_x64", False)
        e, s = g(xv)
        assert isinstance(e, jax.Array) and e.dtype == np.float64 and s.dtype == np.float64
        np.testing.assert_allclose(np.asarray(e), np.exp(xv))
        assert g._direct is not g.maker.thunk.jitted
        assert float(g(xv)[1]) == 1.0
    finally:
        _global_x64(previous)


def test_with_float64_off_the_fast_path_enters_it_per_call():
    previous = _global_x64(False)
    try:
        x = pt.vector("x")
        f = opgraph.function([x], [x * 2, x + 1], mode="JAX")
        assert f._direct is not None and f._direct is not f.maker.thunk.jitted
        a, b = f(np.array([1.0, 2.0]))
        assert a.dtype == b.dtype == np.float64 and not a.flags.writeable
        np.testing.assert_array_equal(b, [2.0, 3.0])
        assert f.maker.thunk.jitted._cache_size() == 1
        assert not jax.config.jax_enable_x64     # the user's config is left as it was
    finally:
        _global_x64(previous)


def test_fast_path_checks_static_shapes_and_value_errors_raise_once():
    x = pt.tensor("x", shape=(3,), dtype="float64")
    i = pt.lscalar("i")
    f = opgraph.function([x, i], x[i] * 2, mode="JAX")
    assert f._direct is not None
    assert f(np.ones(3), np.int64(2)) == 2.0
    with pytest.raises(ValueError, match="expected shape \\(3,\\)"):
        f(np.ones(4), np.int64(0))
    with pytest.raises(IndexError, match="out of bounds"):
        f(np.ones(3), np.int64(3))


def test_jax_arrays_fast_path_keeps_device_arrays():
    x = pt.matrix("x")
    f = opgraph.function([x], x.sum(axis=0), mode=Mode("JAX", jax_arrays=True), trust_input=True)
    with jax.enable_x64(True):
        ones = jnp.ones((2, 3))
    out = f(ones)
    assert isinstance(out, jax.Array) and out.dtype == np.float64
    # float32 (JAX's default) for a float64 input: refused when JAX traces it, then named.
    with pytest.raises(TypeError, match="input 0 'x' expects Matrix\\(float64"):
        f(jnp.ones((2, 3), dtype="float32"))
    assert f._direct is not None
    np.testing.assert_array_equal(np.asarray(f(np.ones((2, 3)))), [2.0, 2.0, 2.0])


def test_no_fast_path_with_updates_or_static_inputs():
    x = pt.vector("x")
    w = opgraph.shared(np.zeros(2), name="w")
    f = opgraph.function([x], x.sum(), updates={w: w + x}, mode="JAX")
    assert f._direct is None
    f(np.ones(2))
    f(np.ones(2))
    np.testing.assert_array_equal(w.get_value(), [2.0, 2.0])
    n = pt.lscalar("n")
    g = opgraph.function([n], pt.arange(n), mode=Mode("JAX", static_inputs="n"))
    assert g._direct is None
    np.testing.assert_array_equal(g(np.int64(2)), [0, 1])


# -- profiles ---------------------------------------------------------------------------------------
def test_profile_has_one_jax_jit_entry_and_jax_compile_time_apart():
    x = pt.vector("x")
    f = opgraph.function([x], pt.exp(x) + 1, mode="JAX", profile=True)
    prof = f.profile
    assert f._direct is None   # profiled calls go through the timing wrapper
    f(np.zeros(3))
    first_compile = prof.jax_jit_time
    assert first_compile > 0.0
    f(np.zeros(3))
    assert prof.jax_jit_time == first_compile                      # same signature: no new compile
    f(np.zeros(5))
    assert prof.jax_jit_time > first_compile                       # a new shape: traced and compiled again
    (row,) = prof.node_table()
    assert row.op_class == "JaxJit" and row.calls == 3 == prof.fct_callcount
    assert "JAX jit (whole graph" in row.op and row.input_shapes == ((5,),)
    assert 0.0 < row.time <= prof.vm_call_time <= prof.fct_call_time
    text = prof.summary(file="str")
    assert "jax: trace + XLA compile" in text and "no per-node times" in text
    assert prof.as_dict()["compile"]["jax_jit"] == prof.jax_jit_time
    from opgraph.widgets.profile_view import profile_data

    data = profile_data(prof, "JAX")
    assert data["calls"] == 3 and [n["op_class"] for n in data["nodes"]] == ["JaxJit"]
    # The compile phases of a JAX function: JAX's jit instead of Numba's (whose list is unchanged,
    # tests/widgets/test_profile_view.py); the total counts it.
    phases = {p["key"]: p["seconds"] for p in data["compile"]["phases"]}
    assert list(phases) == ["graph", "rewrite", "codegen", "jax_jit"]
    assert phases["jax_jit"] == prof.jax_jit_time
    assert data["compile"]["total"] == pytest.approx(prof.compile_time + prof.jax_jit_time)
    from opgraph.display.profile_panel import compile_breakdown_html

    html = compile_breakdown_html(prof)
    assert "<th>JAX jit (first calls)</th>" in html and "Numba jit" not in html


# -- the XLA program of W4 -----------------------------------------------------------------------
_TRANSCENDENTAL = ("exponential", "log", "log-plus-one", "exponential-minus-one", "logistic", "tanh", "power")


def _transcendental_ops(compiled_text):
    ops = collections.Counter(re.findall(r" ([a-z\-]+)\(", compiled_text))
    return sum(ops[o] for o in _TRANSCENDENTAL)


def test_logistic_step_compiles_to_no_more_transcendental_work_than_hand_written_jax():
    """The stabilized loss (softplus of +-t) and its gradient (sigmoid of +-t) share one
    exp(-|t|) in mode JAX: the program has no more exp/log calls than jax.grad of log(p)."""
    X, y = pt.matrix("X"), pt.vector("y")
    alpha, beta, lr = pt.scalar("alpha"), pt.vector("beta"), pt.scalar("lr")
    p = pt.sigmoid(alpha + X @ beta)
    loss = -(y * pt.log(p) + (1 - y) * pt.log(1 - p)).mean()
    ga, gb = opgraph.grad(loss, [alpha, beta])
    f = opgraph.function([X, y, alpha, beta, lr], [loss, alpha - lr * ga, beta - lr * gb], mode="JAX")
    rng = np.random.default_rng(0)
    args = (rng.standard_normal((20, 3)), (rng.random(20) > 0.5).astype(float), np.array(0.1),
            rng.standard_normal(3), np.array(0.01))

    def hand_loss(alpha, beta, X, y):
        q = jax.nn.sigmoid(alpha + X @ beta)
        return -(y * jnp.log(q) + (1 - y) * jnp.log(1 - q)).mean()

    def hand_step(X, y, alpha, beta, lr):
        value, (ga, gb) = jax.value_and_grad(hand_loss, argnums=(0, 1))(alpha, beta, X, y)
        return value, alpha - lr * ga, beta - lr * gb

    with jax.enable_x64(True):
        ours = f.maker.thunk.jitted.lower(*args).compile().as_text()
        hand = jax.jit(hand_step).lower(*args).compile().as_text()
        want = [np.asarray(v) for v in jax.jit(hand_step)(*args)]
    assert _transcendental_ops(ours) <= _transcendental_ops(hand) == 3
    for got, w in zip(f(*args), want):
        np.testing.assert_allclose(got, w, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_softplus_and_sigmoid_of_plus_minus_t_are_exact_everywhere(dtype):
    from scipy.special import expit

    t = pt.vector("t", dtype=dtype)
    outs = [pt.softplus(t), pt.softplus(-t), pt.sigmoid(t), pt.sigmoid(-t), pt.log(pt.sigmoid(t)),
            pt.log(1 - pt.sigmoid(t))]
    tv = np.concatenate([np.linspace(-800, 800, 41), [-1e-8, 0.0, 1e-8, 30.0, -30.0]]).astype(dtype)
    got = opgraph.function([t], outs, mode="JAX")(tv)
    t64 = tv.astype("float64")
    want = [np.logaddexp(0, t64), np.logaddexp(0, -t64), expit(t64), expit(-t64), -np.logaddexp(0, -t64),
            -np.logaddexp(0, t64)]
    rtol = 1e-13 if dtype == "float64" else 1e-5
    tiny = np.finfo(dtype).tiny   # XLA on CPU flushes subnormal results to zero
    for g, w in zip(got, want):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, w.astype(dtype), rtol=rtol, atol=tiny)

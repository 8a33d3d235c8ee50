"""Mode "JAX": the linker's boundary (NumPy or JAX arrays, scoped float64, updates),
static shapes and their errors, the optional dependency, and opgraph.link.jax.to_jax."""

import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.backends.jax.dispatch import JaxCompileError, jax_funcify_fgraph
from opgraph.kernel_core.backends.jax.linker import JaxLinker
from opgraph.kernel_core.compile.mode import Mode, get_mode
from opgraph.kernel_core.graph.fgraph import FunctionGraph


def _run(code):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=300)


# -- the boundary ------------------------------------------------------------------------------
def test_float64_in_scope_and_the_global_config_unchanged():
    before = jax.config.jax_enable_x64
    x = pt.vector("x")
    f = opgraph.function([x], [pt.exp(x) * 1e-300, x.sum()], mode="JAX")
    xv = np.array([0.5, 1.0, 700.0])
    out, total = f(xv)
    assert jax.config.jax_enable_x64 == before
    assert out.dtype == np.float64 and total.dtype == np.float64
    np.testing.assert_allclose(out, np.exp(xv) * 1e-300, rtol=1e-14)   # exp(700) overflows float32
    assert type(out) is np.ndarray


def test_jax_arrays_keep_device_arrays():
    x = pt.matrix("x")
    f = opgraph.function([x], x @ x.T, mode=Mode("JAX", jax_arrays=True))
    out = f(np.eye(2) * 3)
    assert isinstance(out, jax.Array)
    np.testing.assert_array_equal(np.asarray(out), np.eye(2) * 9)
    assert Mode("JAX", jax_arrays=True).exclude == ("inplace",)


def test_updates_and_a_training_loop_on_the_device():
    """Shared variables update as with the other linkers; with jax_arrays=True the
    parameters stay JAX arrays between calls (no copy to the host)."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    results = {}
    for mode in ("PYTHON", "JAX", Mode("JAX", jax_arrays=True)):
        w = opgraph.shared(np.zeros(3), name="w")
        xs, ys = pt.matrix("xs"), pt.vector("ys")
        loss = ((xs @ w - ys) ** 2).mean()
        step = opgraph.function([xs, ys], loss, updates={w: w - 0.1 * opgraph.grad(loss, w)}, mode=mode)
        losses = [float(step(X, y)) for _ in range(5)]
        if isinstance(mode, Mode):
            assert isinstance(w.container.value, jax.Array)
        results[str(mode)] = (losses, np.asarray(w.get_value()))
    (lp, wp), (lj, wj), (ld, wd) = results.values()
    np.testing.assert_allclose(lj, lp, rtol=1e-12)
    np.testing.assert_allclose(wj, wp, rtol=1e-12)
    np.testing.assert_allclose(wd, wp, rtol=1e-12)
    assert lp[-1] < lp[0]


def test_mode_jax_is_predefined_and_excludes_inplace():
    mode = get_mode("JAX")
    assert mode.linker == "jax" and "inplace" in mode.exclude
    x = pt.vector("x")
    f = opgraph.function([x], pt.exp(x) + 1, mode="JAX")
    assert not any(getattr(n.op, "destroy_map", None) for n in f.maker.fgraph.apply_nodes)
    assert isinstance(f.maker.linker, JaxLinker)
    with pytest.raises(ValueError, match="options of the JAX linker"):
        Mode("py", jax_arrays=True)


def test_one_compilation_per_signature():
    x = pt.vector("x")
    f = opgraph.function([x], (x * 2).sum(), mode="JAX")
    for _ in range(3):
        f(np.ones(4))
    assert f.maker.thunk.jitted._cache_size() == 1


def test_import_opgraph_does_not_import_jax():
    res = _run("""
        import sys
        import numpy as np
        import opgraph, opgraph.tensor as pt
        x = pt.vector("x")
        opgraph.function([x], x + 1, mode="PYTHON")(np.ones(2))
        print("jax" in sys.modules)
    """)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"


def test_without_jax_mode_jax_says_how_to_install_it():
    res = _run("""
        import sys
        sys.modules["jax"] = None     # import jax now raises ImportError
        import opgraph, opgraph.tensor as pt
        x = pt.vector("x")
        try:
            opgraph.function([x], x + 1, mode="JAX")
        except ImportError as exc:
            print(exc)
    """)
    assert res.returncode == 0, res.stderr
    assert 'pip install "opgraph[jax]"' in res.stdout


def test_an_op_without_implementation_is_named_when_compiling():
    from opgraph.kernel_core.graph.basic import Apply
    from opgraph.kernel_core.graph.op import Op

    class Twice(Op):
        __props__ = ()

        def make_node(self, x):
            return Apply(self, [x], [x.type()])

        def perform(self, node, inputs, output_storage):
            output_storage[0][0] = inputs[0] * 2

    x = pt.vector("x")
    with pytest.raises(NotImplementedError, match="JAX backend has no implementation for Twice"):
        opgraph.function([x], Twice()(x), mode="JAX")


def test_jax_funcify_fgraph_is_one_function_of_a_whole_graph():
    x, y = pt.vector("x"), pt.scalar("y")
    fg = FunctionGraph([x, y], [x * y, (x ** 2).sum()])
    fn = jax_funcify_fgraph(fg)
    with jax.enable_x64(True):
        a, b = jax.jit(fn)(np.array([1.0, 2.0]), 3.0)
    np.testing.assert_array_equal(np.asarray(a), [3.0, 6.0])
    assert float(b) == 5.0


# -- static shapes -------------------------------------------------------------------------------
def test_shapes_derived_from_static_shapes_compile():
    x = pt.matrix("x")
    outs = [pt.arange(x.shape[0] * 2), pt.zeros((x.shape[1], 2)), x.reshape((x.shape[0] * x.shape[1] // 2, -1)),
            pt.eye(x.shape[0]), pt.alloc(x[0, 0], x.shape[1], 3)]
    xv = np.arange(12.0).reshape(3, 4)
    got = opgraph.function([x], outs, mode="JAX")(xv)
    want = opgraph.function([x], outs, mode="PYTHON")(xv)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
        assert g.dtype == w.dtype


@pytest.mark.parametrize("build, op_name", [
    (lambda n, v: pt.arange(n), "ARange"),
    (lambda n, v: pt.zeros((n, 2)), "Alloc"),
    (lambda n, v: v.reshape((n, -1)), "Reshape"),
    (lambda n, v: v[v > 0], "AdvancedSubtensor"),
    (lambda n, v: pt.unique(v), "Unique"),
    (lambda n, v: v[n:], "Subtensor"),
])
def test_value_dependent_shapes_say_why(build, op_name):
    n, v = pt.lscalar("n"), pt.vector("v")
    f = opgraph.function([n, v], build(n, v), mode="JAX", on_unused_input="ignore")
    with pytest.raises(JaxCompileError, match=f"JAX cannot compile {op_name}") as info:
        f(np.int64(2), np.array([1.0, -2.0, 3.0, 4.0]))
    assert "compile time" in str(info.value) or "only known at run time" in str(info.value)
    assert "Tracer" not in str(info.value).split(":")[0]
    err = info.value   # no JAX tracer error chained to it
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)


def test_static_inputs_compile_once_per_value():
    n = pt.lscalar("n")
    out = pt.arange(n) * 2
    mode = Mode(linker=JaxLinker(static_inputs=("n",)), optimizer="fast_run", exclude=("inplace",))
    f = opgraph.function([n], out, mode=mode)
    np.testing.assert_array_equal(f(np.int64(3)), [0, 2, 4])
    np.testing.assert_array_equal(f(np.int64(5)), [0, 2, 4, 6, 8])
    f(np.int64(3))
    assert f.maker.thunk.jitted._cache_size() == 2
    with pytest.raises(ValueError, match="static input 'm'"):
        opgraph.function([n], out, mode=Mode(linker=JaxLinker(static_inputs=("m",))))


# -- opgraph.link.jax ---------------------------------------------------------------------------
def test_to_jax_exports_a_jittable_function_whose_jax_grad_is_opgraphs():
    from opgraph.link.jax import JAXLinker, jax_funcify, to_jax

    assert JAXLinker is JaxLinker and callable(jax_funcify)
    x = pt.vector("x")
    w = opgraph.shared(np.array([1.0, 2.0, -0.5]), name="w")
    cost = pt.exp(x * w).sum() + pt.log1p(x ** 2).sum() + (pt.sigmoid(x) @ w)
    f = to_jax(cost, [x])
    g_opgraph = opgraph.function([x], opgraph.grad(cost, x), mode="PYTHON")
    xv = np.array([0.1, -0.2, 0.3])
    with jax.enable_x64(True):
        np.testing.assert_allclose(np.asarray(jax.grad(f)(xv)), g_opgraph(xv), rtol=1e-12)
        np.testing.assert_allclose(float(jax.jit(f)(xv)), opgraph.function([x], cost, mode="PYTHON")(xv),
                                   rtol=1e-12)
    two = to_jax([cost, x * 2], [x])
    with jax.enable_x64(True):
        out = two(xv)
    assert isinstance(out, tuple) and len(out) == 2


# -- bad values ---------------------------------------------------------------------------------
def test_out_of_bounds_indices_raise_instead_of_clamping():
    """JAX clamps out-of-bounds gathers; mode JAX raises IndexError like the other modes
    (static indices while tracing, traced index arrays after the call)."""
    x, iv = pt.matrix("x"), pt.lvector("iv")
    outs = [x[iv], pt.set_subtensor(x[:, iv], 1.0), pt.take_along_axis(x[:1], iv[None, :], 1),
            pt.inc_subtensor(x[iv, 0], 2.0)]
    f = opgraph.function([x, iv], outs, mode="JAX")
    xv = np.arange(16.0).reshape(4, 4)
    for got, want in zip(f(xv, np.array([0, -1, 3])), opgraph.function([x, iv], outs, mode="PYTHON")(xv, [0, -1, 3])):
        np.testing.assert_array_equal(got, want)
    for bad in ([0, -5, 1], [4]):
        with pytest.raises(IndexError, match="out of bounds for axis"):
            f(xv, np.array(bad))
    g = opgraph.function([x], x[pt.constant(np.array([0, 7]))], mode="JAX")
    with pytest.raises(IndexError, match="index 7 is out of bounds for axis 0 with size 4"):
        g(xv)


def test_traced_scalar_index_raises_instead_of_clamping():
    """x[i] with an input i (basic indexing, a traced scalar): IndexError after the call, in
    reads, writes and the gradient's inc_subtensor; constant indices need no checkify."""
    from opgraph.kernel_core.backends.jax.checks import needs_checks

    x, i = pt.vector("x"), pt.lscalar("i")
    outs = [x[i], pt.set_subtensor(x[i], 7.0), opgraph.grad((x[i] ** 2).sum(), x)]
    f = opgraph.function([x, i], outs, mode="JAX")
    ref = opgraph.function([x, i], outs, mode="PYTHON")
    xv = np.arange(3.0)
    for k in (0, 2, -1, -3):
        for got, want in zip(f(xv, np.int64(k)), ref(xv, np.int64(k))):
            np.testing.assert_array_equal(got, want)
    for k in (3, -4, 100):
        with pytest.raises(IndexError, match="out of bounds for axis 0 with size 3"):
            f(xv, np.int64(k))
        with pytest.raises(IndexError):
            ref(xv, np.int64(k))
    m = pt.matrix("m")
    g = opgraph.function([m, i], m[1:, i], mode="JAX")
    np.testing.assert_array_equal(g(np.eye(3), np.int64(1)), [1.0, 0.0])
    with pytest.raises(IndexError, match="axis 1 with size 3"):
        g(np.eye(3), np.int64(3))
    constant = opgraph.function([x], x[0] + x[1:].sum() + x[-1], mode="JAX")
    assert not needs_checks(constant.maker.fgraph) and needs_checks(f.maker.fgraph)


def test_cholesky_on_error_raise_raises_like_the_other_modes():
    a = pt.matrix("a")
    bad = np.array([[1.0, 2.0], [2.0, 1.0]])
    f = opgraph.function([a], pt.linalg.cholesky(a), mode="JAX")
    np.testing.assert_allclose(f(np.eye(2) * 4), np.eye(2) * 2)
    for mode in ("JAX", "PYTHON"):
        with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
            opgraph.function([a], pt.linalg.cholesky(a), mode=mode)(bad)
    assert np.isnan(opgraph.function([a], pt.linalg.cholesky(a, on_error="nan"), mode="JAX")(bad)).all()
    # Blockwise (a batch of matrices): the core op's check runs under vmap.
    b = pt.tensor3("b")
    fb = opgraph.function([b], pt.linalg.cholesky(b), mode="JAX")
    np.testing.assert_allclose(fb(np.stack([np.eye(2), 4 * np.eye(2)]))[1], 2 * np.eye(2))
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        fb(np.stack([np.eye(2), bad]))


def test_mode_passes_static_inputs_to_the_linker():
    n = pt.lscalar("n")
    out = pt.arange(n) * 2
    for static in ("n", 0, n, ("n",)):
        mode = Mode("JAX", static_inputs=static)
        f = opgraph.function([n], out, mode=mode)
        np.testing.assert_array_equal(f(np.int64(3)), [0, 2, 4])
        np.testing.assert_array_equal(f(np.int64(4)), [0, 2, 4, 6])
    assert mode == Mode("JAX", static_inputs=["n"]) and mode != Mode("JAX", static_inputs=(n,)) != Mode("JAX")
    assert "static_inputs" in str(Mode("JAX", static_inputs="n").clone())
    with pytest.raises(JaxCompileError):
        opgraph.function([n], out, mode="JAX")(np.int64(3))
    with pytest.raises(ValueError, match="options of the JAX linker"):
        Mode("NUMBA", static_inputs=("n",))
    with pytest.raises(ValueError, match="static input .* not an input"):
        opgraph.function([n], out, mode=Mode("JAX", static_inputs=(pt.lscalar("m"),)))


def test_config_mode_jax_is_the_default_mode_of_function():
    x = pt.vector("x")
    with opgraph.config.change(mode="JAX"):
        f = opgraph.function([x], pt.exp(x))
    assert f.maker.mode.linker_name == "jax"
    np.testing.assert_allclose(f(np.zeros(2)), np.ones(2))

"""The case tables of the dual-mode suite: every op of the library, compiled with
mode="NUMBA" and mode="PYTHON", equal results.

Each family (elementwise, reductions, shape, join, construction, extra ops,
indexing, inc/set, dot/Blockwise, linalg, ...) is ONE compiled function with many
outputs, so compile cost stays one numba compilation per family (the disk cache in
OPGRAPH_CACHE_DIR makes re-runs cheap).  Every NUMBA function must be free of
objmode fallbacks (documented exceptions: ``allow_objmode``), and the Numba linker
must not have given up (NumbaFallbackWarning is an error here).

The families run in the test files named in ``PARTS`` (test_dual_mode_<part>.py,
split so that ``--dist loadfile`` spreads the compiling over the workers);
test_dual_mode_ops.py checks that ``PARTS`` runs every family once and that every
Op class of the library (``NOT_COMPILED`` below lists the exceptions) appears in
some family's NUMBA graph.  tests/kernel_core/backends/jax/test_jax_dual_mode.py
loads a private copy of this module whose ``run_both`` compares PYTHON with JAX.
"""

import importlib
import pkgutil
import warnings
import zlib
from contextlib import contextmanager
from functools import lru_cache, partial

import numpy as np

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.backends.numba.linker import NumbaFallbackWarning, NumbaLinker
from opgraph.kernel_core.compile.mode import Mode
from opgraph.kernel_core.gradient import grad
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.scalar.composite import Composite
from opgraph.kernel_core.tensor import linalg as la
from opgraph.kernel_core.tensor.blockwise import Blockwise
from opgraph.kernel_core.tensor.elemwise import Elemwise, scalar_from_tensor, tensor_from_scalar

RNG = np.random.default_rng(20240601)

# Ops allowed to run in objmode (no numba routine; see backends/numba/linalg.py).
OBJMODE_ALLOWED = {"QR"}


def _abs_compare(g, w, rtol, atol):
    """Singular / eigen vectors are defined up to a sign per column."""
    np.testing.assert_allclose(np.abs(g), np.abs(w), rtol=rtol, atol=atol)


class Case:
    def __init__(self, out, rtol=1e-9, atol=1e-12, cmp=None):
        self.out, self.rtol, self.atol, self.cmp = out, rtol, atol, cmp


def _as_cases(outs):
    return [o if isinstance(o, Case) else Case(o) for o in outs]


def _seen_ops(fgraph):
    ops = set()
    for node in fgraph.apply_nodes:
        op = node.op
        ops.add(type(op))
        if isinstance(op, Blockwise):
            ops.add(type(op.core_op))
        if isinstance(op, Elemwise):
            ops.add(type(op.scalar_op))
            if isinstance(op.scalar_op, Composite):
                ins, outs = op.scalar_op.inner_graphs()[0] if isinstance(op.scalar_op.inner_graphs(), list) \
                    else op.scalar_op.inner_graphs()
                from opgraph.kernel_core.graph.traversal import io_toposort

                ops.update(type(n.op) for n in io_toposort(ins, outs))
    return ops


_graph_only = False   # True inside graphs_only(): run_both rewrites, compiles nothing


@contextmanager
def graphs_only():
    """Within: ``run_both`` returns the op classes of the rewritten NUMBA graph without
    compiling it (the Python tier is linked, never called; Numba compiles nothing).  The
    coverage test uses this: each family's own test compiles and compares it."""
    global _graph_only
    _graph_only = True
    try:
        with opgraph.config.change(tiered_compile="on_wait"):
            yield
    finally:
        _graph_only = False


def run_both(inputs, outputs, values, allow_objmode=(), numba_cache=True):
    """Compile in both modes, compare every output; returns the op classes of the NUMBA graph.

    ``numba_cache=False`` compiles the NUMBA function in this process even when the disk
    cache holds it: a test that reads the shared kernels' numba signatures afterwards needs
    them typed here (a cached graph function loads its callees' machine code untyped)."""
    cases = _as_cases(outputs)
    outs = [c.out for c in cases]
    if _graph_only:
        return _seen_ops(opgraph.function(inputs, outs, mode="NUMBA").maker.fgraph)
    numba_mode = "NUMBA" if numba_cache else Mode(linker=NumbaLinker(use_cache=False), optimizer="fast_run")
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumbaFallbackWarning)
        f_numba = opgraph.function(inputs, outs, mode=numba_mode)
    f_py = opgraph.function(inputs, outs, mode="PYTHON")
    source = f_numba.maker.thunk.source
    if "objmode" in source:
        used = {n.op for n in f_numba.maker.fgraph.apply_nodes}
        names = {type(getattr(op, "core_op", op)).__name__ for op in used}
        offenders = [ln for ln in source.splitlines() if ln.startswith("def perform_")]
        assert allow_objmode and names & set(allow_objmode), f"objmode fallback used: {offenders}"
    got, want = f_numba(*values), f_py(*values)
    assert len(got) == len(want) == len(cases)
    for k, (c, g, w) in enumerate(zip(cases, got, want)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, f"output {k} ({c.out}): shape {g.shape} != {w.shape}"
        assert g.dtype == w.dtype, f"output {k} ({c.out}): dtype {g.dtype} != {w.dtype}"
        if c.cmp is not None:
            c.cmp(g, w, c.rtol, c.atol)
        elif g.dtype.kind in "fc":
            np.testing.assert_allclose(g, w, rtol=c.rtol, atol=c.atol, equal_nan=True, err_msg=f"output {k}: {c.out}")
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"output {k}: {c.out}")
    return _seen_ops(f_numba.maker.fgraph)


# -- families -------------------------------------------------------------------------------
UNARY_ON_UNIT = ["exp", "expm1", "log1p", "sin", "cos", "tan", "arctan", "sinh", "cosh", "tanh", "arcsinh",
                 "sigmoid", "softplus", "erf", "erfc", "gammaln", "psi", "sqrt", "log", "abs", "sign", "floor",
                 "ceil", "neg", "sqr", "erfinv", "erfcx", "arcsin", "arccos", "arctanh", "exp2", "log2", "log10",
                 "reciprocal", "isnan", "isinf", "round_half_to_even", "gamma", "tri_gamma", "log1pexp", "identity"]


def _gradient_markers():
    from opgraph import gradient as g

    return [g.consider_constant, g.zero_grad, g.disconnected_grad, lambda v: g.grad_clip(v, -1, 1),
            lambda v: g.grad_scale(v, 2.0)]


_GRADIENT_MARKERS = _gradient_markers()


def family_elemwise_float():
    x = pt.vector("x")
    y = pt.vector("y")
    outs = [getattr(pt, name)(x) for name in UNARY_ON_UNIT]
    outs += [pt.log1mexp(-x), pt.arccosh(1.0 + x), x + y, x - y, x * y, x / y, x ** y, pt.pow(x, 3),
             pt.maximum(x, y), pt.minimum(x, y), pt.arctan2(x, y), pt.mod(x, y), pt.floor_divide(x, y),
             pt.switch(x > y, x, y), pt.clip(x, 0.2, 0.7), pt.second(x, y), pt.lt(x, y), pt.le(x, y), pt.gt(x, y),
             pt.ge(x, y), pt.eq(x, x), pt.neq(x, y), pt.cast(x * 10, "int32"), pt.cast(x, "float32") * 2]
    outs += [m(x) * 2 for m in _GRADIENT_MARKERS]  # identities in the forward pass
    xv = RNG.uniform(0.05, 0.95, size=7)
    yv = RNG.uniform(0.05, 0.95, size=7)
    return run_both([x, y], [Case(o, rtol=1e-7) for o in outs], [xv, yv])


def family_elemwise_dtypes():
    i, j = pt.vector("i", dtype="int64"), pt.vector("j", dtype="int64")
    a = pt.vector("a", dtype="int32")
    u = pt.vector("u", dtype="uint8")
    b, c = pt.vector("b", dtype="bool"), pt.vector("c", dtype="bool")
    f = pt.vector("f", dtype="float32")
    m = pt.matrix("m")
    z = pt.vector("z", dtype="complex128")
    outs = [i + j, i - j, i * j, i // j, i % j, pt.true_div(i, j), i ** 2, pt.maximum(i, j), pt.abs(i), pt.sign(i),
            -i, pt.bitwise_and(i, j), pt.bitwise_or(i, j), pt.bitwise_xor(i, j), pt.invert(i),
            pt.and_(b, c), pt.or_(b, c), pt.xor(b, c), pt.invert(b), pt.switch(b, i, j), a + i, a * 3, u + 1,
            u + a, pt.cast(b, "int8") + 1, Case(f * 2 + 1, rtol=1e-6), Case(pt.exp(f), rtol=1e-6),
            Case(f + i, rtol=1e-6), pt.cast(i, "float64") / 3, pt.eq(i, j), pt.lt(a, u),
            m + pt.cast(i[:3], "float64")[:, None], pt.exp(m).T * 2, m.T + 1,
            m[None, :, :] * pt.specify_broadcastable(m[:, None, :1], 2),  # only static 1s broadcast
            z * 2 + 1, pt.abs(z)]  # complex exp: scalar.py casts the argument to float64 (reported)
    iv, jv = np.array([5, -3, 7, 0, 9]), np.array([2, 4, -2, 3, 1])
    return run_both([i, j, a, u, b, c, f, m, z], outs,
                    [iv, jv, np.array([1, 2, 3, 4, -5], dtype="int32"), np.array([0, 1, 200, 3, 255], dtype="uint8"),
                     np.array([True, False, True, True, False]), np.array([False, False, True, False, True]),
                     np.array([0.5, -1.5, 2.0, 3.25, -0.75], dtype="float32"), RNG.normal(size=(3, 4)),
                     np.array([1 + 2j, -0.5j, 3, 0, 1 - 1j])])


def family_reductions():
    t = pt.tensor3("t")
    m = pt.matrix("m")
    b = pt.matrix("b", dtype="bool")
    i = pt.matrix("i", dtype="int32")
    outs = [t.sum(), t.sum(axis=0), t.sum(axis=(0, 2)), t.sum(axis=1, keepdims=True), t.prod(axis=2),
            t.max(axis=(1, 2)), t.min(axis=0, keepdims=True), m.max(), m.min(), pt.argmax(m, axis=1),
            pt.argmin(m), pt.argmax(t, axis=2), m.mean(axis=0), m.var(axis=1), m.std(), b.all(axis=1),
            b.any(), b.all(), b.any(axis=0, keepdims=True), i.sum(axis=0), i.prod(), i.max(axis=1),
            pt.logsumexp(m, axis=1), m.sum(axis=-1, keepdims=True)]
    return run_both([t, m, b, i], outs, [RNG.normal(size=(2, 3, 4)), RNG.normal(size=(3, 4)),
                                         RNG.normal(size=(3, 4)) > 0, RNG.integers(-5, 5, size=(3, 4), dtype="int32")])


def family_shape():
    m = pt.matrix("m")
    t = pt.tensor3("t")
    n = pt.lscalar("n")
    outs = [m.shape, m.shape[0] + m.shape[1], pt.shape_i(m, 1), m.reshape((2, 6)) * 2, m.flatten(),
            pt.reshape(m, (n, -1)), t.dimshuffle(2, 0, 1) + 0, t.transpose(1, 0, 2) * 1, pt.expand_dims(m, 1) + 0,
            pt.squeeze(m[:1]) + 0, pt.specify_shape(m, (3, 4)) + 1, pt.shape_padleft(m) + 0, t.reshape((n, 2, 6)),
            tensor_from_scalar(scalar_from_tensor(n)) * 2]
    return run_both([m, t, n], outs, [RNG.normal(size=(3, 4)), RNG.normal(size=(2, 3, 4)), np.int64(2)])


def family_join():
    m = pt.matrix("m")
    v = pt.vector("v")
    ax = pt.lscalar("ax")
    s = pt.scalar("s")
    sizes = pt.lvector("sizes")
    outs = [pt.join(0, m, m), pt.join(1, m, m[:, :2]), pt.concatenate([v, v, v]), pt.join(ax, m, m),
            pt.stack([s, 2 * s, s + 1]), pt.make_vector(s, s * 3),
            *pt.split(v, [2, 3], 2), *pt.split(m, sizes, 2, axis=1), *pt.split(m, [1, 3], 2, axis=ax)]
    return run_both([m, v, ax, s, sizes], outs, [RNG.normal(size=(3, 4)), RNG.normal(size=5), np.int64(1), 1.5,
                                                 np.array([1, 3])])


def family_construction():
    n = pt.lscalar("n")
    s = pt.scalar("s")
    v = pt.vector("v")
    outs = [pt.alloc(s, n, 3), pt.alloc(v, n, 4), pt.zeros((n, 2)), pt.ones((2, n), dtype="int32"),
            pt.full((n, n), s), pt.arange(n), pt.arange(1, n * 5, 2), pt.arange(0.5, s, 0.7),
            pt.arange(n, dtype="float32"), pt.eye(n), pt.eye(n, n + 1, 1, dtype="int64"), pt.eye(n, 2, -1),
            pt.empty((n, 3)).shape, pt.zeros_like(v) + v, pt.tril(pt.ones((n, n))),
            pt.triu(pt.full((n, 3), s), 1)]
    return run_both([n, s, v], outs, [np.int64(3), 4.25, RNG.normal(size=4)])


def family_extra_ops():
    m = pt.matrix("m")
    v = pt.vector("v")
    r = pt.lvector("r")
    idx = pt.lmatrix("idx")
    outs = [pt.repeat(m, 2, axis=0), pt.repeat(m, 3, axis=1), pt.repeat(v, r), pt.repeat(m, 2), pt.sort(m, axis=0),
            pt.sort(v), pt.sort(m.flatten()), pt.argsort(v),
            pt.argsort(m, axis=1), pt.argsort(m, axis=0), pt.cumsum(m, axis=1), pt.cumsum(m), pt.cumprod(v),
            pt.cumprod(m, axis=0), pt.take_along_axis(m, idx, 1), pt.diff(v), pt.tile(v, (2, 1)),
            grad(pt.sort(v * v)[1:].sum() + (pt.take_along_axis(m, idx, 1) ** 2).sum(), [v, m])[0],
            grad((pt.take_along_axis(m, idx, 1) ** 2).sum(), m)]
    vv = np.array([3.0, 1.0, 2.0, 1.0, -5.0])
    return run_both([m, v, r, idx], outs, [RNG.normal(size=(3, 4)), vv, np.array([0, 1, 2, 1, 0]),
                                           np.array([[0, 3, 3], [1, 1, 0], [2, 0, 1]])])


def family_everyday():
    """linspace ... choose are built from other ops; Searchsorted and Unique have kernels."""
    m = pt.matrix("m")
    v = pt.vector("v")
    k = pt.lscalar("k")
    xi = pt.lvector("xi")
    a = pt.lmatrix("a")
    z = pt.vector("z", dtype="complex128")
    outs = [pt.linspace(0.5, v[0], k), pt.linspace(v, 3.0, 4, endpoint=False, axis=1), pt.logspace(0.0, 1.0, k),
            pt.geomspace(1.0, 50.0, 5), pt.roll(m, k, axis=1), pt.roll(m, -1), pt.swapaxes(m, 0, 1) + 0,
            pt.moveaxis(m[None], 0, 2) + 0, pt.fill_diagonal(m, v[1]), pt.fill_diagonal_offset(m, 7.0, k),
            pt.bincount(xi), pt.bincount(xi, v, minlength=7), pt.compress(xi, m, axis=1), pt.choose(a, [m, -m, v]),
            pt.searchsorted(pt.sort(v), m), pt.searchsorted(v, m, side="right", sorter=pt.argsort(v)),
            *pt.unique(m, True, True, True), *pt.unique(a, True, True, True, axis=1), pt.unique(xi),
            pt.max_and_argmax(m, axis=0)[1], pt.tile(v, pt.stack([k, 1])),
            pt.inc_subtensor(v[xi], m[0], ignore_duplicates=True),
            pt.real(z), pt.imag(z), pt.conj(z), pt.complex(v, v * 2), pt.angle(z), pt.imag(v)]
    return run_both([m, v, k, xi, a, z], outs,
                    [np.array([[1.0, 2, 1, 3], [np.nan, 2, 2, 0], [1, 3, 3, 1]]), np.array([3.0, 1.0, 2.0, 1.0]),
                     np.int64(2), np.array([0, 1, 1, 3]), np.array([[0, 1, 2, 1], [2, 0, 0, 1], [0, 1, 2, 1]]),
                     np.array([1 + 2j, -3j, 2, 0.5 - 0.5j])])


def family_indexing():
    x = pt.matrix("x")
    v = pt.vector("v")
    t = pt.tensor3("t")
    i = pt.lscalar("i")
    iv = pt.lvector("iv")
    mask = pt.matrix("mask", dtype="bool")
    outs = [x[1], x[1:, ::2], x[-1, 2], x[i:, i], v[::-1], v[i], v[-2:i:-1], t[0, 1:, i], t[..., 1],
            x[iv], x[:, iv], x[iv, iv], x[mask], x[iv, 1:], v[iv], x[1:, iv], x[iv[:, None], iv[None, :]],
            x[0, iv], t[iv, :, iv], t[:, iv, 1], t[1:, iv, ::2], v[v > 0], t[mask[:, :3]]]
    xv = np.arange(12.0).reshape(3, 4)
    return run_both([x, v, t, i, iv, mask], outs,
                    [xv, RNG.normal(size=5), RNG.normal(size=(3, 3, 4)), np.int64(1), np.array([0, -1, 2, 2]),
                     xv > 4])


def family_inc_set():
    x = pt.matrix("x")
    v = pt.vector("v")
    s = pt.scalar("s")
    y = pt.matrix("y")
    i = pt.lscalar("i")
    iv = pt.lvector("iv")
    mask = pt.matrix("mask", dtype="bool")
    t = pt.tensor3("t")
    outs = [pt.set_subtensor(x[1], v[:4]), pt.inc_subtensor(x[1:, ::2], s), pt.inc_subtensor(x[0, 1], s),
            pt.set_subtensor(x[i:, i], s), pt.inc_subtensor(v[::-1], v), pt.set_subtensor(x[iv], y[0]),
            pt.inc_subtensor(x[iv], 1.0), pt.inc_subtensor(x[:, iv], y[:, :4]), pt.set_subtensor(x[mask], s),
            pt.inc_subtensor(x[iv, iv], s), pt.inc_subtensor(v[iv], s), pt.set_subtensor(v[iv], v[:4]),
            pt.inc_subtensor(t[iv[:2], :, iv[:2]], s), pt.inc_subtensor(t[:, 1:, iv], s),
            grad((x[iv] ** 2).sum() + (x[mask] * 3).sum() + (x[1:, 2] ** 2).sum(), x)]
    xv = np.arange(12.0).reshape(3, 4)
    return run_both([x, v, s, y, i, iv, mask, t], outs,
                    [xv, RNG.normal(size=5), 2.5, RNG.normal(size=(3, 4)), np.int64(1), np.array([0, -1, 2, 2]),
                     xv > 4, RNG.normal(size=(3, 2, 4))])


def family_dot_blockwise():
    m, w = pt.matrix("m"), pt.matrix("w")
    v = pt.vector("v")
    im = pt.matrix("im", dtype="int64")
    a = pt.tensor3("a")
    b4 = pt.tensor4("b4")
    bc = pt.tensor("bc", shape=(1, None, None, None))
    outs = [pt.dot(m, v), m @ w, v @ m.T, pt.dot(v, v), im @ im.T, Case(m @ im.T.astype("float64")),
            a @ w, w.T @ a, b4 @ w, b4 @ b4.transpose(0, 1, 3, 2), bc @ b4, a @ w[:, :1],
            (v[None, :] @ v[:, None]).squeeze()]
    return run_both([m, w, v, im, a, b4, bc], outs,
                    [RNG.normal(size=(4, 4)), RNG.normal(size=(4, 4)), RNG.normal(size=4),
                     RNG.integers(-3, 4, size=(4, 4)), RNG.normal(size=(2, 4, 4)), RNG.normal(size=(2, 3, 4, 4)),
                     RNG.normal(size=(1, 3, 4, 4))])


def _spd(n, batch=()):
    a = RNG.normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def family_linalg():
    A = pt.matrix("A")
    b = pt.vector("b")
    B = pt.matrix("B")
    W = pt.matrix("W")          # a wide matrix (svd / qr of non-square)
    T3 = pt.tensor3("T3")
    T4 = pt.tensor4("T4")
    Ai = pt.matrix("Ai", dtype="int64")
    eig_w, eig_v = la.eigh(A)
    U, s, Vh = la.svd(W)
    Ur, sr, Vhr = la.svd(W, full_matrices=False)
    Q, R = la.qr(W.T)
    Qc, Rc = la.qr(W)
    outs = [la.det(A), *la.slogdet(A), la.inv(A), la.solve(A, b), la.solve(A, B),
            la.solve(A, b, assume_a="pos"), la.solve(A, B, assume_a="sym", lower=True),
            la.solve(A, B, assume_a="her"),
            la.solve_triangular(A, b, lower=True), la.solve_triangular(A, B, trans=1),
            la.solve_triangular(A, b, lower=True, unit_diagonal=True), la.solve_triangular(A, B, lower=True, trans=1),
            la.cholesky(A), la.cholesky(A, lower=False), la.cholesky(A, on_error="nan"), eig_w,
            Case(eig_v, cmp=_abs_compare), Case(U, cmp=_abs_compare), s, Case(Vh, cmp=_abs_compare),
            Case(Ur, cmp=_abs_compare), sr, Case(Vhr, cmp=_abs_compare), la.svd(W, compute_uv=False),
            Case(Q, cmp=_abs_compare), Case(R, cmp=_abs_compare), Case(la.qr(W, mode="r"), cmp=_abs_compare),
            Case(Qc, cmp=_abs_compare), Case(Rc, cmp=_abs_compare),
            la.kron(A, B[:2]), la.kron(b, b), la.diagonal(A), la.diagonal(T3, 1, 0, 2), la.diag(b, 1),
            la.diag(A, -1), la.trace(A), la.det(Ai), la.inv(Ai),
            la.det(T3), la.inv(T4), la.solve(T3, B), la.cholesky(T3), Case(la.eigh(T3)[0]),
            la.slogdet(T4)[1], la.solve_triangular(T3, B, lower=True),
            grad(la.diagonal(T3, 0, 1, 2).sum() * 2 + la.det(A), [T3, A])[0], la.norm(A), la.norm(b)]
    return run_both([A, b, B, W, T3, T4, Ai], [o if isinstance(o, Case) else Case(o, rtol=1e-7, atol=1e-10)
                                             for o in outs],
                    [_spd(4), RNG.normal(size=4), RNG.normal(size=(4, 3)), RNG.normal(size=(3, 5)), _spd(4, (3,)),
                     _spd(4, (2, 3)), np.array([[4, 1, 0], [1, 5, 2], [0, 2, 6]])], allow_objmode=OBJMODE_ALLOWED)



def family_linalg_factorizations():
    A = pt.matrix("A")
    W = pt.matrix("W")
    b = pt.vector("b")
    B = pt.matrix("B")
    lu_f = la.lu_factor(A)
    outs = [*la.lu(A), *la.lu(W), *la.lu(W.T, permute_l=True), *la.lu(A, p_indices=True), *lu_f,
            la.lu_solve(lu_f, b), la.lu_solve(lu_f, B, trans=1), la.pivot_to_permutation(lu_f[1], inverse=True),
            la.cho_solve((la.cholesky(A), True), b), la.expm(A), la.expm(A * 0.01), la.pinv(W),
            la.matrix_power(A, 3), la.solve(A, b, transposed=True), la.solve(A, B, assume_a="tridiagonal"),
            grad(la.expm(A).sum() + (la.lu(A)[1] ** 2).sum(), A)]
    return run_both([A, W, b, B], [Case(o, rtol=1e-7, atol=1e-10) for o in outs],
                    [_spd(4), RNG.normal(size=(3, 5)), RNG.normal(size=4), RNG.normal(size=(4, 3))])

def family_op_from_graph():
    """OpFromGraph (its inner graph generated into the outer function), with a tensor constant,
    an integer input and a view output inside, and its gradient (another OpFromGraph)."""
    from opgraph.compile.builders import OpFromGraph

    x, n = pt.vector("x"), pt.lscalar("n")
    op = OpFromGraph([x, n], [pt.exp(x) * pt.constant(np.array([1.0, 2.0, 3.0])) + n, x[::-1]])
    v, k = pt.vector("v"), pt.lscalar("k")
    u, r = op(v, k)
    return run_both([v, k], [u, r, grad((u * r).sum(), v)], [np.array([0.5, -1.0, 2.0]), np.int64(3)])


def family_scan_ifelse():
    """Scan (a recurrence with a per-step output, its BPTT gradient) and IfElse (lazy branches)."""
    from opgraph.ifelse import ifelse

    x, c = pt.vector("x"), pt.scalar("c")
    (acc, sq), _ = opgraph.scan(lambda v, h: (h * 0.5 + v, v ** 2), sequences=x, outputs_info=[pt.zeros(()), None])
    z = ifelse(c > 0, x.sum() * 2, x.prod())
    return run_both([x, c], [acc, sq, grad(acc.sum(), x), z], [np.array([0.5, -1.0, 2.0]), np.float64(1.0)])


FAMILIES = {f.__name__[len("family_"):]: f for f in [
    family_elemwise_float, family_elemwise_dtypes, family_reductions, family_shape, family_join,
    family_construction, family_extra_ops, family_everyday, family_indexing, family_inc_set, family_dot_blockwise, family_linalg,
    family_linalg_factorizations, family_op_from_graph, family_scan_ifelse]}


def _same_support(g, w, rtol, atol):
    """Random draws: each call advances the generators, so the two modes' values differ
    here (shapes and dtypes are compared by run_both); the identical streams of equal
    seeds are tested in tests/kernel_core/tensor/random/test_statistics.py."""
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(w))
    assert np.unique(g).size > 1 and np.unique(w).size > 1


def _all_draws_module():
    import importlib.util
    import os

    path = os.path.join(os.path.dirname(__file__), "..", "..", "tensor", "random", "_all_draws.py")
    spec = importlib.util.spec_from_file_location("_all_draws", path)
    draws_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(draws_module)
    return draws_module


def family_random(chunk):
    """Every distribution: the graphs of tests/kernel_core/tensor/random/_all_draws.py (the
    statistics test's, chunk by chunk, so one Numba compilation in the disk cache serves both)."""
    draws_module = _all_draws_module()
    _, _, draws = draws_module.build()
    mine = draws_module.chunks(len(draws))[chunk]
    return run_both([], [Case(draws[k], cmp=_same_support) for k in mine], [])


_RANDOM_CHUNKS = [f"random_{c}" for c in range(_all_draws_module().N_CHUNKS)]
for _c, _name in enumerate(_RANDOM_CHUNKS):
    FAMILIES[_name] = partial(family_random, _c)


def family_special():
    """pt.special: Softmax / LogSoftmax over an axis and all elements, the special scalar kernels."""
    x, a, b = pt.matrix("x"), pt.vector("a"), pt.vector("b")
    sp = pt.special
    outs = [sp.softmax(x, axis=0), sp.log_softmax(x, axis=1), sp.softmax(x), sp.polygamma(2, a), sp.xlogx(b),
            sp.xlogy0(b, a), sp.log_ndtr(a * -20 + 3)]
    xv = RNG.normal(size=(3, 4))
    av, bv = RNG.uniform(0.05, 3.0, size=5), np.array([0.0, 0.5, 1.0, 2.0, 3.0])
    return run_both([x, a, b], [Case(o, rtol=1e-9) for o in outs], [xv, av, bv])


FAMILIES["special"] = family_special


def family_special_functions():
    """gammainc / gammaincc / betainc, their inverses, ndtri / i0 / i0e / i1 / i1e and their x-gradients."""
    from opgraph.kernel_core.tensor import special_functions as tsf

    a, x, b = pt.vector("a"), pt.vector("x"), pt.vector("b")
    u = x / 10.0
    outs = [pt.gammainc(a, x), pt.gammaincc(a, x), pt.betainc(a, b, u), pt.ndtri(u), pt.i0(x), pt.i0e(-x),
            pt.i1(x), pt.i1e(-x), pt.gammaincinv(a, u), pt.gammainccinv(a, u), pt.betaincinv(a, b, u),
            pt.betainccinv(a, b, u)]
    total = sum(o.sum() for o in outs)
    outs.append(grad(total, x))
    # the inverses in k of the discrete CDFs (no gradient)
    outs += [tsf.pdtrik(u, a), tsf.bdtrik(u, a + 5.0, u), tsf.nbdtrik(u, b, 0.4)]
    av, xv, bv = np.array([0.5, 1.0, 3.0, 50.0]), np.array([0.1, 1.0, 2.5, 9.0]), np.array([2.0, 0.3, 5.0, 1.0])
    return run_both([a, x, b], [Case(o, rtol=1e-12) for o in outs], [av, xv, bv])


FAMILIES["special_functions"] = family_special_functions


def family_signal():
    """pt.signal.convolve1d: the full core op, valid / same slices, a batch, the valid form of its gradient."""
    x, k, xb = pt.vector("x"), pt.vector("k"), pt.matrix("xb")
    outs = [pt.signal.convolve1d(x, k), pt.signal.convolve1d(x, k, "same"), pt.signal.convolve1d(xb, k, "valid")]
    outs += grad((pt.signal.convolve1d(x, k) ** 2).sum(), [x, k])
    return run_both([x, k, xb], outs, [RNG.normal(size=8), RNG.normal(size=3), RNG.normal(size=(2, 8))])


FAMILIES["signal"] = family_signal


def family_signal_2d_fft():
    """pt.signal.convolve2d (full, same, a batch, the valid form of its gradient) and the FFT
    convolution op (objmode: numba has no FFT)."""
    from opgraph.kernel_core.tensor.signal import FFTConvolve

    x, k, xb, v = pt.matrix("x"), pt.matrix("k"), pt.tensor3("xb"), pt.vector("v")
    outs = [pt.signal.convolve2d(x, k), pt.signal.convolve2d(x, k, "same"), pt.signal.convolve2d(xb, k, "valid")]
    outs += grad((pt.signal.convolve2d(x, k) ** 2).sum(), [x, k])
    outs += [FFTConvolve(2)(x, k), FFTConvolve(1)(v, v)]
    return run_both([x, k, xb, v], outs, [RNG.normal(size=(5, 6)), RNG.normal(size=(2, 3)),
                                          RNG.normal(size=(2, 5, 6)), RNG.normal(size=9)],
                    allow_objmode=("FFTConvolve",))


FAMILIES["signal_2d_fft"] = family_signal_2d_fft


def family_attention():
    """FusedAttention with each mask kind (none, additive, boolean), a symbolic scale, two heads
    and several blocks of queries and keys; FusedAttentionGrad for the gradients in q, k, v
    and the scale.
    Compiled here, not loaded from the disk cache: test_dual_mode_attention.py then reads the
    attention kernels' numba signatures and calls the kernels directly."""
    from opgraph.kernel_core.tensor.nnet.attention_fused import BLOCK_K, BLOCK_Q, fused_attention

    q, k, v = pt.tensor3("q"), pt.tensor3("k"), pt.tensor3("v")
    madd, mbool, scale = pt.dmatrix("madd"), pt.matrix("mbool", dtype="bool"), pt.dscalar("scale")
    outs = []
    for mask in (None, madd, mbool):
        y = fused_attention(q, k, v, scale, mask=mask)
        outs += [y] + grad((y * y).sum(), [q, k, v, scale])
    nq, nk = BLOCK_Q + 5, BLOCK_K + 3
    values = [RNG.normal(size=(2, nq, 4)), RNG.normal(size=(2, nk, 4)), RNG.normal(size=(2, nk, 3)),
              RNG.normal(size=(nq, nk)), RNG.random((nq, nk)) < 0.7, np.float64(0.6)]
    return run_both([q, k, v, madd, mbool, scale], [Case(o, rtol=1e-10, atol=1e-12) for o in outs], values,
                    numba_cache=False)


FAMILIES["attention"] = family_attention


def family_logprob():
    """CheckParameterValue (raising and -inf forms) on a derived logp."""
    from opgraph.logprob import check_parameters, logp

    x, s = pt.vector("x"), pt.scalar("s")
    lp = logp(pt.random.normal(0.0, s), x)
    ninf = check_parameters(x * 2.0, s > 0, msg="s > 0", can_be_replaced_by_ninf=True)
    return run_both([x, s], [lp, ninf], [np.array([0.5, -1.0, 2.0]), np.float64(1.5)])


FAMILIES["logprob"] = family_logprob


def family_optimize():
    """pt.optimize's four solvers (SciPy at run time: NUMBA runs them through the objmode
    fallback, so such a graph is not disk-cached) and a gradient through a solution."""
    from opgraph.tensor.optimize import minimize, minimize_scalar, root, root_scalar

    x, v, a = pt.scalar("x"), pt.vector("v"), pt.scalar("a")
    x_min, ok_min = minimize(((v - a) ** 2).sum() + (v ** 4).sum(), v)
    s_min, ok_s = minimize_scalar((x - a) ** 2 + x ** 4, x)
    s_root, ok_root = root([v[0] + v[1] - a, v[0] - v[1] - 1.0], v)
    r_root, ok_r = root_scalar(x ** 3 + x - a, x, method="newton")
    outs = [Case(o, rtol=1e-6, atol=1e-8) for o in (x_min, s_min, s_root, r_root, grad(r_root, a))]
    return run_both([x, v, a], outs + [ok_min, ok_s, ok_root, ok_r],
                    [np.float64(0.5), np.array([0.3, -0.2]), np.float64(1.5)],
                    allow_objmode={"MinimizeOp", "MinimizeScalarOp", "RootOp", "RootScalarOp"})


FAMILIES["optimize"] = family_optimize


def family_wald_vonmises():
    """The von Mises CDF op (VonMisesCdf) across its branches (short Gauss-Legendre intervals,
    both tails, tanh-sinh tails, wrapped intervals, x outside [-pi, pi], kappa = 0 / inf) and the
    log-CDF op (VonMisesLogCdf, VonMisesLogCdfDKappa) on the same points, each with its
    x / mu / kappa gradients (VonMisesCdfDKappa, the same branches), the kappa gradients of the
    logcdf / icdf, the von Mises logcdf / icdf (VonMisesLowerQuantile) and the Wald icdf
    (WaldUnitQuantile) with its gradient in q, mu and lambda.  atol 1e-300: XLA flushes
    subnormal results to zero."""
    from opgraph.kernel_core.logprob.iterative_quantiles import vonmises_cdf, vonmises_logcdf_op
    from opgraph.logprob import icdf, logcdf

    x, mu, k, q = pt.vector("x"), pt.vector("mu"), pt.vector("k"), pt.vector("q")
    m, s, kk = pt.scalar("m"), pt.scalar("s"), pt.scalar("kk")
    cdf = vonmises_cdf(x, mu, k)
    outs = [cdf, *grad(cdf.sum(), [x, mu, k])]   # kappa's: VonMisesCdfDKappa
    lcdf = vonmises_logcdf_op(x, mu, k)          # VonMisesLogCdf, finite in underflowed tails
    outs += [lcdf, *grad(lcdf.sum(), [x, mu, k])]   # kappa's: VonMisesLogCdfDKappa
    vm = pt.random.vonmises(2.5, 30.0)
    outs += [logcdf(vm, x), icdf(vm, q)]
    # kappa's gradients of the logcdf / icdf (the quantile's by the implicit function)
    vk = pt.random.vonmises(0.4, kk)
    outs += [grad(logcdf(vk, x[2:12]).sum(), kk), grad(icdf(vk, q).sum(), kk)]
    wald_q = icdf(pt.random.wald(m, s), q)
    outs += [wald_q, *grad(wald_q.sum(), [q, m, s])]
    xs = np.array([-4.0, -np.pi, -3.0, -2.0, -0.5, -1e-9, 0.0, 0.7, 2.4, 3.0, np.pi, 4.0, 1.0, 0.3, -2.9, 2.0])
    mus = np.array([0.0, 2.5, -1.0, 3.1, -3.1, 0.0, 7.0, -20.0, 2.5, 0.3, 1.0, 0.0, 0.5, 0.0, 1.0, np.nan])
    ks = np.array([1.0, 800.0, 1e-8, 5.0, 1e5, 50.0, 3.0, 17.0, 0.0, np.inf, 2.0, 1.0, 1e12, 1e3, 300.0, 1.0])
    qs = np.array([0.0, 1e-12, 1e-6, 0.01, 0.2, 0.5, 0.7, 0.99, 1 - 1e-6, 1.0, 0.3, 0.4, 0.6, 0.9, 0.05, 0.45])
    return run_both([x, mu, k, q, m, s, kk], [Case(o, rtol=1e-12, atol=1e-300) for o in outs],
                    [xs, mus, ks, qs, np.float64(3.0), np.float64(0.5), np.float64(4.0)])


FAMILIES["wald_vonmises"] = family_wald_vonmises


# Which test file runs which families: test_dual_mode_<part>.py, one numba compilation per
# family (a file's families run in one xdist worker under --dist loadfile; the parts
# balance the cold-cache compile time).  test_dual_mode_ops.py checks that the parts run
# every family of FAMILIES exactly once.
PARTS = {
    "elemwise": ["elemwise_float", "elemwise_dtypes", "reductions", "special", "special_functions"],
    "shape_indexing": ["shape", "join", "construction", "indexing", "inc_set"],
    "extra_ops": ["extra_ops", "everyday"],
    "linalg": ["dot_blockwise", "linalg"],
    "factorizations": ["linalg_factorizations", "optimize"],
    "structured": ["op_from_graph", "scan_ifelse", "logprob", "signal", "signal_2d_fft"],
    "attention": ["attention"],
    "wald_vonmises": ["wald_vonmises"],
    # The graphs of tests/kernel_core/tensor/random/test_statistics.py: whichever runs second
    # loads the other's compilation from the disk cache.
    "random": _RANDOM_CHUNKS,
}


def _reseed(name):
    """A generator per family: its values do not depend on which families ran before it."""
    global RNG
    RNG = np.random.default_rng([20240601, zlib.crc32(name.encode())])


@lru_cache(maxsize=None)
def seen_by(family):
    """Compile the family in both modes and compare; the op classes of its NUMBA graph."""
    _reseed(family)
    return frozenset(FAMILIES[family]())


def graph_ops(family):
    """The op classes of the family's rewritten NUMBA graph, compiling nothing."""
    with graphs_only():
        _reseed(family)
        return frozenset(FAMILIES[family]())


def bool_to_float_cast():
    n = pt.lscalar("n")
    b = pt.vector("b", dtype="bool")
    run_both([n, b], [pt.tri(n, n + 1, -1), pt.cast(b, "float64") * 2], [np.int64(3), np.array([True, False])])


# -- coverage --------------------------------------------------------------------------------
# Abstract bases and ops that never reach a compiled graph (removed by rewrites before linking).
NOT_COMPILED = {
    "ScalarOp", "UnaryScalarOp", "BinaryScalarOp", "FloatUnaryOp", "FloatBinaryOp", "ComparisonOp",
    "_BitwiseOp", "_RoundingOp", "CAReduce", "_Accumulating", "_ArgExtremum", "_Extremum", "_Logical",
    "_SortBase", "_CoreOp", "_ExtremumOp", "_IncSubtensorBase", "GradientMarker",
}


NOT_COMPILED.add("RandomVariable")   # the base class of the distributions
NOT_COMPILED.add("_SliceOp")   # the base class of Softmax / LogSoftmax
# pt.nnet's training layers: inline OpFromGraphs, replaced by their inner graphs first.
NOT_COMPILED.update({"Dropout", "BatchNorm"})
NOT_COMPILED.add("_SolverOp")   # the base class of the four solver ops
NOT_COMPILED.add("_SquareToSquare")   # the base class of MatrixInverse / Cholesky / Expm
NOT_COMPILED.add("_AttentionOp")   # the base class of FusedAttention / FusedAttentionGrad
NOT_COMPILED.add("DirectConvolve")   # the base class of Convolve1d / Convolve2d
NOT_COMPILED.add("FloatArrayOp")   # the base class of VonMisesCdf(DKappa), VonMisesLogCdf(DKappa), the Newton quantiles
# The gradient markers are identities once grad has run: specialize drops them (rewriting/gradient_markers.py).
NOT_COMPILED.update({"ConsiderConstant", "ZeroGrad", "DisconnectedGrad", "GradClip", "GradScale"})


def _library_op_classes():
    import opgraph.kernel_core as kc

    for mod in pkgutil.walk_packages(kc.__path__, "opgraph.kernel_core."):
        if ".backends." in mod.name or ".rewriting." in mod.name:
            continue
        importlib.import_module(mod.name)
    seen, stack = set(), [Op]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen and sub.__module__.startswith("opgraph.kernel_core"):
                seen.add(sub)
                stack.append(sub)
    return seen


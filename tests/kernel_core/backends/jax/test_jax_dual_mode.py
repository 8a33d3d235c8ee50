"""The third mode of the dual-mode suite: every op case compiled with mode="JAX" and
mode="PYTHON", equal results.

The case builders are those of tests/kernel_core/backends/numba/_dual_mode_cases.py
(loaded here as a private module whose ``run_both`` compares PYTHON with JAX), so a
case added there is checked here too.  Each family is one jitted function with
many outputs (one JAX compilation per family).

Inputs that size outputs (``n`` in ``arange(n)``, split sizes, the input of
``unique``) cannot be traced by JAX: the family's entry in ``STATIC_INPUTS`` makes
them static arguments of the jitted function (JaxLinker(static_inputs=...)),
which is how a user compiles such a graph.  ``test_value_dependent_shapes_say_why``
checks the error when they are not.

``test_every_op_has_a_jax_implementation`` lists every Op class of the library
without a JAX implementation or without a case compiled here: it must be empty,
except for ``OWNED_BY_JAX_EXT`` (ops whose JAX implementations another engineer
is writing; they empty the set as they land).
"""

import importlib.util
import os
from functools import lru_cache

import numpy as np
import pytest

import opgraph
from opgraph.kernel_core.compile.mode import Mode

_CASES_PATH = os.path.join(os.path.dirname(__file__), "..", "numba", "_dual_mode_cases.py")
_spec = importlib.util.spec_from_file_location("_dual_mode_cases_for_jax", _CASES_PATH)
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

# Families whose ops jax-ext implements and that do not run here yet (all have landed).
JAX_EXT_FAMILIES = set()
# The shared random families compile every distribution (~85 s of XLA compilation on 2
# cores): slow here; test_jax_random.py compiles and checks each distribution against
# SciPy in the default run.
SLOW_FAMILIES = set(cases.PARTS["random"])

# Op classes whose JAX implementation is jax-ext's work (see the module docstring).
OWNED_BY_JAX_EXT = set()

# Per family: inputs whose values size outputs, compiled as static arguments.
STATIC_INPUTS = {
    "elemwise_dtypes": (),
    "shape": ("n",),
    "join": ("ax", "sizes"),
    "construction": ("n", "s"),
    "extra_ops": ("r",),
    "everyday": ("k", "xi", "a", "m"),
    "indexing": ("i", "mask", "v"),
    "inc_set": ("i", "mask"),
}

_current_static = ()


def _jax_mode(static_inputs=()):
    from opgraph.kernel_core.backends.jax.linker import JaxLinker

    return Mode(linker=JaxLinker(static_inputs=static_inputs), optimizer="fast_run", exclude=("inplace",))


def run_python_and_jax(inputs, outputs, values, allow_objmode=(), numba_cache=True):
    """Compile with PYTHON and JAX, compare every output; returns the op classes of the JAX graph.
    (``allow_objmode`` and ``numba_cache`` are the NUMBA comparison's options.)"""
    cs = cases._as_cases(outputs)
    outs = [c.out for c in cs]
    f_jax = opgraph.function(inputs, outs, mode=_jax_mode(_current_static))
    f_py = opgraph.function(inputs, outs, mode="PYTHON")
    got, want = f_jax(*values), f_py(*values)
    assert len(got) == len(want) == len(cs)
    for k, (c, g, w) in enumerate(zip(cs, got, want)):
        assert isinstance(g, np.ndarray), f"output {k} ({c.out}): {type(g).__name__}, not a NumPy array"
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, f"output {k} ({c.out}): shape {g.shape} != {w.shape}"
        assert g.dtype == w.dtype, f"output {k} ({c.out}): dtype {g.dtype} != {w.dtype}"
        if c.cmp is not None:
            c.cmp(g, w, max(c.rtol, 1e-9), max(c.atol, 1e-11))
        elif g.dtype.kind in "fc":
            # XLA's transcendental functions and factorizations are not bit-equal to NumPy's.
            np.testing.assert_allclose(g, w, rtol=max(c.rtol, 1e-9), atol=max(c.atol, 1e-11), equal_nan=True,
                                       err_msg=f"output {k}: {c.out}")
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"output {k}: {c.out}")
    return cases._seen_ops(f_jax.maker.fgraph)


cases.run_both = run_python_and_jax


def family_optimize():
    """pt.optimize's four solvers (SciPy on the host through jax.pure_callback) and a gradient
    through the solution (the implicit-function pullback: an ordinary graph)."""
    import opgraph.tensor as pt
    from opgraph.kernel_core.gradient import grad
    from opgraph.tensor.optimize import minimize, minimize_scalar, root, root_scalar

    x, v, a = pt.scalar("x"), pt.vector("v"), pt.scalar("a")
    x_min, ok_min = minimize(((v - a) ** 2).sum() + (v ** 4).sum(), v)
    s_min, ok_s = minimize_scalar((x - a) ** 2 + x ** 4, x)
    s_root, ok_root = root([v[0] + v[1] - a, v[0] - v[1] - 1.0], v)
    r_root, ok_r = root_scalar(x ** 3 + x - a, x, method="newton")
    outs = [cases.Case(o, rtol=1e-6, atol=1e-8) for o in (x_min, s_min, s_root, r_root, grad(r_root, a))]
    return run_python_and_jax([x, v, a], outs + [ok_min, ok_s, ok_root, ok_r],
                              [np.float64(0.5), np.array([0.3, -0.2]), np.float64(1.5)])


def family_special_scalars():
    """The special scalar functions (scalar/special.py, scalar/special_functions.py) without the
    pt.special tensor ops of the shared "special" family."""
    import opgraph.tensor as pt
    from opgraph.kernel_core.tensor import special_functions as tsf

    a, b, x = pt.vector("a"), pt.vector("b"), pt.vector("x")
    sp = pt.special
    outs = [sp.polygamma(2, a), sp.polygamma(0, x + 1), sp.xlogx(b), sp.xlogy0(b, a), sp.log_ndtr(a * -20 + 3),
            pt.gammainc(a, b + 0.5), pt.gammaincc(a, b + 0.5), pt.betainc(a, b + 1.0, x), pt.ndtri(x),
            pt.i0(b), pt.i0e(b), pt.i1(b), pt.i1e(b), pt.gammaincinv(a, x), pt.gammainccinv(a, x),
            pt.betaincinv(a, b + 1.0, x), pt.betainccinv(a, b + 1.0, x), tsf.pdtrik(x, a),
            tsf.bdtrik(x, b + 5.0, x), tsf.nbdtrik(x, a, 0.4)]
    av, bv = np.array([0.3, 0.7, 1.5, 2.5, 3.0]), np.array([0.0, 0.5, 1.0, 2.0, 3.0])
    xv = np.array([0.05, 0.2, 0.5, 0.8, 0.95])
    return run_python_and_jax([a, b, x], [cases.Case(o, rtol=1e-8, atol=1e-12) for o in outs], [av, bv, xv])


def family_fused_attention():
    """FusedAttention (no mask, additive, boolean; a Blockwise batch) and FusedAttentionGrad."""
    import opgraph.tensor as pt
    from opgraph.kernel_core.gradient import grad
    from opgraph.kernel_core.tensor.nnet.attention_fused import fused_attention

    q, k, v, qb = pt.matrix("q"), pt.matrix("k"), pt.matrix("v"), pt.tensor3("qb")
    madd, mbool = pt.matrix("madd", shape=(1, None)), pt.matrix("mbool", dtype="bool")
    outs = [fused_attention(q, k, v, 0.5), fused_attention(q, k, v, 0.5, mask=madd),
            fused_attention(q, k, v, 0.5, mask=mbool), fused_attention(qb, k, v, 0.25)]
    outs += grad(sum((o ** 2).sum() for o in outs), [q, k, v, madd])
    rng = np.random.default_rng(3)
    values = [rng.standard_normal((5, 4)), rng.standard_normal((6, 4)), rng.standard_normal((6, 3)),
              rng.standard_normal((2, 5, 4)), rng.standard_normal((1, 6)), rng.random((5, 6)) > 0.3]
    return run_python_and_jax([q, k, v, qb, madd, mbool], [cases.Case(o, rtol=1e-9, atol=1e-11) for o in outs],
                              values)


FAMILIES = dict(cases.FAMILIES, optimize=family_optimize, special_scalars=family_special_scalars,
                fused_attention=family_fused_attention)
CORE_FAMILIES = [name for name in FAMILIES if name not in JAX_EXT_FAMILIES]


@lru_cache(maxsize=None)
def jax_seen_by(family):
    global _current_static
    _current_static = STATIC_INPUTS.get(family, ())
    try:
        return frozenset(FAMILIES[family]())
    finally:
        _current_static = ()


@pytest.mark.parametrize("family", [pytest.param(f, marks=pytest.mark.slow) if f in SLOW_FAMILIES else f
                                    for f in CORE_FAMILIES])
def test_jax_equals_python(family):
    assert jax_seen_by(family)


def test_bool_to_float_cast_in_jax():
    global _current_static
    _current_static = ("n",)
    try:
        cases.bool_to_float_cast()
    finally:
        _current_static = ()


# -- coverage --------------------------------------------------------------------------------
# Abstract bases besides the shared file's NOT_COMPILED: pt.optimize's solver base class and
# linalg's square-to-square core op base (MatrixInverse, Cholesky, Expm).
NOT_COMPILED = set(cases.NOT_COMPILED) | {"_SolverOp", "_SquareToSquare"}


def _missing_jax_implementations():
    from opgraph.kernel_core.backends.jax import scalar as jax_scalar
    from opgraph.kernel_core.backends.jax.dispatch import has_jax_impl
    from opgraph.kernel_core.scalar.basic import ScalarOp

    missing = []
    for cls in cases._library_op_classes():
        name = cls.__name__
        if name in NOT_COMPILED:
            continue
        if issubclass(cls, ScalarOp):
            ok = jax_scalar.has_scalar_impl(cls)
        else:
            ok = has_jax_impl(cls)
        if not ok:
            missing.append(name)
    return sorted(missing)


def test_every_op_has_a_jax_implementation():
    missing = [n for n in _missing_jax_implementations() if n not in OWNED_BY_JAX_EXT]
    assert not missing, f"ops without a JAX implementation: {missing}"


def test_every_core_op_has_a_jax_case():
    from opgraph.kernel_core.tensor.random.op import RandomVariable

    covered = set()
    for family in CORE_FAMILIES:
        if family not in SLOW_FAMILIES:
            covered |= jax_seen_by(family)
    names = {c.__name__ for c in covered}
    # Distributions: each one is compiled by test_jax_random.py (the random family is slow here).
    uncovered = sorted(c.__name__ for c in cases._library_op_classes()
                       if c.__name__ not in NOT_COMPILED and c.__name__ not in OWNED_BY_JAX_EXT
                       and c.__name__ not in names and not issubclass(c, RandomVariable))
    assert not uncovered, f"ops no JAX case compiles: {uncovered}"


def test_owned_by_jax_ext_lists_only_missing_ops():
    """An op of OWNED_BY_JAX_EXT that has its implementation now leaves the set."""
    existing = {c.__name__ for c in cases._library_op_classes()}
    landed = sorted((OWNED_BY_JAX_EXT & existing) - set(_missing_jax_implementations()))
    assert not landed, f"remove from OWNED_BY_JAX_EXT (implemented now): {landed}"

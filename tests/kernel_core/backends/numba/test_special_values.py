"""Special values for every elementwise scalar op: NUMBA, PYTHON and NumPy/SciPy agree.

Inputs are the values where implementations part ways: +-0, +-inf, nan, huge
(+-1e300), tiny (5e-324), domain edges (+-1, 0.5, -2.5) and the integer edge
cases (int64 min / max, 0, -1, uint8 255).  NumPy / SciPy are the reference.
Results must match in nan-ness, in the sign of zeros and in value (exact for
integers, a few ulps for floats).

Compile cost: ONE function per dtype group, with one output per (op, arity) row,
applied to the cartesian product of the group's values so binary and ternary ops
see every pair / triple.  In mode NUMBA the rows sharing operands are one
multi-output Composite (``_group_graph``): 2-4 compiled loops per group instead of
one per row.  Measured with a cold cache (``OPGRAPH_CACHE_DIR=$(mktemp -d)``), process
CPU user+sys of ``pytest -n 0 -q`` on this file, 2 cores: ``-k match_numpy`` (the
groups) 72.3 s before, 32.7 s after (load average 0.8-0.9 both); the whole file
520 s before (load 0.8-8.7; 1757 s of wall time in the dtype-rejection test, whose
reference ran the Newton quantile's Python loop over the 262144 complex triples)
and 37.7 s after (load 0.7; 52 s at load 4-7).

``test_every_scalar_op_has_a_row`` walks the ScalarOp classes, so a new scalar
op without a row here fails the suite.  Where NumPy raises (integers to a
negative integer power), both modes must raise the same exception type.
"""

import itertools
import warnings

import numpy as np
import pytest
import scipy.special as sp

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.scalar import basic as ps
from opgraph.kernel_core.scalar import complex as pc
from opgraph.kernel_core.scalar import iterative_quantiles as piq
from opgraph.kernel_core.scalar import special as psp
from opgraph.kernel_core.scalar import special_functions as psf
from opgraph.kernel_core.scalar import vonmises_cdf as pvm
from opgraph.kernel_core.scalar import vonmises_logcdf as pvml
from opgraph.kernel_core.scalar.composite import Composite
from opgraph.kernel_core.scalar.type import ScalarType
from opgraph.kernel_core.tensor.elemwise import Elemwise

I64 = np.iinfo(np.int64)
FLOATS = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e300, -1e300, 5e-324, -5e-324,
                   1.0, -1.0, 0.5, -2.5, 25.0, 30.5])
# Fewer values for the ternary ops (clip, switch): 8**3 triples.
FLOATS3 = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.5, 2.0, -1.0])
GROUPS = {
    "float64": FLOATS,
    "float32": np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 3e38, -3e38, 1e-45, -1e-45,
                         1.0, -1.0, 0.5, -2.5, 25.0, 30.5], dtype="float32"),
    "int64": np.array([I64.min, I64.max, 0, -1, 1, 2, 3, -7], dtype="int64"),
    "uint8": np.array([0, 1, 2, 7, 128, 255], dtype="uint8"),
    "bool": np.array([False, True]),
    # Every (re, im) pair of the special values.
    "complex128": np.array([complex(a, b) for a, b in itertools.product(FLOATS3, FLOATS3)]),
}
# Exponents NumPy accepts for integer powers (a negative one raises: see below).
INT_EXPONENTS = {"int64": np.array([0, 1, 2, 3, 63, I64.max], dtype="int64"),
                 "uint8": np.array([0, 1, 2, 7, 255], dtype="uint8")}

INTS = ("int64", "uint8")
NUM = ("float64", "float32") + INTS
ALL = NUM + ("bool",)
C = ("complex128",)
DISCRETE = INTS + ("bool",)


def _second(a, b):
    return np.broadcast_arrays(a, b)[1].copy()


def _log1mexp(x):
    with np.errstate(all="ignore"):
        return np.where(x < -np.log(2.0), np.log1p(-np.exp(x)), np.log(-np.expm1(x)))


def _softplus(x):
    return np.logaddexp(0.0, x)


def _one_over(x):
    # Reciprocal is 1 / x (rewrites turn one into the other), which for complex 0j
    # is inf + nan j; np.reciprocal has its own complex algorithm (nan + nan j there).
    return np.true_divide(np.ones((), dtype=x.dtype), x)


def _in_float64(fn):
    return lambda *args: fn(*[np.asarray(a, dtype="float64") for a in args])


def _complex(re, im):
    # The exact construction: re + 1j * im would turn an infinite im into a nan real part.
    out = np.empty(np.broadcast(re, im).shape, dtype=np.result_type(re, im, np.complex64))
    out.real, out.imag = re, im
    return out


# op class -> (arity, reference, dtype groups).  The reference gets inputs already
# converted to the op's computation dtype (see _reference).
ROWS = {
    ps.Add: (2, np.add, ALL + C), ps.Mul: (2, np.multiply, ALL + C), ps.Sub: (2, np.subtract, NUM + C),
    ps.True_div: (2, np.true_divide, NUM + C), ps.Int_div: (2, np.floor_divide, NUM),
    ps.Mod: (2, np.mod, NUM), ps.Pow: (2, np.power, NUM),
    ps.Maximum: (2, np.maximum, ALL), ps.Minimum: (2, np.minimum, ALL),
    ps.Arctan2: (2, np.arctan2, NUM), ps.Second: (2, _second, ALL + C),
    ps.LT: (2, np.less, ALL), ps.GT: (2, np.greater, ALL), ps.LE: (2, np.less_equal, ALL),
    ps.GE: (2, np.greater_equal, ALL), ps.EQ: (2, np.equal, ALL + C), ps.NEQ: (2, np.not_equal, ALL + C),
    ps.AND: (2, np.bitwise_and, DISCRETE), ps.OR: (2, np.bitwise_or, DISCRETE),
    ps.XOR: (2, np.bitwise_xor, DISCRETE),
    ps.Clip: (3, np.clip, NUM), ps.Switch: (3, np.where, ALL),
    ps.Neg: (1, np.negative, NUM + C), ps.Abs: (1, np.abs, NUM + C), ps.Sign: (1, np.sign, NUM),
    ps.Sqr: (1, np.square, NUM + C), ps.Reciprocal: (1, _one_over, NUM + C), ps.Identity: (1, np.copy, ALL + C),
    ps.IsNan: (1, np.isnan, ALL + C), ps.IsInf: (1, np.isinf, ALL + C), ps.Invert: (1, np.invert, DISCRETE),
    ps.Floor: (1, np.floor, NUM), ps.Ceil: (1, np.ceil, NUM), ps.Round_half_to_even: (1, np.round, NUM),
    ps.Exp: (1, np.exp, NUM + C), ps.Exp2: (1, np.exp2, NUM), ps.Expm1: (1, np.expm1, NUM),
    ps.Log: (1, np.log, NUM + C), ps.Log2: (1, np.log2, NUM), ps.Log10: (1, np.log10, NUM),
    ps.Log1p: (1, np.log1p, NUM), ps.Log1mexp: (1, _log1mexp, NUM), ps.Sqrt: (1, np.sqrt, NUM + C),
    ps.Sin: (1, np.sin, NUM), ps.Cos: (1, np.cos, NUM), ps.Tan: (1, np.tan, NUM),
    ps.Arcsin: (1, np.arcsin, NUM), ps.Arccos: (1, np.arccos, NUM), ps.Arctan: (1, np.arctan, NUM),
    ps.Sinh: (1, np.sinh, NUM), ps.Cosh: (1, np.cosh, NUM), ps.Tanh: (1, np.tanh, NUM),
    ps.Arcsinh: (1, np.arcsinh, NUM), ps.Arccosh: (1, np.arccosh, NUM), ps.Arctanh: (1, np.arctanh, NUM),
    ps.Sigmoid: (1, sp.expit, NUM), ps.Softplus: (1, _softplus, NUM), ps.Erf: (1, sp.erf, NUM),
    ps.Erfc: (1, sp.erfc, NUM), ps.Erfcx: (1, sp.erfcx, NUM), ps.Erfinv: (1, sp.erfinv, NUM),
    ps.Gammaln: (1, sp.gammaln, NUM), ps.Psi: (1, sp.psi, NUM),
    ps.Tri_gamma: (1, lambda x: sp.polygamma(1, x), NUM), ps.Gamma: (1, sp.gamma, NUM),
    psf.GammaInc: (2, sp.gammainc, ("float64", "float32")), psf.GammaIncC: (2, sp.gammaincc, ("float64", "float32")),
    psf.BetaInc: (3, sp.betainc, ("float64", "float32")), psf.Ndtri: (1, sp.ndtri, ("float64", "float32")),
    psf.GammaIncInv: (2, sp.gammaincinv, ("float64", "float32")),
    psf.GammaIncCInv: (2, sp.gammainccinv, ("float64", "float32")),
    psf.BetaIncInv: (3, sp.betaincinv, ("float64", "float32")),
    psf.BetaIncCInv: (3, sp.betainccinv, ("float64", "float32")),
    # float32: both modes compute in float64 (SciPy's float32 pdtrik overflows at 3e38).
    psf.Pdtrik: (2, _in_float64(sp.pdtrik), ("float64", "float32")),
    psf.Bdtrik: (3, _in_float64(sp.bdtrik), ("float64", "float32")),
    psf.Nbdtrik: (3, _in_float64(sp.nbdtrik), ("float64", "float32")),
    psf.I0: (1, sp.i0, ("float64", "float32")), psf.I0e: (1, sp.i0e, ("float64", "float32")),
    psf.I1: (1, sp.i1, ("float64", "float32")), psf.I1e: (1, sp.i1e, ("float64", "float32")),
    # Complex parts of real inputs (complex inputs: the dual-mode test's complex family).
    pc.Real: (1, np.real, NUM + C), pc.Imag: (1, np.imag, NUM + C), pc.Conj: (1, np.conjugate, NUM + C),
    pc.Complex: (2, _complex, ("float64", "float32")),
    # No SciPy function: the op's own NumPy algorithm is the reference here (its accuracy against
    # quadrature: tests/kernel_core/logprob/test_distributions.py; the log-space CDF's against
    # mpmath: tests/kernel_core/scalar/test_vonmises_logcdf.py).
    pvm.VonMisesCdf: (3, _in_float64(lambda x, mu, k: pvm.cdf_array(x, mu, k, np, sp.i0e)), ("float64", "float32")),
    pvm.VonMisesCdfDKappa: (3, _in_float64(lambda x, mu, k: pvm.cdf_dkappa_array(x, mu, k, np, sp.i0e)),
                            ("float64", "float32")),
    pvml.VonMisesLogCdf: (3, _in_float64(lambda x, mu, k: pvml.logcdf_array(x, mu, k, np, sp.i0e)),
                          ("float64", "float32")),
    pvml.VonMisesLogCdfDKappa: (3, _in_float64(lambda x, mu, k: pvml.logcdf_dkappa_array(x, mu, k, np, sp.i0e)),
                                ("float64", "float32")),
    # The Newton quantiles (scalar/iterative_quantiles.py): their NumPy algorithms, as for VonMisesCdf
    # (accuracy against 60-digit references: tests/kernel_core/logprob/).
    piq.WaldUnitQuantile: (2, _in_float64(lambda q, phi: piq.wald_quantile_array(
        q, phi, np, piq._NumPyFns, piq._python_loop)), ("float64", "float32")),
    piq.VonMisesLowerQuantile: (3, _in_float64(lambda p, mu, k: piq.vonmises_lower_quantile_array(
        p, mu, k, np, piq._NumPyFns, piq._python_loop)), ("float64", "float32")),
}
# Where C99 (Annex G) leaves the sign of a zero result unspecified, NumPy's and
# numba's libraries may differ: exp(-inf + i*(inf or nan)) is +-0 +-0j.
ZERO_SIGN_UNSPECIFIED = {(ps.Exp, "complex128"): lambda z: (z.real == -np.inf) & ~np.isfinite(z.imag)}
# Cast: (from group, to dtype).  Float -> int casts of nan / inf / huge values are
# undefined in C (NumPy warns and returns garbage), so floats cast only to floats / bool.
CASTS = [("float64", "float32"), ("float64", "bool"), ("float64", "float64"), ("float32", "float64"),
         ("float32", "bool"), ("int64", "float64"),
         ("int64", "uint8"), ("int64", "int32"), ("int64", "bool"), ("uint8", "int8"), ("uint8", "float32"),
         ("bool", "int64"), ("bool", "float64")]
# Abstract bases and ops tested elsewhere (Composite: test_composite / fusion).
NOT_ELEMENTARY = {ps.ScalarOp, ps.UnaryScalarOp, ps.BinaryScalarOp, ps.FloatUnaryOp, ps.FloatBinaryOp,
                  ps.ComparisonOp, ps._ExtremumOp, ps._BitwiseOp, ps._RoundingOp, Composite,
                  pvm.FloatArrayOp}
# Cast: CASTS above.  The special-function scalar ops (polygamma, xlogx, xlogy0, log_ndtr)
# are compared with SciPy on grids, in both modes, by tests/kernel_core/tensor/test_special.py;
# their rows for the special values here are still to write.
ROWS_ELSEWHERE = {ps.Cast, psp.Polygamma, psp.Xlogx, psp.Xlogy0, psp.Log_ndtr}


def _all_scalar_op_classes():
    seen, stack = [], [ps.ScalarOp]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.append(sub)
                stack.append(sub)
    return seen


def test_every_scalar_op_has_a_row():
    missing = [c.__name__ for c in _all_scalar_op_classes()
               if c not in ROWS and c not in NOT_ELEMENTARY and c not in ROWS_ELSEWHERE
               and c.__module__.startswith("opgraph")]
    assert not missing, f"scalar ops without a special-values row: {missing}"


def _operands(group, arity, op_cls, limit=None):
    """The operand columns of a row: every combination of the group's values (the first
    ``limit`` combinations only, when given)."""
    vals = GROUPS[group] if arity < 3 or group not in ("float64", "float32") else FLOATS3.astype(group)
    if arity == 1:
        return [vals[:limit]]
    if op_cls is ps.Pow and group in INT_EXPONENTS:
        grid = itertools.product(vals, INT_EXPONENTS[group])
    else:
        grid = itertools.product(*[vals] * arity)
    cols = list(zip(*itertools.islice(grid, limit)))
    return [np.array(c, dtype=vals.dtype) for c in cols]


def _reference(op_cls, ref, operands, out_dtype):
    op = op_cls()
    if isinstance(op, (ps.FloatUnaryOp, ps.FloatBinaryOp, ps.True_div)):
        # Integers are converted to the output float dtype first (as the op computes);
        # NumPy would pick float16 for uint8.
        operands = [o.astype(out_dtype) for o in operands]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(ref(*operands)).astype(out_dtype)


def _group_graph(group):
    """(inputs, input values, outputs per mode, references, labels, operands, sign-free masks,
    number of fused nodes).

    PYTHON gets one Elemwise node per row (it compiles nothing; each op's own Elemwise
    path is what it runs).  NUMBA gets, per operand set (unary, binary, ternary, integer
    powers), ONE Elemwise of a multi-output Composite holding all the rows' scalar ops: the
    same scalar expressions (backends/numba/scalar.py: scalar_expression) in one compiled
    loop instead of one dispatcher per row.  A single-op Elemwise loop differs from the
    Composite's only in the loop around the expression, not in the op's own code.
    """
    inputs, values, refs, labels, operands, free = [], [], [], [], [], []
    separate, rows_of = [], {}   # rows_of: operand key -> (vars, [(scalar op, row position)])
    cache = {}

    def operand_vars(op_cls, arity):
        vals = _operands(group, arity, op_cls)
        key = tuple(v.tobytes() for v in vals) + (arity,)
        if key not in cache:
            vs = [pt.vector(f"{group}_{arity}_{len(inputs) + k}", dtype=group) for k in range(arity)]
            inputs.extend(vs)
            values.extend(vals)
            cache[key] = (vs, vals)
        return key, cache[key]

    def add_row(op, key, vs, vals, label, ref, sign_free):
        out = Elemwise(op)(*vs)
        rows_of.setdefault(key, (vs, []))[1].append((op, len(separate)))
        separate.append(out)
        refs.append(ref(out.type.dtype))
        labels.append(label)
        operands.append(vals)
        free.append(sign_free)

    for op_cls, (arity, ref, groups) in ROWS.items():
        if group not in groups:
            continue
        key, (vs, vals) = operand_vars(op_cls, arity)
        unspecified = ZERO_SIGN_UNSPECIFIED.get((op_cls, group))
        add_row(op_cls(), key, vs, vals, f"{op_cls.__name__}({group})",
                lambda dtype, op_cls=op_cls, ref=ref, vals=vals: _reference(op_cls, ref, vals, dtype),
                None if unspecified is None else unspecified(*vals))
    for src, dst in CASTS:
        if src != group:
            continue
        key, (vs, vals) = operand_vars(ps.Cast, 1)

        def cast_ref(dtype, val=vals[0], dst=dst):
            with np.errstate(over="ignore"):   # 1e300 -> float32 is inf, as NumPy casts it
                return val.astype(dst)

        add_row(ps.cast_op(dst), key, vs, vals, f"Cast{{{dst}}}({group})", cast_ref, None)

    fused = [None] * len(separate)
    for vs, ops in rows_of.values():
        scalars = [ScalarType(group)() for _ in vs]
        composite = Composite(scalars, [op(*scalars) for op, _ in ops])
        for (_, k), out in zip(ops, Elemwise(composite)(*vs, return_list=True)):
            assert out.type.dtype == separate[k].type.dtype, labels[k]
            fused[k] = out
    outs = {"PYTHON": separate, "NUMBA": fused}
    return inputs, values, outs, refs, labels, operands, free, len(rows_of)


def _mismatches(got, want, rtol, sign_free=None):
    """Indices where ``got`` differs from ``want`` in nan-ness, zero sign (except where
    ``sign_free``) or value."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or got.dtype != want.dtype:
        return f"shape/dtype {got.shape} {got.dtype} != {want.shape} {want.dtype}"
    if want.dtype.kind == "c":
        return np.union1d(_mismatches(got.real, want.real, rtol, sign_free),
                          _mismatches(got.imag, want.imag, rtol, sign_free))
    if want.dtype.kind != "f":
        bad = got != want
    else:
        gn, wn = np.isnan(got), np.isnan(want)
        both = ~gn & ~wn
        with np.errstate(all="ignore"):
            # An infinite reference must be met exactly (inf - -inf <= rtol * inf is True).
            close = (got == want) | (np.isfinite(want) & (np.abs(got - want) <= rtol * np.abs(want)))
        sign = (want == 0) & (np.signbit(got) != np.signbit(want))
        if sign_free is not None:
            sign &= ~sign_free
        bad = (gn != wn) | (both & ~close) | (both & sign)
    return np.flatnonzero(bad)


@pytest.fixture(scope="module", params=list(GROUPS))
def group_results(request):
    group = request.param
    inputs, values, outs, refs, labels, operands, free, n_fused = _group_graph(group)
    results = {}
    for mode in ("NUMBA", "PYTHON"):
        f = opgraph.function(inputs, outs[mode], mode=mode)
        if mode == "NUMBA":
            _assert_compiled_as_built(f, n_fused, group)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            results[mode] = f(*values)
    return group, labels, operands, refs, free, results


def _assert_compiled_as_built(f, n_fused, group):
    """The rewrites kept the fused nodes whole (one compiled loop each, which is what this
    file's compile budget relies on) and numba compiled them all (no objmode fallback,
    which would run the ops' NumPy impl and test nothing of the Numba code)."""
    nodes = f.maker.fgraph.toposort()
    fused = [n for n in nodes if isinstance(n.op, Elemwise) and isinstance(n.op.scalar_op, Composite)]
    assert len(nodes) == len(fused) == n_fused, f"{group}: the rewrites changed the fused graph: {nodes}"
    source = f.maker.linker.last_source
    assert source is not None and "objmode" not in source, f"{group}: not compiled by numba"


@pytest.mark.parametrize("mode", ["NUMBA", "PYTHON"])
def test_special_values_match_numpy(group_results, mode):
    group, labels, operands, refs, free, results = group_results
    rtol = {"float64": 4e-15, "float32": 2e-7, "complex128": 4e-15, "complex64": 2e-7}
    problems = []
    for label, args, got, want, sign_free in zip(labels, operands, results[mode], refs, free):
        bad = _mismatches(got, want, rtol.get(np.asarray(want).dtype.name, 0), sign_free)
        if isinstance(bad, str):
            problems.append(f"{label}: {bad}")
        elif len(bad):
            shown = "; ".join(f"{tuple(a[k].item() for a in args)} -> {np.asarray(got)[k].item()!r}, "
                              f"NumPy {np.asarray(want)[k].item()!r}" for k in bad[:3])
            problems.append(f"{label}: {len(bad)} values differ: {shown}")
    assert not problems, f"{mode}, {group} group:\n" + "\n".join(problems)


def test_where_numpy_rejects_a_dtype_building_the_op_raises_typeerror():
    # Rows leave out the dtype groups an op is not defined on; where that is because
    # NumPy raises (-bool, sign(bool), ~float, ...), opgraph must refuse to build the
    # node (both modes then agree), not compute something in one mode only.
    rejected = []
    for op_cls, (arity, ref, groups) in ROWS.items():
        for group in GROUPS:
            if group in groups:
                continue
            # Whether NumPy rejects a dtype does not depend on the values: a few are enough
            # (the whole complex grid through the Newton quantiles' Python loop cost minutes).
            vals = _operands(group, arity, op_cls, limit=4)
            try:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
                    ref(*vals)
            except TypeError:
                pass
            else:
                continue
            vs = [pt.vector(f"v{k}", dtype=group) for k in range(arity)]
            with pytest.raises(TypeError):
                Elemwise(op_cls())(*vs)
            rejected.append(f"{op_cls.__name__}({group})")
    assert {"Neg(bool)", "Sub(bool)", "Sign(bool)", "Invert(float64)", "Floor(complex128)",
            "Gammaln(complex128)", "Mod(complex128)"} <= set(rejected)


def _root(exc):
    """The original error a runtime wrapper may carry."""
    return getattr(exc, "original", None) or exc.__cause__ or exc


@pytest.mark.parametrize("shape", [(), (3,)])
def test_integer_to_negative_power_raises_like_numpy(shape):
    x = pt.tensor("x", dtype="int64", shape=(None,) * len(shape))
    y = pt.tensor("y", dtype="int64", shape=(None,) * len(shape))
    xv, yv = np.full(shape, 2, dtype="int64"), np.full(shape, -1, dtype="int64")
    with pytest.raises(ValueError, match="negative integer powers"):
        np.power(xv, yv)
    errors = {}
    for mode in ("NUMBA", "PYTHON"):
        f = opgraph.function([x, y], x ** y, mode=mode)
        with pytest.raises(Exception) as info:
            f(xv, yv)
        errors[mode] = info.value
        root = _root(info.value)
        assert isinstance(root, ValueError), f"{mode}: {type(root).__name__}: {root}"
        assert "Integers to negative integer powers are not allowed" in str(root)
    assert type(errors["NUMBA"]) is type(errors["PYTHON"])
    # Non-negative exponents still work, and agree with NumPy.
    f = opgraph.function([x, y], x ** y, mode="NUMBA")
    np.testing.assert_array_equal(f(xv, np.abs(yv) * 3), np.power(xv, np.abs(yv) * 3))

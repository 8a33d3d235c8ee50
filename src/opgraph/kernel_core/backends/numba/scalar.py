"""Scalar ops as source expressions (the bodies of Elemwise / Composite loops).

``scalar_expression(op, args, in_dtypes, out_dtypes, ctx)`` returns one source
expression per output, with ``args`` the source names of the inputs.  The
Elemwise loop generator and Composite use it; a scalar op applied to scalar
variables in the graph becomes a tiny njit function with the same body.
"""

from __future__ import annotations

from functools import singledispatch

from opgraph.kernel_core.backends.numba.dispatch import literal, np_dtype, numba_funcify
from opgraph.kernel_core.backends.numba.scalar_form import scalar_form
from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.scalar import basic as ps
from opgraph.kernel_core.scalar import special as ps_special
from opgraph.kernel_core.scalar.basic import ScalarOp
from opgraph.kernel_core.scalar.composite import Composite


_INFIX = {ps.Add: "+", ps.Mul: "*", ps.Sub: "-", ps.Mod: "%",
          ps.LT: "<", ps.GT: ">", ps.LE: "<=", ps.GE: ">=", ps.EQ: "==", ps.NEQ: "!=",
          ps.AND: "&", ps.OR: "|", ps.XOR: "^"}
# math.* (not np.*) on scalars: numba types NumPy ufunc calls on scalars an
# order of magnitude more slowly, and compile time is the cost that matters.
_NP_UNARY = {ps.Floor: "floor", ps.Ceil: "ceil", ps.Round_half_to_even: "round"}
_MATH_FLOAT = {ps.Exp: "exp", ps.Expm1: "expm1", ps.Log: "log", ps.Log2: "log2",
               ps.Log10: "log10", ps.Log1p: "log1p", ps.Sqrt: "sqrt", ps.Sin: "sin", ps.Cos: "cos",
               ps.Tan: "tan", ps.Arcsin: "asin", ps.Arccos: "acos", ps.Arctan: "atan",
               ps.Sinh: "sinh", ps.Cosh: "cosh", ps.Tanh: "tanh", ps.Arcsinh: "asinh",
               ps.Arccosh: "acosh", ps.Arctanh: "atanh"}
_VECTORIZABLE = {ps.Exp: "vexp", ps.Log: "vlog", ps.Log1p: "vlog1p", ps.Tanh: "vtanh"}
_MATH_UNARY = {ps.Erf: "erf", ps.Erfc: "erfc", ps.Gamma: "gamma"}
_KERNEL_UNARY = {ps.Gammaln: "gammaln", ps.Sigmoid: "sigmoid", ps.Softplus: "softplus", ps.Log1mexp: "log1mexp",
                 ps.Psi: "psi", ps.Tri_gamma: "tri_gamma", ps.Erfinv: "erfinv", ps.Erfcx: "erfcx",
                 ps_special.Xlogx: "xlogx", ps_special.Log_ndtr: "log_ndtr"}


def _as_float(arg, dtype):
    # math.* and kernels work in float64; float32 results are cast back by the caller.
    return arg if dtype.startswith("float") else f"np.float64({arg})"


@singledispatch
def scalar_expression(op, args, in_dtypes, out_dtypes, ctx):
    cls = type(op)
    if cls in _INFIX:
        return ["(" + f" {_INFIX[cls]} ".join(args) + ")"]
    if cls in _NP_UNARY:
        return [f"np.{_NP_UNARY[cls]}({args[0]})"]
    if cls in _MATH_FLOAT and in_dtypes[0].startswith("complex"):
        # math.* is real-only; NumPy's ufuncs take complex scalars inside numba.
        name = _MATH_FLOAT[cls]
        name = "arc" + name[1:] if name.startswith("a") else name
        return [f"np.{name}({args[0]})"]
    if cls in _VECTORIZABLE and ctx.in_loops:
        # Our vectorizable exp / log (scalar_kernels) instead of libm's scalar calls
        # (through their cached twins: see CodeContext.kernel).
        fn = ctx.kernel(_VECTORIZABLE[cls])
        return [f"{fn}({_as_float(args[0], in_dtypes[0])})"]
    if cls in _MATH_FLOAT:
        return [f"math.{_MATH_FLOAT[cls]}({_as_float(args[0], in_dtypes[0])})"]
    if cls in _MATH_UNARY:
        return [f"math.{_MATH_UNARY[cls]}({_as_float(args[0], in_dtypes[0])})"]
    if cls in _KERNEL_UNARY:
        fn = ctx.kernel(_KERNEL_UNARY[cls])
        return [f"{fn}({_as_float(args[0], in_dtypes[0])})"]
    raise NotImplementedError(f"no Numba code for the scalar op {op}")


def _register(cls, fn):
    scalar_expression.register(cls)(fn)


def _cdiv(a, b, ctx):
    return f"{ctx.kernel('cdiv')}(complex({a}), complex({b}))"


# Complex division by NumPy's algorithm (numba's raises ZeroDivisionError on 0j).
_register(ps.True_div, lambda op, a, i, o, ctx: [_cdiv(a[0], a[1], ctx) if o[0].startswith("complex")
                                                 else f"({a[0]} / {a[1]})"])
_register(ps.Neg, lambda op, a, i, o, ctx: [f"(-{a[0]})"])
_register(ps.Sqr, lambda op, a, i, o, ctx: [f"({a[0]} * {a[0]})"])
_register(ps.Reciprocal, lambda op, a, i, o, ctx: [_cdiv("1.0", a[0], ctx) if o[0].startswith("complex")
                                                   else f"(1.0 / {a[0]})"])
# np.maximum / np.minimum exactly: nan propagates, and at a tie the SECOND argument
# wins (maximum(0.0, -0.0) is -0.0).
def _maximum(a, b):
    return f"({a} if {a} > {b} or {a} != {a} else {b})"


def _minimum(a, b):
    return f"({a} if {a} < {b} or {a} != {a} else {b})"


_register(ps.Maximum, lambda op, a, i, o, ctx: [_maximum(a[0], a[1])])
_register(ps.Minimum, lambda op, a, i, o, ctx: [_minimum(a[0], a[1])])
# np.clip is minimum(maximum(x, lo), hi): a nan bound gives nan (Python's min/max would not).
_register(ps.Clip, lambda op, a, i, o, ctx: [_minimum(_maximum(a[0], a[1]), a[2])])


def _sign_expr(op, a, i, o, ctx):
    if i[0].startswith("float"):
        return [f"{ctx.kernel('sign')}({a[0]})"]   # sign(-0.0) is +0.0
    if i[0].startswith("uint"):
        return [f"(1 if {a[0]} > 0 else 0)"]                       # np.sign would wrap 128 to 255
    if i[0].startswith("int"):
        return [f"(({a[0]} > 0) - ({a[0]} < 0))"]
    return [f"np.sign({a[0]})"]


_register(ps.Sign, _sign_expr)


def _pow_expr(op, a, i, o, ctx):
    if not o[0].startswith(("float", "complex")):
        # Integer power: a negative exponent raises, as in NumPy.
        return [f"{ctx.kernel('int_pow')}({a[0]}, {a[1]})"]
    return [f"({a[0]} ** {a[1]})"]


_register(ps.Pow, _pow_expr)


def _int_div_expr(op, a, i, o, ctx):
    if all(d.startswith("int") for d in i):
        # NumPy's min_int // -1 wraps to min_int; numba's // returns 0 there.
        return [f"(-{a[0]} if {a[1]} == -1 else {a[0]} // {a[1]})"]
    return [f"({a[0]} // {a[1]})"]


_register(ps.Int_div, _int_div_expr)
_register(ps.Abs, lambda op, a, i, o, ctx: [f"abs({a[0]})"])
# 2.0 ** <int64> takes numba's integer-exponent path, which raises OverflowError.
_register(ps.Exp2, lambda op, a, i, o, ctx: [f"(2.0 ** {_as_float(a[0], i[0])})"])
_register(ps.IsNan, lambda op, a, i, o, ctx: [f"({a[0]} != {a[0]})"])
_register(ps.IsInf, lambda op, a, i, o, ctx: [f"(abs({a[0]}) == np.inf)" if i[0].startswith(("float", "complex"))
                                              else "False"])
_register(ps.Switch, lambda op, a, i, o, ctx: [f"({a[1]} if {a[0]} else {a[2]})"])
_register(ps.Second, lambda op, a, i, o, ctx: [a[1]])
_register(ps.Identity, lambda op, a, i, o, ctx: [a[0]])
def _cast_expr(op, a, i, o, ctx):
    if i[0] == "bool" and op.dtype != "bool":
        # numba cannot call float()/int() on a boolean: select the value instead.
        return [f"({np_dtype(op.dtype)}(1) if {a[0]} else {np_dtype(op.dtype)}(0))"]
    return [f"{cast_fn(op.dtype)}({a[0]})"]


_register(ps.Cast, _cast_expr)
_register(ps.Arctan2, lambda op, a, i, o, ctx: [f"math.atan2({a[0]}, {a[1]})"])
# pt.special's binary kernels (scalar/special.py): float64 arguments, the order n an int.
_register(ps_special.Xlogy0, lambda op, a, i, o, ctx: [
    f"{ctx.kernel('xlogy0')}({_as_float(a[0], i[0])}, {_as_float(a[1], i[1])})"])
_register(ps_special.Polygamma, lambda op, a, i, o, ctx: [
    f"{ctx.kernel('polygamma')}(int({a[0]}), {_as_float(a[1], i[1])})"])


def cast_fn(dtype):
    """The cheapest-to-type conversion to ``dtype`` (Python builtins for the common ones)."""
    return {"float64": "float", "int64": "int", "bool": "bool"}.get(dtype) or np_dtype(dtype)


_register(ps.Invert, lambda op, a, i, o, ctx: [f"(not {a[0]})" if i[0] == "bool" else f"(~{a[0]})"])


# Terms per parenthesised group of a long sum / product.  ``a + b + c + ...`` parses as
# a left-nested tree as deep as it is long, and Python's parser, ``ast`` and numba
# all recurse on it (RecursionError past ~1000 terms): groups of groups keep the
# depth logarithmic.  Up to this many terms the expression is the plain flat one.
_GROUP = 8


def _add_like(sym):
    def expr(op, a, i, o, ctx):
        level = list(a)
        while len(level) > 1:
            level = ["(" + f" {sym} ".join(level[k:k + _GROUP]) + ")" if len(level[k:k + _GROUP]) > 1
                     else level[k] for k in range(0, len(level), _GROUP)]
        return level
    return expr


_register(ps.Add, _add_like("+"))
_register(ps.Mul, _add_like("*"))


def composite_statements(op, args, ctx, prefix="t"):
    """(statement lines, output expressions) computing a Composite's inner graph."""
    names = dict(zip(op.inputs, args))
    lines = []
    # Locals are named from ``prefix`` only (never a global counter) so identical
    # nodes generate identical source and share one compiled function.
    tag = prefix
    for k, node in enumerate(op.nodes):
        ins = []
        for v in node.inputs:
            if v in names:
                ins.append(names[v])
            elif isinstance(v, Constant):
                ins.append(literal(v.data, v.type.dtype))
            else:  # pragma: no cover - closed graphs only
                raise ValueError(f"Composite inner variable {v} is not computed before use")
        in_dtypes = [v.type.dtype for v in node.inputs]
        out_dtypes = [o.type.dtype for o in node.outputs]
        exprs = statements_for(node.op, ins, in_dtypes, out_dtypes, ctx, lines, f"{tag}_{k}c")
        for j, (o, e) in enumerate(zip(node.outputs, exprs)):
            local = f"{tag}_{k}_{j}"
            lines.append(f"{local} = {typed(node.op, e, in_dtypes, o.type.dtype)}")
            names[o] = local
    outs = []
    for o in op.outputs:
        outs.append(names[o] if o in names else literal(o.data, o.type.dtype))
    return lines, outs


def typed(op, expr, in_dtypes, out_dtype):
    """``expr`` (an output of ``op``) converted to ``out_dtype`` where it might not be already."""
    if isinstance(op, Composite):
        return expr   # a Composite's outputs are typed locals (or typed literals) already
    if out_dtype == "float64" and all(d == "float64" for d in in_dtypes):
        return expr   # arithmetic on float64 is float64: no cast call for numba to type
    return f"{cast_fn(out_dtype)}({expr})"


def statements_for(op, args, in_dtypes, out_dtypes, ctx, lines, prefix="t"):
    """Expressions for ``op``; nested Composites append their statements to ``lines``."""
    if isinstance(op, Composite):
        inner_lines, outs = composite_statements(op, args, ctx, prefix)
        lines.extend(inner_lines)
        return outs
    return scalar_expression(op, args, in_dtypes, out_dtypes, ctx)


@scalar_form.register(ScalarOp)
def _scalar_node_on_numbers(op, node, ctx, value, prefix, lines):
    args = [value(i, True) for i in range(len(node.inputs))]
    in_dtypes = [v.type.dtype for v in node.inputs]
    with ctx.run_once():
        exprs = statements_for(op, args, in_dtypes, [o.type.dtype for o in node.outputs], ctx, lines,
                               prefix + "t")
    return [f"{cast_fn(o.type.dtype)}({e})" for o, e in zip(node.outputs, exprs)]


@numba_funcify.register(ScalarOp)
def _funcify_scalar_node(op, node, ctx):
    """A scalar op applied to scalar variables: a tiny function returning numbers."""
    args = [f"x{i}" for i in range(len(node.inputs))]
    lines = []
    with ctx.run_once():
        exprs = statements_for(op, args, [v.type.dtype for v in node.inputs],
                               [o.type.dtype for o in node.outputs], ctx, lines)
    outs = [f"{cast_fn(o.type.dtype)}({e})" for o, e in zip(node.outputs, exprs)]
    body = "\n".join("    " + line for line in lines)
    ret = outs[0] if len(outs) == 1 else "(" + ", ".join(outs) + ",)"
    src = f"def {{name}}({', '.join(args)}):\n{body}\n    return {ret}\n" if lines else \
        f"def {{name}}({', '.join(args)}):\n    return {ret}\n"
    return ctx.define(src, prefix=f"scalar_{op.name}".replace("{", "").replace("}", "")
                      if not isinstance(op, Composite) else "composite")


# Complex numbers (scalar/complex.py): numba's complex scalars have .real / .imag / .conjugate().
from opgraph.kernel_core.scalar import complex as _pc  # noqa: E402


def _part(attr):
    def expr(op, a, i, o, ctx):
        if i[0].startswith("complex"):
            return [f"{a[0]}.{attr}"]
        return [a[0] if attr == "real" else f"{np_dtype(o[0])}(0)"]

    return expr


_register(_pc.Real, _part("real"))
_register(_pc.Imag, _part("imag"))
_register(_pc.Conj, lambda op, a, i, o, ctx: [f"{a[0]}.conjugate()" if i[0].startswith("complex") else a[0]])
_register(_pc.Complex, lambda op, a, i, o, ctx: [f"{np_dtype(o[0])}(complex({a[0]}, {a[1]}))"])

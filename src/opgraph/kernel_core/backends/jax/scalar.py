"""Scalar ops as ``jax.numpy`` functions, shared by scalar nodes, Elemwise and Composite.

``scalar_fn(op)`` returns a function of arrays that broadcasts like NumPy's ufuncs
(so Elemwise applies it to whole tensors) and returns the op's outputs cast to
the dtypes opgraph computed for them; a scalar node (ScalarType inputs: 0-d
arrays) uses the same function.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from opgraph.kernel_core.backends.jax.dispatch import jax_funcify
from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.scalar import basic as ps
from opgraph.kernel_core.scalar import complex as pc
from opgraph.kernel_core.scalar import special as psp
from opgraph.kernel_core.scalar import special_functions as psf
from opgraph.kernel_core.scalar.basic import ScalarOp
from opgraph.kernel_core.scalar.composite import Composite


def _inexact(x):
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype("float64")


def _log1mexp(x):
    return jnp.where(x < -np.log(2.0), jnp.log1p(-jnp.exp(x)), jnp.log(-jnp.expm1(x)))


def _softplus(x):
    # The same formula as the op's perform (no overflow for large |x|).
    tail = jnp.log1p(jnp.exp(-jnp.abs(x)))
    return jnp.where(x > 0, x + tail, tail)


def _second(a, b):
    return jnp.broadcast_to(b, jnp.broadcast_shapes(jnp.shape(a), jnp.shape(b)))


def _is_inf(x):
    return jnp.isinf(x) if jnp.issubdtype(jnp.result_type(x), jnp.inexact) else jnp.zeros(jnp.shape(x), bool)


def _int_div(a, b):
    return jnp.floor_divide(a, b)


def _add(*args):
    out = args[0]
    for a in args[1:]:
        out = out + a
    return out


def _mul(*args):
    out = args[0]
    for a in args[1:]:
        out = out * a
    return out


# Ops whose jnp function computes in their (float) output dtype: integer arguments
# are converted first, as the op's perform does (``_as_float_args``).
_FLOAT_ARGS = (ps.FloatUnaryOp, ps.FloatBinaryOp, ps.True_div, psf.BetaInc)

_TABLE = {
    ps.Add: _add, ps.Mul: _mul, ps.Sub: jnp.subtract, ps.True_div: jnp.true_divide, ps.Int_div: _int_div,
    ps.Mod: jnp.remainder, ps.Pow: jnp.power, ps.Neg: jnp.negative, ps.Abs: jnp.abs, ps.Sign: jnp.sign,
    ps.Sqr: jnp.square, ps.Reciprocal: jnp.reciprocal, ps.Maximum: jnp.maximum, ps.Minimum: jnp.minimum,
    ps.Clip: lambda x, lo, hi: jnp.minimum(jnp.maximum(x, lo), hi), ps.Switch: jnp.where, ps.Second: _second,
    ps.Identity: lambda x: x, ps.LT: jnp.less, ps.GT: jnp.greater, ps.LE: jnp.less_equal,
    ps.GE: jnp.greater_equal, ps.EQ: jnp.equal, ps.NEQ: jnp.not_equal, ps.IsNan: jnp.isnan, ps.IsInf: _is_inf,
    ps.AND: jnp.bitwise_and, ps.OR: jnp.bitwise_or, ps.XOR: jnp.bitwise_xor, ps.Invert: jnp.invert,
    ps.Floor: jnp.floor, ps.Ceil: jnp.ceil, ps.Round_half_to_even: jnp.round, ps.Exp: jnp.exp, ps.Exp2: jnp.exp2,
    ps.Expm1: jnp.expm1, ps.Log: jnp.log, ps.Log2: jnp.log2, ps.Log10: jnp.log10, ps.Log1p: jnp.log1p,
    ps.Log1mexp: _log1mexp, ps.Sqrt: jnp.sqrt, ps.Sin: jnp.sin, ps.Cos: jnp.cos, ps.Tan: jnp.tan,
    ps.Arcsin: jnp.arcsin, ps.Arccos: jnp.arccos, ps.Arctan: jnp.arctan, ps.Arctan2: jnp.arctan2,
    ps.Sinh: jnp.sinh, ps.Cosh: jnp.cosh, ps.Tanh: jnp.tanh, ps.Arcsinh: jnp.arcsinh, ps.Arccosh: jnp.arccosh,
    ps.Arctanh: jnp.arctanh, ps.Sigmoid: jax.nn.sigmoid, ps.Softplus: _softplus, ps.Erf: jsp.erf,
    ps.Erfc: jsp.erfc, ps.Erfcx: jsp.erfcx, ps.Erfinv: jsp.erfinv, ps.Gammaln: jsp.gammaln, ps.Psi: jsp.digamma,
    ps.Tri_gamma: lambda x: jsp.polygamma(1, x), ps.Gamma: jsp.gamma,
    pc.Real: jnp.real, pc.Imag: jnp.imag, pc.Conj: jnp.conj, pc.Complex: jax.lax.complex,
    # pt.special's scalar functions (scalar/special.py, scalar/special_functions.py)
    psp.Polygamma: lambda n, x: jsp.polygamma(n, _inexact(x)), psp.Xlogx: lambda x: jsp.xlogy(x, x),
    psp.Xlogy0: jsp.xlogy, psp.Log_ndtr: jsp.log_ndtr, psf.GammaInc: jsp.gammainc,
    psf.GammaIncC: jsp.gammaincc, psf.BetaInc: jsp.betainc, psf.Ndtri: jsp.ndtri, psf.I0: jsp.i0,
    psf.I0e: jsp.i0e, psf.I1: jsp.i1, psf.I1e: jsp.i1e,
}


def register_scalar(cls, fn, float_args=False):
    """Add ``cls -> fn`` to the table (other families' scalar ops: pt.special's)."""
    _TABLE[cls] = fn
    if float_args:
        _FLOAT_EXTRA.add(cls)


_FLOAT_EXTRA = set()


def has_scalar_impl(cls):
    """Whether the scalar op class ``cls`` has a JAX function here."""
    return issubclass(cls, (Composite, ps.Cast)) or any(c in _TABLE for c in cls.__mro__)


def _raw_fn(op):
    """The jnp function of ``op`` (its outputs in whatever dtype JAX computes)."""
    if isinstance(op, Composite):
        return _composite_fn(op)
    if isinstance(op, ps.Cast):
        dtype = op.dtype
        return lambda x: jnp.asarray(x).astype(dtype)
    for cls in type(op).__mro__:
        if cls in _TABLE:
            fn = _TABLE[cls]
            break
    else:
        raise NotImplementedError(f"the JAX backend has no implementation for the scalar op "
                                  f"{type(op).__name__} ({op})")
    if isinstance(op, _FLOAT_ARGS) or type(op) in _FLOAT_EXTRA:
        def float_args_fn(*args, _fn=fn, _op=op):
            arrays = [jnp.asarray(a) for a in args]
            if all(jnp.issubdtype(a.dtype, jnp.inexact) for a in arrays):
                return _fn(*arrays)
            (dtype,) = _op.output_dtypes(*[np.dtype(a.dtype).name for a in arrays])
            return _fn(*[a if jnp.issubdtype(a.dtype, jnp.inexact) else a.astype(dtype) for a in arrays])
        return float_args_fn
    return fn


def scalar_fn(op, out_dtypes):
    """``op`` as a function of arrays returning a tuple of outputs of ``out_dtypes``."""
    raw = _raw_fn(op)
    dtypes = [np.dtype(d) for d in out_dtypes]
    multi = len(dtypes) > 1 or isinstance(op, Composite)

    def fn(*args):
        res = raw(*args)
        if not multi:
            res = (res,)
        return tuple(jnp.asarray(r).astype(d) if jnp.asarray(r).dtype != d else jnp.asarray(r)
                     for r, d in zip(res, dtypes))
    return fn


def _reflected(node):
    """(base, negated) when ``node`` is a float softplus / sigmoid of ``base`` or of ``-base``."""
    if not isinstance(node.op, (ps.Softplus, ps.Sigmoid)) or not node.outputs[0].type.dtype.startswith("float"):
        return None
    v = node.inputs[0]
    if v.owner is not None and isinstance(v.owner.op, ps.Neg):
        v, negated = v.owner.inputs[0], True
    else:
        negated = False
    return (v, negated) if v.type.dtype.startswith("float") else None


def _softplus_sigmoid(node, x, e):
    """softplus(x) or sigmoid(x) from ``e = exp(-|x|)``: the forms stay exact for any x, and
    softplus(t), softplus(-t), sigmoid(t), sigmoid(-t) share one exp (XLA's CSE does not
    see that |-t| is |t|: the stabilized logistic loss and its gradient had four exps)."""
    if isinstance(node.op, ps.Softplus):
        return jnp.maximum(x, 0) + jnp.log1p(e)
    return jnp.where(x >= 0, 1, e) / (1 + e)


def _composite_fn(op):
    """The inner graph of a Composite as one function of arrays (a tuple of its outputs)."""
    inputs, outputs = op.inputs, op.outputs
    steps = []
    for node in op.nodes:
        steps.append((node, scalar_fn(node.op, [o.type.dtype for o in node.outputs]), _reflected(node)))

    def fn(*args):
        values = dict(zip(inputs, args))
        tails = {}   # base variable -> exp(-|base|)
        for node, f, reflected in steps:
            if reflected is not None:
                base, negated = reflected
                b = base.data if isinstance(base, Constant) else values[base]
                e = tails.get(base)
                if e is None:
                    e = tails[base] = jnp.exp(-jnp.abs(b))
                r = _softplus_sigmoid(node, -b if negated else b, e)
                values[node.outputs[0]] = jnp.asarray(r).astype(node.outputs[0].type.dtype)
                continue
            ins = [v.data if isinstance(v, Constant) else values[v] for v in node.inputs]
            for o, r in zip(node.outputs, f(*ins)):
                values[o] = r
        return tuple(o.data if isinstance(o, Constant) else values[o] for o in outputs)
    return fn


@jax_funcify.register(ScalarOp)
def _scalar_node(op, node, **kwargs):
    fn = scalar_fn(op, [o.type.dtype for o in node.outputs])
    if len(node.outputs) == 1:
        return lambda *args: fn(*args)[0]
    return fn

"""Reverse-mode automatic differentiation over Op pullbacks.

``grad`` seeds the cost with ``second(cost, 1.0)`` (a one of the cost's shape
and dtype), then walks the Apply nodes between the cost and the variables of
interest in reverse topological order, calling each node's
``op.L_op(inputs, outputs, output_grads)`` and summing the gradient terms each
variable receives.  A variable used once gets its single term as is, so raw
gradient graphs stay as small as the seeds show.

Conventions (PyTensor's):
- Integer inputs are differentiated as the real numbers they stand for: the
  gradient flowing into an integer input of a float computation is that of
  the computation's real extension (``grad(x * 2.5, x)`` is 2.5 for an int x,
  ``grad(x, x)`` is 1.0), with a float dtype (``config.floatX`` when the
  terms are integers).  Ops with integer / boolean *outputs* (comparisons,
  floor, argmax, casts to int) are piecewise constant: nothing flows back
  through them, so a wrt reached only through them has a float zero gradient
  (PyTensor's rule).  Ops that only rearrange integers (DimShuffle, marked
  ``integer_gradient_passes = True``) pass the real gradient on, so
  ``grad((x * i).sum(), i)`` for a vector x and an int scalar i is sum(x).
- A variable the cost does not depend on is *disconnected*: ``grad`` raises,
  warns or ignores according to ``disconnected_inputs``; the returned value is
  then a zero (or None with ``return_disconnected="None"``).
- ``consider_constant`` variables pass no gradient to what they depend on.
- ``known_grads`` seeds the gradient of any variables directly (that is what
  ``Lop`` / ``pullback`` is), with or without a cost.
- An Op's pullback may return ``grad_undefined(...)`` / ``grad_not_implemented(...)``
  (a ``NullType`` variable) for an input: every gradient depending on it is
  undefined, and ``grad`` raises ``NullTypeGradError`` (``null_gradients="raise"``)
  or returns zeros (``"return_zero"``).  ``DisconnectedType()()`` is the same as
  returning None; an Op's ``connection_pattern(node)`` (one list of booleans per
  input, one entry per output) marks inputs its outputs do not depend on.

Everything is iterative (graphs of 10^5 nodes never recurse).
"""

from __future__ import annotations

import warnings

import numpy as np

from opgraph.kernel_core.config import config
from opgraph.kernel_core.graph.basic import Apply, Constant, Variable
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.graph.type import Type
from opgraph.kernel_core.graph.traversal import ancestors, io_toposort
from opgraph.kernel_core.scalar.type import DISCRETE_DTYPES

__all__ = [
    "grad", "jacobian", "hessian", "Lop", "Rop", "pullback", "pushforward", "verify_grad",
    "DisconnectedInputError", "GradientError", "NullTypeGradError", "NullType", "DisconnectedType",
    "grad_undefined", "grad_not_implemented", "consider_constant", "zero_grad", "disconnected_grad",
    "grad_clip", "grad_scale", "hessian_vector_product",
    "ConsiderConstant", "ZeroGrad", "DisconnectedGrad", "GradClip", "GradScale",
]


class DisconnectedInputError(ValueError):
    """The cost does not depend on a variable we were asked to differentiate by."""


class GradientError(AssertionError):
    """``verify_grad`` found the symbolic gradient far from the numeric one."""

    def __init__(self, message, arg=None, max_abs_err=None, max_rel_err=None, abs_tol=None, rel_tol=None):
        super().__init__(message)
        self.arg = arg
        self.max_abs_err = max_abs_err
        self.max_rel_err = max_rel_err
        self.abs_tol = abs_tol
        self.rel_tol = rel_tol


class NullTypeGradError(TypeError, NotImplementedError):
    """A gradient asked for is undefined (an Op's pullback returned a NullType variable)."""


class NullType(Type):
    """The type of an undefined gradient; ``why_null`` says why.  It holds no value."""

    def __init__(self, why_null="(no explanation given)"):
        self.why_null = why_null

    def filter(self, value, strict=False, allow_downcast=None):
        raise ValueError(f"NullType variables hold no value ({self.why_null})")

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))

    def __str__(self):
        return "NullType"


class DisconnectedType(Type):
    """The type of a pullback result meaning "this input does not affect the outputs"."""

    def filter(self, value, strict=False, allow_downcast=None):
        raise ValueError("DisconnectedType variables hold no value")

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))

    def __str__(self):
        return "DisconnectedType"


def grad_undefined(op, x_pos, x, comment=""):
    """What a pullback returns for input ``x_pos`` when the gradient is mathematically undefined."""
    return NullType(f"the gradient of {op} with respect to its input {x_pos} ({x}) is mathematically "
                    f"undefined. {comment}".strip())()


def grad_not_implemented(op, x_pos, x, comment=""):
    """What a pullback returns for input ``x_pos`` when the gradient is not implemented."""
    return NullType(f"the gradient of {op} with respect to its input {x_pos} ({x}) is not implemented. "
                    f"{comment}".strip())()


def _is_null(g):
    return isinstance(g, Variable) and isinstance(g.type, NullType)


def _is_disconnected(g):
    return g is None or (isinstance(g, Variable) and isinstance(g.type, DisconnectedType))


def _connected_inputs(node):
    """The inputs of ``node`` its outputs depend on (an Op's ``connection_pattern``)."""
    pattern = getattr(node.op, "connection_pattern", None)
    if pattern is None:
        return node.inputs
    return [i for i, row in zip(node.inputs, pattern(node)) if any(row)]


# -- small helpers -----------------------------------------------------------
def _tensor():
    # Imported lazily: the tensor package imports many modules written later.
    from opgraph.kernel_core.tensor import basic, math

    return basic, math


def _as_var(x, what):
    basic, _ = _tensor()
    if isinstance(x, Variable):
        return x
    try:
        return basic.as_tensor_variable(x)
    except TypeError:
        raise TypeError(f"{what} must be a Variable, got {type(x).__name__}") from None


def _is_discrete(var):
    return getattr(var.type, "dtype", None) in DISCRETE_DTYPES


def _float_dtype(var):
    dtype = getattr(var.type, "dtype", config.floatX)
    return dtype if dtype not in DISCRETE_DTYPES else config.floatX


def _float_zeros_like(var):
    """Zeros with ``var``'s shape, float dtype (floatX for discrete variables)."""
    basic, math = _tensor()
    if not hasattr(var.type, "ndim"):
        # A non-tensor output (a random generator): nothing flows back through it.
        return DisconnectedType()()
    return math.second(var, basic.constant(0, dtype=_float_dtype(var)))


def _float_ones_like(var):
    basic, math = _tensor()
    return math.second(var, basic.constant(1.0, dtype=_float_dtype(var)))


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _sum_terms(var, terms):
    """The gradient of ``var``: its one term, or the Add of all of them (undefined if one is)."""
    _, math = _tensor()
    for t in terms:
        if _is_null(t):
            return t
    total = terms[0] if len(terms) == 1 else math.add(*terms)
    dtype = getattr(var.type, "dtype", None)
    if dtype is not None and dtype not in DISCRETE_DTYPES and total.type.dtype != dtype:
        total = math.cast(total, dtype)
    elif dtype in DISCRETE_DTYPES and getattr(total.type, "dtype", None) in DISCRETE_DTYPES:
        total = math.cast(total, config.floatX)  # a gradient is real-valued
    return total


def _check_term(node, i, g):
    """Validate the gradient term L_op returned for input ``i`` of ``node``."""
    basic, _ = _tensor()
    inp = node.inputs[i]
    if _is_null(g):
        return g
    if not isinstance(g, Variable):
        try:
            g = basic.as_tensor_variable(g)
        except TypeError:
            raise TypeError(f"{node.op}.L_op returned a {type(g).__name__} for input {i}, not a Variable") from None
    in_ndim = getattr(inp.type, "ndim", None)
    g_ndim = getattr(g.type, "ndim", None)
    if in_ndim is not None and g_ndim is not None and in_ndim != g_ndim:
        raise ValueError(
            f"{node.op}.L_op returned a gradient of type {g.type.short_str()} for input {i} ({inp}) "
            f"of type {inp.type.short_str()}: the number of dimensions differs")
    return g


# -- the backward pass -------------------------------------------------------
def _backprop(seeds, wrt, constants):
    """Gradient terms for every variable between ``seeds`` and ``wrt``.

    ``seeds`` maps variables to their (already known) gradients.  Returns
    (grads, reached): grads maps each wrt variable that received a gradient
    to its sum; reached is every variable the seeds depend on (a reached wrt
    with no gradient has a zero gradient rather than a disconnected one).
    """
    wrt_set = set(wrt)
    # Only constants block the walk: a wrt variable may depend on another one.
    nodes = io_toposort(list(constants), list(seeds))
    reached = set(seeds)
    for node in reversed(nodes):
        if any(o in reached for o in node.outputs):
            reached.update(_connected_inputs(node))

    # Forward: which variables depend on some wrt (are "connected").
    connected = set(wrt_set)
    live_nodes = []
    for node in nodes:
        if any(i in connected for i in _connected_inputs(node)):
            connected.update(node.outputs)
            live_nodes.append(node)

    terms = {}
    for var, g in seeds.items():
        terms.setdefault(var, []).append(g)
    summed = {}

    def total(var):
        if var not in summed:
            summed[var] = _sum_terms(var, terms[var])
        return summed[var]

    for node in reversed(live_nodes):
        if not any(o in terms for o in node.outputs):
            continue
        # Integer / boolean outputs are piecewise constant: nothing flows back
        # (except through ops that only move integers around, such as the
        # DimShuffle Elemwise inserts to align ranks: ``integer_gradient_passes``).
        if all(_is_discrete(o) for o in node.outputs) and not getattr(node.op, "integer_gradient_passes", False):
            continue
        out_grads = [total(o) if o in terms else _float_zeros_like(o) for o in node.outputs]
        null = next((g for g in out_grads if _is_null(g)), None)
        if null is not None:
            # An undefined output gradient makes every input's undefined (no pullback to call).
            in_grads = [null] * len(node.inputs)
        else:
            in_grads = node.op.L_op(list(node.inputs), list(node.outputs), out_grads)
        if len(in_grads) != len(node.inputs):
            raise ValueError(f"{node.op}.L_op returned {len(in_grads)} gradients for {len(node.inputs)} inputs")
        linked = set(_connected_inputs(node))
        for i, (inp, g) in enumerate(zip(node.inputs, in_grads)):
            if _is_disconnected(g) or inp not in connected or inp not in linked or isinstance(inp, Constant):
                continue
            terms.setdefault(inp, []).append(_check_term(node, i, g))
    grads = {v: total(v) for v in wrt_set if v in terms}
    return grads, reached


def _handle_disconnected(var, policy):
    msg = (f"grad: the cost does not depend on {var} ({var.type.short_str()}). Pass "
           "disconnected_inputs='ignore' (zero gradient) or 'warn' if that is expected.")
    if policy == "raise":
        raise DisconnectedInputError(msg)
    if policy == "warn":
        warnings.warn(msg, stacklevel=3)
    elif policy != "ignore":
        raise ValueError(f"disconnected_inputs must be 'raise', 'warn' or 'ignore', got {policy!r}")


def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise", add_names=True,
         known_grads=None, return_disconnected="zero", null_gradients="raise"):
    """Symbolic gradient of the scalar ``cost`` with respect to ``wrt``.

    ``wrt`` is a Variable or a list / tuple of them; the result has the same
    structure.  ``known_grads`` ({variable: gradient}) seeds gradients of
    intermediate variables (then ``cost`` may be None).  ``null_gradients``:
    "raise" (``NullTypeGradError``) or "return_zero" when the gradient of a
    ``wrt`` is undefined (a pullback returned ``grad_undefined`` /
    ``grad_not_implemented``).

    Integer inputs (PyTensor's semantics, and the mathematics: an integer
    variable only takes values on a lattice, so a function of it is piecewise
    constant in it): nothing flows back through integer-valued variables, and
    the gradient with respect to an integer / boolean ``wrt`` is a zero of
    dtype ``config.floatX``, with ``wrt``'s shape.  ``grad(x, x)`` for an
    integer scalar x is therefore 0.0, and ``grad(sigmoid(dot(X, W)).sum(), X)``
    with an integer X is zeros (only a float X gets ``dot``'s gradient).
    Run-time broadcasting cannot corrupt a gradient: an Elemwise only
    broadcasts dims statically known to be 1 (see ``Elemwise``).
    """
    if null_gradients not in ("raise", "return_zero"):
        raise ValueError(f"null_gradients must be 'raise' or 'return_zero', got {null_gradients!r}")
    if disconnected_inputs not in ("raise", "warn", "ignore"):
        raise ValueError(f"disconnected_inputs must be 'raise', 'warn' or 'ignore', got {disconnected_inputs!r}")
    if return_disconnected not in ("zero", "None", None, "disconnected"):
        raise ValueError(f"return_disconnected must be 'zero', 'None' or 'disconnected', got {return_disconnected!r}")
    if cost is None and not known_grads:
        raise ValueError("grad needs a cost, or known_grads when cost is None")

    single = not isinstance(wrt, (list, tuple))
    wrt_list = [_as_var(w, "wrt") for w in _as_list(wrt)]
    for w in wrt_list:
        if isinstance(w, Constant):
            raise TypeError(f"grad: cannot differentiate with respect to the constant {w}; use a symbolic input")

    seeds = {}
    if cost is not None:
        cost = _as_var(cost, "cost")
        if getattr(cost.type, "ndim", 0) != 0:
            raise TypeError(
                f"grad: the cost must be a scalar (0-d) tensor, got {cost} of type {cost.type.short_str()}; "
                "reduce it (e.g. .sum()) or use jacobian / Lop")
        seeds[cost] = _float_ones_like(cost)
    for var, g in (known_grads or {}).items():
        var = _as_var(var, "known_grads key")
        g = _as_var(g, f"known_grads[{var}]")
        if getattr(var.type, "ndim", None) != getattr(g.type, "ndim", None):
            raise ValueError(f"known_grads[{var}] has type {g.type.short_str()}, expected {var.type.short_str()}")
        if var in seeds:
            _, math = _tensor()
            seeds[var] = math.add(seeds[var], g)
        else:
            seeds[var] = g

    constants = [_as_var(c, "consider_constant entry") for c in (consider_constant or [])]
    grads, reached = _backprop(seeds, wrt_list, constants)

    results = []
    for w in wrt_list:
        if w in grads and _is_null(grads[w]):
            if null_gradients == "raise":
                raise NullTypeGradError(f"grad: the gradient with respect to {w} is undefined: "
                                        f"{grads[w].type.why_null} (null_gradients='return_zero' gives zeros)")
            g = _float_zeros_like(w)
        elif w in grads:
            g = grads[w]
        elif w in reached:
            # Connected, but only through integer paths or disconnected pullbacks.
            g = _float_zeros_like(w)
        else:
            _handle_disconnected(w, disconnected_inputs)
            g = _float_zeros_like(w) if return_disconnected == "zero" else None
        if g is not None and add_names and cost is not None and cost.name and w.name and g.name is None:
            g.name = f"(d{cost.name}/d{w.name})"
        results.append(g)
    return results[0] if single else _like(wrt, results)


def _like(template, results):
    """``results`` as a tuple when the caller passed a tuple (PyTensor's convention), else a list."""
    return tuple(results) if isinstance(template, tuple) else list(results)


class GradientMarker(Op):
    """An identity in the forward pass that changes only what flows back through it.

    The markers (consider_constant, zero_grad, disconnected_grad, grad_clip,
    grad_scale) return a view of their input, keep its shape
    (``infer_shape``), batch as themselves under ``vectorize_graph``, and
    compile in NUMBA as the identity (backends/numba/gradient_markers.py)."""

    view_map = {0: [0]}

    def make_node(self, x):
        x = _as_var(x, f"the input of {type(self).__name__}")
        return Apply(self, [x], [x.type.make_variable()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0]

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]


class ConsiderConstant(GradientMarker):
    """Identity whose gradient is cut: blocks backpropagation through its input."""

    def L_op(self, inputs, outputs, output_grads):
        return [None]


class ZeroGrad(GradientMarker):
    """Identity whose gradient is zero (the input stays connected: ``grad`` gives zeros)."""

    def L_op(self, inputs, outputs, output_grads):
        _, math = _tensor()
        return [math.zeros_like(output_grads[0])]


class DisconnectedGrad(GradientMarker):
    """Identity whose input is disconnected from its output for ``grad``
    (differentiating only through it raises DisconnectedInputError, as in PyTensor)."""

    def connection_pattern(self, node):
        return [[False]]

    def L_op(self, inputs, outputs, output_grads):
        return [DisconnectedType()()]


class GradClip(GradientMarker):
    """Identity whose gradient is clipped to [clip_lower_bound, clip_upper_bound]."""

    __props__ = ("clip_lower_bound", "clip_upper_bound")

    def __init__(self, clip_lower_bound, clip_upper_bound):
        lo, hi = float(clip_lower_bound), float(clip_upper_bound)
        if not lo <= hi:
            raise ValueError(f"grad_clip: lower bound {lo} is above the upper bound {hi}")
        self.clip_lower_bound, self.clip_upper_bound = lo, hi

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.math import clip

        g = output_grads[0]
        basic, _ = _tensor()
        dt = g.type.dtype
        return [clip(g, basic.constant(self.clip_lower_bound, dtype=dt), basic.constant(self.clip_upper_bound, dtype=dt))]


class GradScale(GradientMarker):
    """Identity whose gradient is multiplied by ``multiplier``."""

    __props__ = ("multiplier",)

    def __init__(self, multiplier):
        self.multiplier = float(multiplier)

    def L_op(self, inputs, outputs, output_grads):
        basic, _ = _tensor()
        g = output_grads[0]
        return [g * basic.constant(self.multiplier, dtype=g.type.dtype)]


def consider_constant(x):
    """``x`` as a value that gradients do not flow through (an identity in the forward pass)."""
    return ConsiderConstant()(_as_var(x, "consider_constant argument"))


def zero_grad(x):
    """``x`` in the forward pass; its gradient is zero (PyTensor's ``zero_grad``)."""
    return ZeroGrad()(_as_var(x, "zero_grad argument"))


def disconnected_grad(x):
    """``x`` in the forward pass; for ``grad`` it is disconnected from what it depends on."""
    return DisconnectedGrad()(_as_var(x, "disconnected_grad argument"))


def grad_clip(x, lower_bound, upper_bound):
    """``x`` in the forward pass; the gradient flowing back through it is clipped to the bounds."""
    return GradClip(lower_bound, upper_bound)(_as_var(x, "grad_clip argument"))


def grad_scale(x, multiplier):
    """``x`` in the forward pass; the gradient flowing back through it is scaled by ``multiplier``."""
    return GradScale(multiplier)(_as_var(x, "grad_scale argument"))


# -- vector products -----------------------------------------------------------
def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs="raise"):
    """Vector-Jacobian product: ``eval_points``ᵀ · ∂f/∂wrt (one result per wrt)."""
    fs = [_as_var(v, "f") for v in _as_list(f)]
    points = [_as_var(v, "eval_points") for v in _as_list(eval_points)]
    if len(fs) != len(points):
        raise ValueError(f"Lop: {len(fs)} outputs f but {len(points)} eval_points")
    result = grad(None, wrt if isinstance(wrt, (list, tuple)) else [wrt], consider_constant=consider_constant,
                  disconnected_inputs=disconnected_inputs, known_grads=dict(zip(fs, points)))
    return _like(wrt, result) if isinstance(wrt, (list, tuple)) else result[0]


def Rop(f, wrt, eval_points, disconnected_outputs="raise", return_disconnected="zero"):
    """Jacobian-vector product: ∂f/∂wrt · ``eval_points`` (one result per f).

    Computed with the double-Lop trick: g(u) = uᵀ·J is linear in u, so the
    Lop of g with respect to u along ``eval_points`` is J·eval_points.
    """
    from opgraph.kernel_core.graph.replace import graph_replace

    fs = [_as_var(v, "f") for v in _as_list(f)]
    wrts = [_as_var(v, "wrt") for v in _as_list(wrt)]
    points = [_as_var(v, "eval_points") for v in _as_list(eval_points)]
    if len(wrts) != len(points):
        raise ValueError(f"Rop: {len(wrts)} wrt variables but {len(points)} eval_points")
    for w, p in zip(wrts, points):
        if getattr(w.type, "ndim", None) != getattr(p.type, "ndim", None):
            raise ValueError(f"Rop: eval_point {p} ({p.type.short_str()}) does not match {w} ({w.type.short_str()})")
    dummies = [v.type.make_variable(name=f"rop_u{i}") for i, v in enumerate(fs)]
    g = grad(None, wrts, known_grads=dict(zip(fs, dummies)), disconnected_inputs="ignore")
    pairs = list(zip(g, points))
    results = []
    for f_i, u in zip(fs, dummies):
        r = grad(None, u, known_grads=dict(pairs), disconnected_inputs="ignore",
                 return_disconnected="None")
        if r is None:
            msg = f"Rop: the output {f_i} does not depend on {', '.join(str(w) for w in wrts)}"
            if disconnected_outputs == "raise":
                raise DisconnectedInputError(msg)
            if disconnected_outputs == "warn":
                warnings.warn(msg, stacklevel=2)
            r = _float_zeros_like(f_i) if return_disconnected == "zero" else None
        elif any(a is u for a in ancestors([r])):
            # Only shape information of u can remain (the map is linear in u): f has that shape.
            r = graph_replace(r, {u: f_i}, strict=False)
        results.append(r)
    return _like(f, results) if isinstance(f, (list, tuple)) else results[0]


def pullback(f, wrt, cotangents, consider_constant=None, disconnected_inputs="raise"):
    """Vector-Jacobian product (PyTensor 3's name for ``Lop``): ``cotangents``ᵀ · ∂f/∂wrt.

    ``f`` and ``cotangents`` are a Variable or matching lists; the result has
    ``wrt``'s structure (a Variable, a list or a tuple)."""
    return Lop(f, wrt, cotangents, consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)


def pushforward(f, wrt, tangents, disconnected_outputs="raise", return_disconnected="zero"):
    """Jacobian-vector product (PyTensor 3's name for ``Rop``): ∂f/∂wrt · ``tangents``.

    ``wrt`` and ``tangents`` are a Variable or matching lists; the result has
    ``f``'s structure."""
    return Rop(f, wrt, tangents, disconnected_outputs=disconnected_outputs, return_disconnected=return_disconnected)


def hessian_vector_product(cost, wrt, p, **grad_kwargs):
    """H·p for the Hessian H of the scalar ``cost``: the gradient of ``grad(cost, wrt)·p``.

    ``wrt`` and ``p`` are a Variable or matching lists (the result has ``wrt``'s
    structure); no Hessian is formed.  ``grad_kwargs`` go to the first ``grad``."""
    wrts = [_as_var(w, "wrt") for w in _as_list(wrt)]
    ps = [_as_var(v, "p") for v in _as_list(p)]
    if len(wrts) != len(ps):
        raise ValueError(f"hessian_vector_product: {len(wrts)} wrt variables but {len(ps)} vectors p")
    for w, v in zip(wrts, ps):
        if getattr(w.type, "ndim", None) != getattr(v.type, "ndim", None):
            raise ValueError(f"hessian_vector_product: p entry {v} ({v.type.short_str()}) does not match "
                             f"{w} ({w.type.short_str()})")
    _, math = _tensor()
    gs = grad(cost, wrts, **grad_kwargs)
    gp = math.add(*[(g * v).sum() for g, v in zip(gs, ps)]) if len(gs) > 1 else (gs[0] * ps[0]).sum()
    result = grad(gp, wrts, disconnected_inputs="ignore")
    return _like(wrt, result) if isinstance(wrt, (list, tuple)) else result[0]


# -- Jacobian and Hessian ------------------------------------------------------
def _flat(expression):
    if expression.type.ndim == 1:
        return expression
    return expression.flatten() if expression.type.ndim > 1 else expression


def _static_size(var):
    shape = var.type.shape
    if any(s is None for s in shape):
        return None
    return int(np.prod(shape, dtype=np.int64))


_UNROLL_MAX = 64


def _jacobian_rows(w, flat, n, consider_constant, disconnected_inputs):
    """One gradient per (statically known) output element, stacked."""
    from opgraph.kernel_core.tensor.join import stack

    rows = [grad(flat[i], w, consider_constant=consider_constant,
                 disconnected_inputs=disconnected_inputs) for i in range(n)]
    return stack(rows) if rows else None


def _jacobian_one(expression, w, flat, consider_constant, disconnected_inputs, vectorize):
    """∂flat/∂w with the output axis first: shape (flat.size, *w.shape).

    Small static outputs (and ``vectorize=False``) get one gradient per row;
    otherwise a single Lop is vectorized over the rows of an identity matrix,
    falling back to rows when some op of the gradient cannot be batched.
    """
    from opgraph.kernel_core.graph.replace import vectorize_graph
    from opgraph.kernel_core.tensor.construction import alloc, eye
    from opgraph.kernel_core.tensor.shape import shape_i

    n = _static_size(flat)
    if n is not None and not vectorize and n <= _UNROLL_MAX:
        return _jacobian_rows(w, flat, n, consider_constant, disconnected_inputs)
    # Same type as flat, so pullbacks see the static shape they expect.
    u = flat.type.make_variable(name="jac_u")
    row = Lop(flat, w, u, consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)
    size = n if n is not None else shape_i(flat, 0)
    try:
        jac = vectorize_graph(row, {u: eye(size, dtype=_float_dtype(flat))})
    except NotImplementedError:
        if n is None or vectorize:
            raise
        return _jacobian_rows(w, flat, n, consider_constant, disconnected_inputs)
    if jac.type.ndim == w.type.ndim:  # the rows do not depend on u: all equal (zeros)
        jac = alloc(jac, size, *[shape_i(w, d) for d in range(w.type.ndim)])
    return jac


def jacobian(expression, wrt, consider_constant=None, disconnected_inputs="raise", vectorize=False):
    """The Jacobian of ``expression`` with respect to ``wrt``: shape expression.shape + wrt.shape.

    With a statically known output size (and ``vectorize=False``) each row is
    a separate gradient; otherwise one ``Lop`` is vectorized over the rows of
    an identity matrix (``vectorize_graph``).
    """
    expression = _as_var(expression, "expression")
    single = not isinstance(wrt, (list, tuple))
    wrts = [_as_var(w, "wrt") for w in _as_list(wrt)]
    if expression.type.ndim == 0:
        res = grad(expression, wrts, consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)
        return res[0] if single else _like(wrt, res)
    flat = _flat(expression)
    results = []
    for w in wrts:
        jac = _jacobian_one(expression, w, flat, consider_constant, disconnected_inputs, vectorize)
        from opgraph.kernel_core.tensor.join import concatenate
        from opgraph.kernel_core.tensor.shape import reshape, shape

        if jac is None:  # an empty expression
            zeros = _float_zeros_like(w)
            jac = reshape(zeros.flatten()[:0], concatenate([[0], shape(w)]), ndim=w.type.ndim + 1)
        if expression.type.ndim != 1:
            new_shape = concatenate([shape(expression), shape(w)]) if w.type.ndim else shape(expression)
            jac = reshape(jac, new_shape, ndim=expression.type.ndim + w.type.ndim)
        results.append(jac)
    return results[0] if single else _like(wrt, results)


def hessian(cost, wrt, consider_constant=None, disconnected_inputs="raise", vectorize=False):
    """Matrix of second derivatives of the scalar ``cost`` (per wrt variable)."""
    cost = _as_var(cost, "cost")
    if cost.type.ndim != 0:
        raise TypeError(f"hessian: the cost must be a scalar (0-d) tensor, got {cost.type.short_str()}")
    single = not isinstance(wrt, (list, tuple))
    results = []
    for w in [_as_var(w, "wrt") for w in _as_list(wrt)]:
        g = grad(cost, w, consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)
        results.append(jacobian(g, w, consider_constant=consider_constant,
                                disconnected_inputs="ignore", vectorize=vectorize))
    return results[0] if single else _like(wrt, results)


# -- numeric verification ------------------------------------------------------
def _compile_eval(inputs, outputs):
    """A small closure evaluating ``outputs`` from ``inputs`` values (toposorted once)."""
    nodes = io_toposort(inputs, outputs)

    def run(values):
        storage = dict(zip(inputs, values))
        for node in nodes:
            args = [inp.data if isinstance(inp, Constant) and inp not in storage else storage[inp]
                    for inp in node.inputs]
            cells = [[None] for _ in node.outputs]
            node.op.perform(node, args, cells)
            for out, cell in zip(node.outputs, cells):
                storage[out] = cell[0]
        return [np.asarray(o.data) if isinstance(o, Constant) and o not in storage else np.asarray(storage[o])
                for o in outputs]

    return run


_DEFAULT_EPS = {"float64": 1e-6, "float32": 1e-3, "float16": 1e-1}
_DEFAULT_TOL = {"float64": 1e-4, "float32": 1e-2, "float16": 5e-2}


def _compile_with_mode(inputs, outputs, mode):
    """``run(values) -> list of arrays`` compiled by ``function`` in ``mode`` (rewrites included)."""
    from opgraph.kernel_core.compile.function import function

    f = function(inputs, outputs, mode=mode, on_unused_input="ignore")

    def run(values):
        res = f(*values)
        return [np.asarray(r) for r in (res if isinstance(res, (list, tuple)) else [res])]

    return run


def verify_grad(fun, pt, n_tests=2, rng=None, eps=None, out_type=None, abs_tol=None, rel_tol=None,
                mode=None, cast_to_output_type=False, no_debug_ref=True):
    """Check ``grad`` of ``fun`` against central finite differences at the points ``pt``.

    ``fun`` takes one symbolic tensor per array in ``pt`` and returns one
    tensor.  A random projection makes the output a scalar cost; the symbolic
    gradient (an ``Lop``) is compared with the numeric one element by element.
    Raises ``GradientError`` naming the input and the max abs / rel errors.

    ``n_tests`` random projections are tried; ``rng`` is a Generator or a seed;
    ``eps`` is the finite-difference step and ``abs_tol`` / ``rel_tol`` the
    tolerances (defaults by dtype).  ``mode``: None evaluates the graphs with
    each Op's ``perform`` (no compilation, no rewrites); a mode name or
    ``Mode`` ("NUMBA", "PYTHON", "FAST_RUN", ...) compiles the function and its
    gradient with ``function(..., mode=mode)``, so the gradient checked is the
    one that mode runs.  ``out_type``: a float dtype the output is cast to
    before projecting.  ``cast_to_output_type``: round the random projection
    to the output's dtype in the numeric cost as well (otherwise it is float64
    there).  ``no_debug_ref=False`` (PyTensor's DebugMode reference) is
    rejected: opgraph has no DebugMode.
    """
    from opgraph.kernel_core.tensor.type import TensorType

    if not no_debug_ref:
        raise NotImplementedError("verify_grad: no_debug_ref=False needs DebugMode, which opgraph does not have")
    if out_type is not None and (not isinstance(out_type, str) or np.dtype(out_type).kind != "f"):
        raise ValueError(f"verify_grad: out_type must be a float dtype name such as 'float64', got {out_type!r}")
    if not isinstance(n_tests, (int, np.integer)) or n_tests < 1:
        raise ValueError(f"verify_grad: n_tests must be a positive integer, got {n_tests!r}")
    if isinstance(pt, np.ndarray) or not isinstance(pt, (list, tuple)):
        raise TypeError("verify_grad: pt must be a list of NumPy arrays (one per input of fun)")
    points = [np.array(p) for p in pt]
    for i, p in enumerate(points):
        if p.dtype.kind != "f":
            raise TypeError(f"verify_grad: point {i} has dtype {p.dtype.name}; only float inputs can be "
                            "differentiated (cast it, or close over it in fun)")
    if rng is None:
        rng = np.random.default_rng(42)
    elif isinstance(rng, (int, np.integer)):
        rng = np.random.default_rng(int(rng))

    inputs = [TensorType(p.dtype.name, tuple(1 if s == 1 else None for s in p.shape)).make_variable(name=f"input {i}")
              for i, p in enumerate(points)]
    out = fun(*inputs)
    if isinstance(out, (list, tuple)):
        raise TypeError("verify_grad: fun must return a single tensor (wrap several outputs in a sum)")
    out = _as_var(out, "the output of fun")
    if _is_discrete(out):
        raise TypeError(f"verify_grad: fun returned an integer tensor ({out.type.short_str()}); it has no gradient")
    if out_type is not None and out.type.dtype != out_type:
        _, math = _tensor()
        out = math.cast(out, out_type)
    out_dtype = out.type.dtype
    worst = min([out_dtype] + [p.dtype.name for p in points], key=lambda d: np.finfo(d).bits)
    eps = _DEFAULT_EPS[worst] if eps is None else eps
    abs_tol = _DEFAULT_TOL[worst] if abs_tol is None else abs_tol
    rel_tol = _DEFAULT_TOL[worst] if rel_tol is None else rel_tol

    proj = out.type.make_variable(name="random_projection")
    sym_grads = Lop(out, inputs, proj, disconnected_inputs="ignore")
    compile_ = _compile_eval if mode is None else (lambda i, o: _compile_with_mode(i, o, mode))
    eval_out = compile_(inputs, [out])
    eval_grads = compile_(inputs + [proj], sym_grads)

    for _ in range(n_tests):
        out_val = eval_out(points)[0]
        t = rng.random(np.shape(out_val)) + 0.5
        if cast_to_output_type:
            t = t.astype(out_dtype)

        def cost(values):
            return float(np.sum(eval_out(values)[0].astype("float64") * t))

        analytic = eval_grads(points + [np.asarray(t, dtype=out_dtype)])
        for i, p in enumerate(points):
            numeric = np.zeros(p.shape, dtype="float64")
            flat = numeric.reshape(-1)
            for k in range(p.size):
                plus, minus = p.copy(), p.copy()
                plus.reshape(-1)[k] += eps
                minus.reshape(-1)[k] -= eps
                vals_p = list(points)
                vals_p[i] = plus
                vals_m = list(points)
                vals_m[i] = minus
                flat[k] = (cost(vals_p) - cost(vals_m)) / (2 * eps)
            a = np.asarray(analytic[i], dtype="float64")
            if a.shape != numeric.shape:
                raise GradientError(
                    f"verify_grad: the gradient of input {i} has shape {a.shape}, expected {numeric.shape}", arg=i)
            abs_err = np.abs(a - numeric)
            rel_err = abs_err / np.maximum(np.abs(a) + np.abs(numeric), 1e-8)
            bad = (abs_err > abs_tol) & (rel_err > rel_tol)
            if not np.all(np.isfinite(a)) and np.all(np.isfinite(numeric)):
                bad |= ~np.isfinite(a)
            if np.any(bad):
                k = int(np.argmax(np.where(bad, abs_err, -1)))
                idx = np.unravel_index(k, a.shape) if a.shape else ()
                raise GradientError(
                    f"verify_grad: gradient of input {i} (shape {p.shape}) is wrong: max abs error "
                    f"{float(abs_err.max()):.3g} (abs_tol {abs_tol:g}), max rel error {float(rel_err.max()):.3g} "
                    f"(rel_tol {rel_tol:g}); at index {idx} symbolic {a.reshape(-1)[k]:.6g} vs numeric "
                    f"{numeric.reshape(-1)[k]:.6g}",
                    arg=i, max_abs_err=float(abs_err.max()), max_rel_err=float(rel_err.max()),
                    abs_tol=abs_tol, rel_tol=rel_tol)

"""Reverse-mode automatic differentiation over Op pullbacks.

``grad`` seeds the cost with ``second(cost, 1.0)`` (a one of the cost's shape
and dtype), then walks the Apply nodes between the cost and the variables of
interest in reverse topological order, calling each node's
``op.L_op(inputs, outputs, output_grads)`` and summing the gradient terms each
variable receives.  A variable used once gets its single term as is, so raw
gradient graphs stay as small as the seeds show.

Conventions (PyTensor's):
- Integer and boolean values are piecewise constant: nothing flows back
  through them, and the gradient with respect to an integer / boolean
  variable is a float zero (dtype ``config.floatX``).
- A variable the cost does not depend on is *disconnected*: ``grad`` raises,
  warns or ignores according to ``disconnected_inputs``; the returned value is
  then a zero (or None with ``return_disconnected="None"``).
- ``consider_constant`` variables pass no gradient to what they depend on.
- ``known_grads`` seeds the gradient of any variables directly (that is what
  ``Lop`` is), with or without a cost.

Everything is iterative (graphs of 10^5 nodes never recurse).
"""

from __future__ import annotations

import warnings

import numpy as np

from opgraph.kernel_core.config import config
from opgraph.kernel_core.graph.basic import Apply, Constant, Variable
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.graph.traversal import ancestors, io_toposort
from opgraph.kernel_core.scalar.type import DISCRETE_DTYPES

__all__ = [
    "grad", "jacobian", "hessian", "Lop", "Rop", "verify_grad",
    "DisconnectedInputError", "GradientError", "consider_constant",
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
    return math.second(var, basic.constant(0, dtype=_float_dtype(var)))


def _float_ones_like(var):
    basic, math = _tensor()
    return math.second(var, basic.constant(1.0, dtype=_float_dtype(var)))


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _sum_terms(var, terms):
    """The gradient of ``var``: its one term, or the Add of all of them."""
    _, math = _tensor()
    total = terms[0] if len(terms) == 1 else math.add(*terms)
    dtype = getattr(var.type, "dtype", None)
    if dtype is not None and dtype not in DISCRETE_DTYPES and total.type.dtype != dtype:
        total = math.cast(total, dtype)
    return total


def _check_term(node, i, g):
    """Validate the gradient term L_op returned for input ``i`` of ``node``."""
    basic, _ = _tensor()
    inp = node.inputs[i]
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
    for node in nodes:
        reached.update(node.inputs)

    # Forward: which variables depend on some wrt (are "connected").
    connected = set(wrt_set)
    live_nodes = []
    for node in nodes:
        if any(i in connected for i in node.inputs):
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
        # Integer / boolean outputs are piecewise constant: nothing flows back.
        if all(_is_discrete(o) for o in node.outputs):
            continue
        out_grads = [total(o) if o in terms else _float_zeros_like(o) for o in node.outputs]
        in_grads = node.op.L_op(list(node.inputs), list(node.outputs), out_grads)
        if len(in_grads) != len(node.inputs):
            raise ValueError(f"{node.op}.L_op returned {len(in_grads)} gradients for {len(node.inputs)} inputs")
        for i, (inp, g) in enumerate(zip(node.inputs, in_grads)):
            if g is None or inp not in connected or isinstance(inp, Constant) or _is_discrete(inp):
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

    ``wrt`` is a Variable or a list of them; the result has the same
    structure.  ``known_grads`` ({variable: gradient}) seeds gradients of
    intermediate variables (then ``cost`` may be None).
    """
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
        if w in grads:
            g = grads[w] if not _is_discrete(w) else _float_zeros_like(w)
        elif w in reached:
            # Connected, but only through integer paths or disconnected pullbacks.
            g = _float_zeros_like(w)
        else:
            _handle_disconnected(w, disconnected_inputs)
            g = _float_zeros_like(w) if return_disconnected == "zero" else None
        if g is not None and add_names and cost is not None and cost.name and w.name and g.name is None:
            g.name = f"(d{cost.name}/d{w.name})"
        results.append(g)
    return results[0] if single else results


def consider_constant(x):
    """``x`` as a value that gradients do not flow through (an identity in the forward pass)."""
    return ConsiderConstant()(_as_var(x, "consider_constant argument"))


class ConsiderConstant(Op):
    """Identity whose gradient is cut: blocks backpropagation through its input."""

    view_map = {0: [0]}

    def make_node(self, x):
        return Apply(self, [x], [x.type.make_variable()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0]

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        return [None]


# -- vector products -----------------------------------------------------------
def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs="raise"):
    """Vector-Jacobian product: ``eval_points``ᵀ · ∂f/∂wrt (one result per wrt)."""
    fs = [_as_var(v, "f") for v in _as_list(f)]
    points = [_as_var(v, "eval_points") for v in _as_list(eval_points)]
    if len(fs) != len(points):
        raise ValueError(f"Lop: {len(fs)} outputs f but {len(points)} eval_points")
    result = grad(None, wrt if isinstance(wrt, (list, tuple)) else [wrt], consider_constant=consider_constant,
                  disconnected_inputs=disconnected_inputs, known_grads=dict(zip(fs, points)))
    return result if isinstance(wrt, (list, tuple)) else result[0]


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
    pairs = [(gi, p) for gi, p, w in zip(g, points, wrts) if not _is_discrete(w)]
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
    return results if isinstance(f, (list, tuple)) else results[0]


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
        return res[0] if single else res
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
    return results[0] if single else results


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
    return results[0] if single else results


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


def verify_grad(fun, pt, n_tests=2, rng=None, eps=None, out_type=None, abs_tol=None, rel_tol=None,
                mode=None, cast_to_output_type=False, no_debug_ref=True):
    """Check ``grad`` of ``fun`` against central finite differences at the points ``pt``.

    ``fun`` takes one symbolic tensor per array in ``pt`` and returns one
    tensor.  A random projection makes the output a scalar cost; the symbolic
    gradient (an ``Lop``) is compared with the numeric one element by element.
    Raises ``GradientError`` naming the input and the max abs / rel errors.
    """
    from opgraph.kernel_core.tensor.type import TensorType

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
    out_dtype = out.type.dtype
    eps = _DEFAULT_EPS.get(min((p.dtype.name for p in points), key=lambda d: np.finfo(d).bits)) if eps is None else eps
    worst = min([out_dtype] + [p.dtype.name for p in points], key=lambda d: np.finfo(d).bits)
    abs_tol = _DEFAULT_TOL[worst] if abs_tol is None else abs_tol
    rel_tol = _DEFAULT_TOL[worst] if rel_tol is None else rel_tol

    proj = out.type.make_variable(name="random_projection")
    sym_grads = Lop(out, inputs, proj, disconnected_inputs="ignore")
    eval_out = _compile_eval(inputs, [out])
    eval_grads = _compile_eval(inputs + [proj], sym_grads)

    for _ in range(n_tests):
        out_val = eval_out(points)[0]
        t = (rng.random(np.shape(out_val)) + 0.5).astype(out_dtype)

        def cost(values):
            return float(np.sum(eval_out(values)[0].astype("float64") * t))

        analytic = eval_grads(points + [t])
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

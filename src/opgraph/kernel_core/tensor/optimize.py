"""Root finding and minimisation as graph nodes (PyTensor's ``pytensor.tensor.optimize``).

    x, a = pt.scalar("x"), pt.scalar("a")
    x_star, success = minimize((x - a) ** 2, x)          # x's value is the initial guess
    dx_da = grad(x_star, a)                                # 1, by the implicit function theorem

Each function returns ``(solution, success)``.  The node's inputs are ``[x, *args]``:
the variable solved for (its run-time value is the starting point) and the other
root variables the objective depends on ("args", found from the graph).  The node
holds the objective (and the derivative graphs the method uses) as an inner graph
of those inputs; ``perform`` calls ``scipy.optimize`` with callbacks evaluating the
inner graph on the Python VM (compiled once per op).

Gradients of the solution w.r.t. the args come from the implicit function theorem:
the solution satisfies ``F(x*, theta) = 0`` (root: the equations; minimisation: the
objective's gradient), so ``dx*/dtheta = -J_x^{-1} J_theta`` and the pullback of a
cotangent ``v`` is ``-J_theta^T w`` with ``J_x^T w = v`` -- a graph of the inner
equation evaluated at the solution (one ``solve``).  The initial guess gets a zero
gradient (the solution does not depend on it, up to the solver's tolerance).

Backends: no dedicated Numba kernel -- SciPy's solvers are Python.  In NUMBA mode the
node runs through the objmode fallback (``backends/numba/fallback.py``), calling the
same ``perform`` and the same inner VM, so both modes give identical results; the
rest of the graph stays compiled.  ``vectorize_graph`` batches the node with the
default rule: a ``Blockwise`` looping over the parameter batch (one solve each).
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Apply, Constant, Variable
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.graph.traversal import clone_get_equiv, graph_inputs

__all__ = ["minimize", "minimize_scalar", "root", "root_scalar",
           "MinimizeOp", "MinimizeScalarOp", "RootOp", "RootScalarOp"]

# Methods of scipy.optimize, by what they use (lower-case, as scipy compares them).
_MINIMIZE_NO_GRAD = ("nelder-mead", "powell", "cobyla", "cobyqa")
_MINIMIZE_GRAD = ("cg", "bfgs", "l-bfgs-b", "tnc", "slsqp")
_MINIMIZE_HESS = ("newton-cg", "trust-ncg", "trust-krylov", "trust-constr")   # use it when given
_MINIMIZE_NEED_HESS = ("dogleg", "trust-exact")                               # cannot run without it
_MINIMIZE_METHODS = _MINIMIZE_NO_GRAD + _MINIMIZE_GRAD + _MINIMIZE_HESS + _MINIMIZE_NEED_HESS
_ROOT_JAC = ("hybr", "lm")
_ROOT_METHODS = _ROOT_JAC + ("broyden1", "broyden2", "anderson", "linearmixing", "diagbroyden",
                             "excitingmixing", "krylov", "df-sane")
_ROOT_SCALAR_BRACKET = ("bisect", "brentq", "brenth", "ridder", "toms748")
_ROOT_SCALAR_METHODS = _ROOT_SCALAR_BRACKET + ("secant", "newton", "halley")
_MINIMIZE_SCALAR_METHODS = ("brent", "golden", "bounded")


def _check_method(who, method, known):
    if not isinstance(method, str) or method.lower() not in known:
        raise ValueError(f"{who}: unknown method {method!r}; choose one of {', '.join(known)}")
    return method.lower()


def _problem(who, outputs, x):
    """``(x, args)``: check ``x`` is a float root variable the outputs depend on; the
    args are the other non-constant roots (shared variables included)."""
    from opgraph.kernel_core.tensor.type import TensorType

    if not isinstance(x, Variable) or not isinstance(x.type, TensorType):
        raise TypeError(f"{who}: the variable to solve for must be a tensor variable, got {x!r}")
    if isinstance(x, Constant) or x.owner is not None:
        made_by = f" (computed by {x.owner.op})" if x.owner is not None else " (a constant)"
        raise ValueError(f"{who}: the variable to solve for must be a root variable of the graph "
                         f"(an input such as pt.vector('x')); {x}{made_by} is not")
    if not x.type.dtype.startswith("float"):
        raise TypeError(f"{who}: the variable to solve for must be a float tensor, got {x} of type "
                        f"{x.type.short_str()}")
    roots = graph_inputs(outputs)
    if not any(v is x for v in roots):
        raise ValueError(f"{who}: {outputs[0]} does not depend on the variable to solve for, {x}")
    args = [v for v in roots if v is not x and not isinstance(v, Constant)]
    return x, args


def _flat(v):
    return v.flatten() if v.type.ndim != 1 else v


class _SolverOp(Op):
    """Shared machinery: the inner graph ``[x, *args] -> outputs``, the callbacks, and the
    implicit-function pullback of the equation ``F(x*, args) = 0``.

    ``inner_outputs`` are what the solver evaluates (the method's needs); ``equation``
    is F, kept beside them for the gradient.  Equality is identity (as Scan)."""

    __props__ = ()
    who = "optimize"

    def __init__(self, x, args, outputs, equation, method, optimizer_kwargs):
        memo = clone_get_equiv([x, *args], list(outputs) + [equation], copy_inputs=True, copy_orphans=True)
        self.inner_inputs = [memo[v] for v in [x, *args]]
        self.inner_outputs = [memo[o] for o in outputs]
        self.equation = memo[equation]
        self.method = method
        self.optimizer_kwargs = dict(optimizer_kwargs or {})
        self._thunks = {}
        self._implicit = None

    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)

    def __str__(self):
        return f"{type(self).__name__}{{method={self.method}}}"

    def inner_graphs(self):
        return (self.inner_inputs, self.inner_outputs)

    # -- the node ---------------------------------------------------------------
    def make_node(self, x, *args):
        from opgraph.kernel_core.tensor.basic import as_tensor_variable
        from opgraph.kernel_core.tensor.type import TensorType

        if len(args) != len(self.inner_inputs) - 1:
            raise TypeError(f"{self} takes {len(self.inner_inputs)} inputs (x and {len(self.inner_inputs) - 1} "
                            f"args), got {1 + len(args)}")
        converted = []
        for k, (v, inner) in enumerate(zip((x, *args), self.inner_inputs)):
            if not isinstance(v, Variable):
                v = as_tensor_variable(v)
            c = inner.type.convert_variable(v)
            if c is None:
                what = "x" if k == 0 else f"arg {k - 1} ({inner})"
                raise TypeError(f"{self}: {what} has type {v.type.short_str()}, expected {inner.type.short_str()}")
            converted.append(c)
        x_type = self.inner_inputs[0].type
        return Apply(self, converted, [x_type.clone().make_variable(), TensorType("bool", ()).make_variable()])

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0], ()]

    # -- Python implementation ---------------------------------------------------
    def _thunk(self, indices):
        """A VM evaluating the inner outputs at ``indices`` (rewritten once, as a step graph)."""
        thunk = self._thunks.get(indices)
        if thunk is None:
            from opgraph.kernel_core.compile.vm import VMLinker
            from opgraph.kernel_core.graph.fgraph import FunctionGraph
            from opgraph.kernel_core.rewriting.api import rewrite_graph

            fgraph = FunctionGraph(self.inner_inputs, [self.inner_outputs[i] for i in indices], clone=True)
            fgraph = rewrite_graph(fgraph, include=("canonicalize", "stabilize", "specialize"), clone=False)
            thunk = self._thunks[indices] = VMLinker().make_thunk(fgraph)
        return thunk

    def perform(self, node, inputs, output_storage):
        x0 = np.asarray(inputs[0])
        args = list(inputs[1:])
        dtype = self.inner_inputs[0].type.dtype
        shape = x0.shape

        def call(indices, x_flat):
            x = np.asarray(x_flat, dtype=dtype).reshape(shape)
            return [np.asarray(r, dtype=np.float64) for r in self._thunk(indices)([x, *args])]

        solution, success = self.solve(np.array(x0, dtype=np.float64).ravel(), call)
        output_storage[0][0] = np.asarray(solution, dtype=dtype).reshape(shape)
        output_storage[1][0] = np.asarray(bool(success))

    def solve(self, x0, call):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    # -- gradient: the implicit function theorem -----------------------------------
    def _implicit_graphs(self):
        """Inner graphs of ``J_x`` (n x n) and ``J_args^T w`` for a placeholder ``w`` (n,)."""
        if self._implicit is None:
            from opgraph.kernel_core.gradient import grad, jacobian
            from opgraph.kernel_core.tensor.shape import reshape

            x, args = self.inner_inputs[0], self.inner_inputs[1:]
            F = _flat(self.equation)
            n = F.shape[0]
            J = reshape(jacobian(F, x, disconnected_inputs="ignore"), (n, n), ndim=2)
            w = F.type.make_variable(name="w")
            vjp = grad((F * w).sum(), args, consider_constant=[w], disconnected_inputs="ignore",
                       return_disconnected="zero") if args else []
            self._implicit = (J, w, list(vjp))
        return self._implicit

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.gradient import _float_zeros_like, _is_disconnected
        from opgraph.kernel_core.graph.replace import graph_replace
        from opgraph.kernel_core.tensor.linalg import solve
        from opgraph.kernel_core.tensor.shape import reshape

        x0, args = inputs[0], list(inputs[1:])
        v = output_grads[0]
        zeros = [_float_zeros_like(i) for i in inputs]
        if _is_disconnected(v) or not args:
            return zeros
        J, w, vjp = self._implicit_graphs()
        at_solution = dict(zip(self.inner_inputs, [outputs[0], *args]))
        J_outer = graph_replace(J, at_solution, strict=False)
        w_outer = solve(J_outer, reshape(v, (J_outer.shape[0],), ndim=1), transposed=True)
        at_solution[w] = w_outer.astype(w.type.dtype) if w_outer.type.dtype != w.type.dtype else w_outer
        grads = graph_replace(vjp, at_solution, strict=False)
        return [zeros[0]] + [-g for g in grads]


# -- minimize ----------------------------------------------------------------------
class MinimizeOp(_SolverOp):
    """``scipy.optimize.minimize`` of the inner objective; inner outputs
    ``[objective, gradient (jac), Hessian (hess)]`` as requested."""

    who = "minimize"

    def __init__(self, x, args, objective, gradient, hessian, method, jac, hess, optimizer_kwargs):
        outputs = [objective] + ([gradient] if jac else []) + ([hessian] if hess else [])
        super().__init__(x, args, outputs, gradient, method, optimizer_kwargs)
        self.jac, self.hess = bool(jac), bool(hess)

    def solve(self, x0, call):
        from scipy import optimize

        use_jac = self.jac and self.method not in _MINIMIZE_NO_GRAD
        first = (0, 1) if use_jac else (0,)

        def fun(x):
            r = call(first, x)
            return (float(r[0]), r[1].ravel()) if use_jac else float(r[0])

        kwargs = dict(self.optimizer_kwargs)
        if self.hess and self.method in _MINIMIZE_HESS + _MINIMIZE_NEED_HESS:
            n = x0.size
            kwargs["hess"] = lambda x: call((1 + self.jac,), x)[0].reshape(n, n)
        res = optimize.minimize(fun, x0, method=self.method, jac=True if use_jac else None, **kwargs)
        return res.x, res.success


def minimize(objective, x, method="BFGS", jac=True, hess=False, optimizer_kwargs=None):
    """Minimise the scalar ``objective`` over ``x`` (a root variable of its graph, whose
    value is the initial guess) with ``scipy.optimize.minimize(method=...)``.

    ``jac`` / ``hess``: give the solver the symbolic gradient / Hessian.
    ``optimizer_kwargs``: passed to scipy (``tol``, ``options``, ``bounds``, ...).
    Returns ``(solution, success)``; the solution is differentiable w.r.t. the other
    inputs of the objective (implicit function theorem)."""
    from opgraph.kernel_core.gradient import grad, jacobian
    from opgraph.kernel_core.tensor.basic import as_tensor_variable
    from opgraph.kernel_core.tensor.shape import reshape

    objective = as_tensor_variable(objective)
    method_l = _check_method("minimize", method, _MINIMIZE_METHODS)
    if objective.type.ndim != 0:
        raise TypeError(f"minimize: the objective must be a scalar, got {objective} of type "
                        f"{objective.type.short_str()}; reduce it (e.g. .sum())")
    x, args = _problem("minimize", [objective], x)
    if method_l in _MINIMIZE_NEED_HESS and not (hess and jac):
        raise ValueError(f"minimize: method {method!r} needs the gradient and the Hessian: pass jac=True, hess=True")
    gradient = grad(objective, x)
    hessian = None
    if hess:
        g = _flat(gradient)
        hessian = reshape(jacobian(g, x, disconnected_inputs="ignore"), (g.shape[0], g.shape[0]), ndim=2)
    op = MinimizeOp(x, args, objective, gradient, hessian, method_l, jac, hess, optimizer_kwargs)
    solution, success = op(x, *args)
    return solution, success


class MinimizeScalarOp(_SolverOp):
    """``scipy.optimize.minimize_scalar``; inner output ``[objective]``.  Without a
    ``bracket`` (brent, golden) the search starts downhill from ``(x0, x0 + 1)``."""

    who = "minimize_scalar"

    def __init__(self, x, args, objective, gradient, method, optimizer_kwargs):
        super().__init__(x, args, [objective], gradient, method, optimizer_kwargs)

    def solve(self, x0, call):
        from scipy import optimize

        kwargs = dict(self.optimizer_kwargs)
        if self.method != "bounded" and "bracket" not in kwargs:
            kwargs["bracket"] = (float(x0[0]), float(x0[0]) + 1.0)
        res = optimize.minimize_scalar(lambda x: float(call((0,), x)[0]), method=self.method, **kwargs)
        return np.asarray(res.x), res.success


def minimize_scalar(objective, x, method="brent", optimizer_kwargs=None):
    """Minimise the scalar ``objective`` of the scalar ``x`` with
    ``scipy.optimize.minimize_scalar``; ``bounded`` needs ``optimizer_kwargs={"bounds": (a, b)}``.
    Returns ``(solution, success)``."""
    from opgraph.kernel_core.gradient import grad
    from opgraph.kernel_core.tensor.basic import as_tensor_variable

    objective = as_tensor_variable(objective)
    method_l = _check_method("minimize_scalar", method, _MINIMIZE_SCALAR_METHODS)
    if objective.type.ndim != 0:
        raise TypeError(f"minimize_scalar: the objective must be a scalar, got {objective} of type "
                        f"{objective.type.short_str()}")
    x, args = _problem("minimize_scalar", [objective], x)
    if x.type.ndim != 0:
        raise TypeError(f"minimize_scalar: x must be a scalar, got {x} of type {x.type.short_str()}; use minimize")
    if method_l == "bounded" and "bounds" not in (optimizer_kwargs or {}):
        raise ValueError("minimize_scalar: method 'bounded' needs optimizer_kwargs={'bounds': (lower, upper)}")
    op = MinimizeScalarOp(x, args, objective, grad(objective, x), method_l, optimizer_kwargs)
    solution, success = op(x, *args)
    return solution, success


# -- root ------------------------------------------------------------------------
class RootOp(_SolverOp):
    """``scipy.optimize.root`` of the inner equations; inner outputs
    ``[equations (flat), Jacobian (n x n, jac)]``."""

    who = "root"

    def __init__(self, x, args, equations, jacobian, method, jac, optimizer_kwargs):
        outputs = [equations] + ([jacobian] if jac else [])
        super().__init__(x, args, outputs, equations, method, optimizer_kwargs)
        self.jac = bool(jac)

    def solve(self, x0, call):
        from scipy import optimize

        use_jac = self.jac and self.method in _ROOT_JAC
        first = (0, 1) if use_jac else (0,)

        def fun(x):
            r = call(first, x)
            return (r[0], r[1]) if use_jac else r[0]

        res = optimize.root(fun, x0, method=self.method, jac=True if use_jac else None, **self.optimizer_kwargs)
        return res.x, res.success


def root(equations, variables, method="hybr", jac=True, optimizer_kwargs=None):
    """Solve ``equations == 0`` for ``variables`` (a root variable of their graph, whose
    value is the initial guess; as many unknowns as equations) with
    ``scipy.optimize.root(method=...)``.  Returns ``(solution, success)``; the solution
    is differentiable w.r.t. the other inputs (implicit function theorem)."""
    from opgraph.kernel_core.gradient import jacobian
    from opgraph.kernel_core.tensor.basic import as_tensor_variable
    from opgraph.kernel_core.tensor.join import stack
    from opgraph.kernel_core.tensor.shape import reshape

    if isinstance(equations, (list, tuple)):
        equations = stack([as_tensor_variable(e) for e in equations])
    equations = as_tensor_variable(equations)
    method_l = _check_method("root", method, _ROOT_METHODS)
    x, args = _problem("root", [equations], variables)
    n_eq = None if any(s is None for s in equations.type.shape) else int(np.prod(equations.type.shape))
    n_x = None if any(s is None for s in x.type.shape) else int(np.prod(x.type.shape))
    if n_eq is not None and n_x is not None and n_eq != n_x:
        raise ValueError(f"root: {n_eq} equations for {n_x} unknowns ({x} of type {x.type.short_str()}); "
                         "root needs as many equations as unknowns")
    F = _flat(equations)
    J = None
    if jac:
        J = reshape(jacobian(F, x, disconnected_inputs="ignore"), (F.shape[0], F.shape[0]), ndim=2)
    op = RootOp(x, args, F, J, method_l, jac, optimizer_kwargs)
    solution, success = op(x, *args)
    return solution, success


class RootScalarOp(_SolverOp):
    """``scipy.optimize.root_scalar``; inner outputs ``[f, f' (jac), f'' (hess)]``."""

    who = "root_scalar"

    def __init__(self, x, args, equation, d1, d2, method, jac, hess, optimizer_kwargs):
        outputs = [equation] + ([d1] if jac else []) + ([d2] if hess else [])
        super().__init__(x, args, outputs, equation, method, optimizer_kwargs)
        self.jac, self.hess = bool(jac), bool(hess)

    def solve(self, x0, call):
        from scipy import optimize

        indices = tuple(range(len(self.inner_outputs)))

        def fun(x):
            r = [float(v) for v in call(indices, x)]
            return r[0] if len(r) == 1 else tuple(r)

        kwargs = dict(self.optimizer_kwargs)
        if self.method not in _ROOT_SCALAR_BRACKET:
            kwargs.setdefault("x0", float(x0[0]))
        if self.method == "secant":
            # scipy's secant needs a second point; a small step from x0.
            kwargs.setdefault("x1", kwargs["x0"] * 1.0001 + (1e-4 if kwargs["x0"] >= 0 else -1e-4))
        res = optimize.root_scalar(fun, method=self.method, fprime=self.jac, fprime2=self.hess, **kwargs)
        return np.asarray(res.root), res.converged


def root_scalar(equation, variable, method="secant", jac=False, hess=False, optimizer_kwargs=None):
    """Solve the scalar ``equation == 0`` for the scalar ``variable`` with
    ``scipy.optimize.root_scalar``.  ``newton`` uses the derivative and ``halley`` both
    derivatives (switched on for them); the bracketing methods (bisect, brentq, brenth,
    ridder, toms748) need ``optimizer_kwargs={"bracket": (a, b)}``.
    Returns ``(solution, success)``."""
    from opgraph.kernel_core.gradient import grad
    from opgraph.kernel_core.tensor.basic import as_tensor_variable

    equation = as_tensor_variable(equation)
    method_l = _check_method("root_scalar", method, _ROOT_SCALAR_METHODS)
    if equation.type.ndim != 0:
        raise TypeError(f"root_scalar: the equation must be a scalar, got {equation} of type "
                        f"{equation.type.short_str()}; use root")
    x, args = _problem("root_scalar", [equation], variable)
    if x.type.ndim != 0:
        raise TypeError(f"root_scalar: the variable must be a scalar, got {x} of type {x.type.short_str()}; use root")
    if method_l in _ROOT_SCALAR_BRACKET and "bracket" not in (optimizer_kwargs or {}):
        raise ValueError(f"root_scalar: method {method!r} needs optimizer_kwargs={{'bracket': (a, b)}}")
    jac = bool(jac) or method_l in ("newton", "halley")
    hess = bool(hess) or method_l == "halley"
    if method_l in _ROOT_SCALAR_BRACKET or method_l == "secant":
        jac = hess = False   # these methods use no derivative
    d1 = grad(equation, x) if jac or hess else None
    d2 = grad(d1, x) if hess else None
    if hess and not jac:
        jac = True           # scipy takes f'' only together with f'
    op = RootScalarOp(x, args, equation, d1, d2, method_l, jac, hess, optimizer_kwargs)
    solution, success = op(x, *args)
    return solution, success

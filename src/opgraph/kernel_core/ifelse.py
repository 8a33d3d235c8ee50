"""``ifelse(cond, then_branch, else_branch)``: a lazy conditional (PyTensor's ``pytensor.ifelse``).

    z = ifelse(pt.lt(a, b), pt.mean(x), pt.mean(y))   # only one mean is computed

Laziness by construction: the part of each branch that only that branch needs
lives in an *inner graph* of the ``IfElse`` node (as for OpFromGraph), so the
outer graph never schedules it.  Both backends then evaluate one branch:

- PYTHON: ``perform`` runs the chosen branch's inner graph on a small VM (the
  outer VM itself is not lazy; it need not be);
- NUMBA: the node's generated function is ``if cond: <then code> else: <else code>``
  (``backends/numba/ifelse.py``), called from the one jitted graph function.

What goes inside: the ancestors of a branch's outputs that the other branch does
not also need.  Variables both branches need are computed whichever branch is
taken, so they stay outside and become inputs of the node ("common
subexpressions are lifted out of both branches", at build time).

The gradient routes to the chosen branch: it is an IfElse of the two branches'
gradients.  A constant condition folds the node away (``rewriting`` below).
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Apply, Constant, Variable
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.graph.traversal import ancestors, clone_get_equiv, graph_inputs, io_toposort

__all__ = ["IfElse", "ifelse"]


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


class IfElse(Op):
    """``IfElse(cond, *inputs)`` -> the outputs of the then- or the else-graph.

    ``inner_inputs`` are shared by the two inner graphs (``then_outputs``,
    ``else_outputs``); the node's inputs are ``[cond] + inputs`` in that order.
    Equality is identity (as OpFromGraph: comparing graphs at each merge costs more
    than it saves).
    """

    __props__ = ()

    def __init__(self, inner_inputs, then_outputs, else_outputs, name=None, inner_rewritten=False):
        self.inner_inputs = list(inner_inputs)
        # The branches went through the outer graph's rewrite phases (rewrite below).
        self.inner_rewritten = bool(inner_rewritten)
        self.then_outputs = list(then_outputs)
        self.else_outputs = list(else_outputs)
        self.name = name
        self.n_outs = len(self.then_outputs)
        self._thunks = {}

    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)

    def __str__(self):
        return "if{}" if self.name is None else f"if{{{self.name}}}"

    def inner_graphs(self):
        # dprint shows the then-outputs, then the else-outputs.
        return (self.inner_inputs, self.then_outputs + self.else_outputs)

    def make_node(self, cond, *inputs):
        from opgraph.kernel_core.tensor.basic import as_tensor_variable

        cond = as_tensor_variable(cond)
        if cond.type.ndim != 0:
            raise TypeError(f"ifelse: the condition must be a scalar, got {cond.type.short_str()}")
        if len(inputs) != len(self.inner_inputs):
            raise TypeError(f"{self} takes {len(self.inner_inputs)} inputs after the condition, got {len(inputs)}")
        converted = []
        for k, (x, inner) in enumerate(zip(inputs, self.inner_inputs)):
            if not isinstance(x, Variable):
                x = as_tensor_variable(x)
            v = inner.type.convert_variable(x)
            if v is None:
                raise TypeError(f"{self}: input {k} ({x}) has type {x.type.short_str()}, "
                                f"expected {inner.type.short_str()}")
            converted.append(v)
        outs = [_joined_type(t, e).make_variable() for t, e in zip(self.then_outputs, self.else_outputs)]
        return Apply(self, [cond] + converted, outs)

    # -- Python implementation: run only the chosen branch -------------------------
    def _thunk(self, branch):
        thunk = self._thunks.get(branch)
        if thunk is None:
            from opgraph.kernel_core.compile.vm import VMLinker
            from opgraph.kernel_core.graph.fgraph import FunctionGraph

            outs = self.then_outputs if branch else self.else_outputs
            fgraph = FunctionGraph(self.inner_inputs, outs, clone=True)
            thunk = self._thunks[branch] = VMLinker().make_thunk(fgraph)
        return thunk

    def perform(self, node, inputs, output_storage):
        cond, args = inputs[0], list(inputs[1:])
        results = self._thunk(bool(np.asarray(cond)))(args)
        for cell, value, out in zip(output_storage, results, node.outputs):
            value = np.asarray(value)
            # No view_map: never hand out (a view of) an input.
            if any(isinstance(a, np.ndarray) and np.may_share_memory(value, a) for a in args):
                value = value.copy()
            cell[0] = out.type.filter(value.astype(out.type.dtype, copy=False))

    def infer_shape(self, fgraph, node, input_shapes):
        """Per output: a dimension both branches know to be the same number is that
        number; otherwise an IfElse of the two branches' shape graphs (lazy too)."""
        from opgraph.kernel_core.graph.replace import graph_replace
        from opgraph.kernel_core.tensor.shape import shape_i

        replace = dict(zip(self.inner_inputs, node.inputs[1:]))
        thens = graph_replace(self.then_outputs, replace, strict=False)
        elses = graph_replace(self.else_outputs, replace, strict=False)
        unknown = [(k, d) for k, out in enumerate(node.outputs) for d in range(out.type.ndim)
                   if out.type.shape[d] is None]
        chosen = {}
        if unknown:
            dims = ifelse(node.inputs[0], [shape_i(thens[k], d) for k, d in unknown],
                          [shape_i(elses[k], d) for k, d in unknown])
            chosen = dict(zip(unknown, _as_list(dims)))
        return [tuple(chosen.get((k, d), out.type.shape[d]) for d in range(out.type.ndim))
                for k, out in enumerate(node.outputs)]

    # -- gradient: an ifelse of the two branches' gradients --------------------------
    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.gradient import _float_zeros_like, _is_discrete, grad
        from opgraph.kernel_core.graph.replace import graph_replace

        cond, xs = inputs[0], list(inputs[1:])
        wrt = [x for x in xs if not _is_discrete(x)]
        branch_grads = []
        for outs in (self.then_outputs, self.else_outputs):
            outer = graph_replace(outs, dict(zip(self.inner_inputs, xs)), strict=False)
            known = {o: g for o, g in zip(outer, output_grads)
                     if not _is_discrete(o) and isinstance(g.type, type(o.type))}
            if known and wrt:
                gs = grad(None, wrt=wrt, known_grads=known, disconnected_inputs="ignore",
                          return_disconnected="zero")
            else:
                gs = [_float_zeros_like(x) for x in wrt]
            branch_grads.append(gs)
        chosen = ifelse(cond, branch_grads[0], branch_grads[1], name=None if self.name is None
                        else f"{self.name}_grad") if wrt else []
        chosen = _as_list(chosen)
        by_input = dict(zip(wrt, chosen))
        return [None] + [by_input.get(x) for x in xs]


def _joined_type(a, b):
    """The output type of a pair of branch outputs (same dtype and ndim; a dimension
    is static only where both agree)."""
    shape = tuple(x if x == y else None for x, y in zip(a.type.shape, b.type.shape))
    return a.type.clone(shape=shape)


def _pair(k, t, e):
    """Branch outputs k of the same type: constants follow the other branch's dtype."""
    from opgraph.kernel_core.tensor.basic import as_tensor_variable
    from opgraph.kernel_core.tensor.math import cast

    t_var, e_var = isinstance(t, Variable), isinstance(e, Variable)
    t = as_tensor_variable(t)
    e = as_tensor_variable(e)
    if t.type.dtype != e.type.dtype:
        # A number written in one branch (``ifelse(c, x, 0)``) takes the other's dtype.
        if not e_var or isinstance(e, Constant) and np.can_cast(e.type.dtype, t.type.dtype):
            e = cast(e, t.type.dtype)
        elif not t_var or isinstance(t, Constant) and np.can_cast(t.type.dtype, e.type.dtype):
            t = cast(t, e.type.dtype)
        else:
            raise TypeError(f"ifelse: output {k} has type {t.type.short_str()} in the then-branch and "
                            f"{e.type.short_str()} in the else-branch (cast one of them)")
    if t.type.ndim != e.type.ndim:
        raise TypeError(f"ifelse: output {k} has type {t.type.short_str()} in the then-branch and "
                        f"{e.type.short_str()} in the else-branch (the numbers of dimensions differ)")
    for d, (x, y) in enumerate(zip(t.type.shape, e.type.shape)):
        if x is not None and y is not None and x != y:
            raise TypeError(f"ifelse: output {k} has shape {t.type.shape} in the then-branch and "
                            f"{e.type.shape} in the else-branch (dimension {d} differs)")
    return t, e


def ifelse(condition, then_branch, else_branch, name=None):
    """``then_branch`` if ``condition`` else ``else_branch``, computing only that branch.

    Branches are a variable or a list/tuple of variables (the same number on each
    side, pairwise of the same dtype and number of dimensions).  Returns a variable,
    or a list when the branches are lists.
    """
    from opgraph.kernel_core.tensor.basic import as_tensor_variable

    single = not isinstance(then_branch, (list, tuple))
    thens, elses = _as_list(then_branch), _as_list(else_branch)
    if isinstance(else_branch, (list, tuple)) == single or len(thens) != len(elses):
        raise ValueError(f"ifelse: the then-branch has {len(thens)} output(s) and the else-branch "
                         f"{len(elses)}; they must match")
    if not thens:
        raise ValueError("ifelse: the branches have no outputs")
    cond = as_tensor_variable(condition)
    if cond.type.ndim != 0:
        raise TypeError(f"ifelse: the condition must be a scalar, got {cond.type.short_str()}")
    pairs = [_pair(k, t, e) for k, (t, e) in enumerate(zip(thens, elses))]
    thens = [t for t, _ in pairs]
    elses = [e for _, e in pairs]
    # What both branches need is computed whichever is taken: it stays outside.
    common = set(ancestors(thens)) & set(ancestors(elses))
    blockers = [v for v in common if not isinstance(v, Constant)]
    outer_inputs = [v for v in graph_inputs(thens + elses, blockers=blockers)
                    if not isinstance(v, Constant)]
    memo = clone_get_equiv(outer_inputs, thens + elses, copy_inputs=True, copy_orphans=True)
    inner_inputs = [memo[v] for v in outer_inputs]
    op = IfElse(inner_inputs, [memo[t] for t in thens], [memo[e] for e in elses], name=name)
    outs = op(cond, *outer_inputs, return_list=True)
    if name is not None:
        for k, o in enumerate(outs):
            o.name = name if single else f"{name}[{k}]"
    return outs[0] if single else outs


# -- vectorize rule: batch both inner graphs; a batched condition becomes a switch ------
def _vectorize_ifelse(op, node, cond, *new_inputs):
    from opgraph.kernel_core.tensor.math import switch
    from opgraph.kernel_core.vectorize import vectorize_graph

    batched = [n.type.make_variable(name=i.name) for n, i in zip(new_inputs, op.inner_inputs)]
    replace = dict(zip(op.inner_inputs, batched))
    thens = vectorize_graph(op.then_outputs, replace)
    elses = vectorize_graph(op.else_outputs, replace)
    if cond.type.ndim == 0:
        new_op = IfElse(batched, thens, elses, name=op.name)
        return new_op.make_node(cond, *new_inputs).outputs
    # One condition per batch entry: both branches are needed (a switch, not lazy).
    from opgraph.kernel_core.graph.replace import graph_replace

    back = dict(zip(batched, new_inputs))
    thens = graph_replace(thens, back, strict=False)
    elses = graph_replace(elses, back, strict=False)
    outs = []
    for t, e in zip(thens, elses):
        c = cond
        extra = t.type.ndim - c.type.ndim
        if extra > 0:
            c = c.dimshuffle(*range(c.type.ndim), *(["x"] * extra))
        outs.append(switch(c, t, e))
    return outs


def _register_vectorize_rule():
    from opgraph.kernel_core.vectorize import vectorize_node

    vectorize_node.register(IfElse)(_vectorize_ifelse)


_register_vectorize_rule()


# -- rewrite: a constant condition folds the node away ---------------------------------
def _register_rewrites():
    from opgraph.kernel_core.graph.replace import graph_replace
    from opgraph.kernel_core.rewriting.db import node_rewriter, register_rewrite

    @node_rewriter([IfElse], name="constant_ifelse")
    def constant_ifelse(fgraph, node):
        cond = node.inputs[0]
        if not isinstance(cond, Constant):
            return None
        outs = node.op.then_outputs if bool(np.asarray(cond.data)) else node.op.else_outputs
        return graph_replace(list(outs), dict(zip(node.op.inner_inputs, node.inputs[1:])), strict=False)

    register_rewrite(constant_ifelse, "canonicalize", "fast_compile", "ifelse")

    @node_rewriter([IfElse], name="ifelse_rewrite_branches")
    def ifelse_rewrite_branches(fgraph, node):
        """The branches' graphs go through the outer phases (but inplace), once per IfElse."""
        from opgraph.kernel_core.scan.rewrites import rewrite_inner

        op = node.op
        if op.inner_rewritten:
            return None
        inputs, outputs = rewrite_inner(op.inner_inputs, op.then_outputs + op.else_outputs)
        new_op = IfElse(inputs, outputs[:op.n_outs], outputs[op.n_outs:], name=op.name, inner_rewritten=True)
        return new_op(*node.inputs, return_list=True)

    register_rewrite(ifelse_rewrite_branches, "specialize", "ifelse", "ifelse_rewrite_branches")


_register_rewrites()

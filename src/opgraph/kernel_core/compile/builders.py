"""OpFromGraph: a user-defined Op made of a graph (PyTensor's ``pytensor.compile.builders``).

    x, y = pt.scalars("xy")
    op = OpFromGraph([x, y], [x + y * 2])
    z = op(a, b)                     # one node whose inner graph is x + y * 2

The inner graph is copied at construction, so later edits of the caller's
graph never change the Op.  The node behaves as any other Op:

- ``perform`` evaluates the inner graph (the Python VM, constant folding);
- ``L_op`` is another OpFromGraph computing the vector-Jacobian product of
  the inner graph (built once per Op), or the user's ``lop_overrides``;
- ``infer_shape`` pushes the input shapes through the inner nodes' own
  ``infer_shape`` (so ``x.shape`` of an OpFromGraph output never runs it);
- ``vectorize_graph`` batches the inner graph and wraps it again (rule below);
- the Numba backend generates the inner graph's code into the outer function
  (``backends/numba/op_from_graph.py``), and with ``inline=True`` the
  ``inline_ofg`` rewrite replaces the node by its inner graph before the
  other rewrites run, so they see across the boundary.

Equality is identity: two OpFromGraphs built from equal graphs are still two
Ops (comparing inner graphs at every merge would cost more than it saves).
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Apply, Constant, Variable
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.graph.traversal import clone_get_equiv, graph_inputs, io_toposort

__all__ = ["OpFromGraph"]


def _as_variables(xs, what):
    xs = list(xs) if isinstance(xs, (list, tuple)) else [xs]
    for k, v in enumerate(xs):
        if not isinstance(v, Variable):
            raise TypeError(f"OpFromGraph: {what}[{k}] must be a Variable, got {type(v).__name__}")
    return xs


class OpFromGraph(Op):
    """An Op whose computation is the graph from ``inputs`` to ``outputs``.

    ``inline``: replace the node by its inner graph before rewriting (the
    rewrites then work across it); otherwise it stays one node.
    ``lop_overrides``: the gradient, instead of differentiating the inner graph --
    a callable ``(inputs, outputs, output_grads) -> input grads``, an
    OpFromGraph taking ``inputs + outputs + output_grads``, or a list with one
    entry per input (None: the inner graph's gradient; a callable or an
    OpFromGraph as above, giving that input's gradient).
    ``name``: what ``dprint`` shows.  ``strict`` is accepted for PyTensor's signature:
    opgraph always refuses outputs that depend on variables missing from ``inputs``.
    """

    __props__ = ()

    def __init__(self, inputs, outputs, inline=False, lop_overrides=None, grad_overrides=None,
                 rop_overrides=None, connection_pattern=None, strict=False, name=None, destroy_map=None,
                 **kwargs):
        if kwargs:
            raise TypeError(f"OpFromGraph got unexpected option(s): {', '.join(sorted(kwargs))}")
        if grad_overrides is not None:
            raise TypeError("OpFromGraph: grad_overrides was replaced by lop_overrides "
                            "(a callable (inputs, outputs, output_grads) -> input gradients)")
        if rop_overrides is not None or connection_pattern is not None or destroy_map:
            raise NotImplementedError("OpFromGraph: rop_overrides, connection_pattern and destroy_map "
                                      "are not implemented in opgraph yet")
        inputs = _as_variables(inputs, "inputs")
        outputs = _as_variables(outputs, "outputs")
        if not outputs:
            raise ValueError("OpFromGraph needs at least one output")
        for k, v in enumerate(inputs):
            if isinstance(v, Constant):
                raise TypeError(f"OpFromGraph: inputs[{k}] is the constant {v}; constants belong in the graph")
        if len(set(inputs)) != len(inputs):
            raise ValueError("OpFromGraph: an input is listed twice")
        # Roots the outputs use that are neither inputs nor constants: the Op
        # would have no value for them (PyTensor turns shared variables into
        # implicit inputs; opgraph asks for them explicitly).
        free = [v for v in graph_inputs(outputs, blockers=inputs)
                if v not in set(inputs) and not isinstance(v, Constant)]
        if free:
            raise ValueError(f"OpFromGraph: the outputs depend on {', '.join(map(str, free))}, which "
                             "is not among the inputs; add it to the inputs")
        if isinstance(lop_overrides, (list, tuple)):
            if len(lop_overrides) != len(inputs) or not all(o is None or callable(o) for o in lop_overrides):
                raise TypeError(f"OpFromGraph: a list of lop_overrides needs one entry per input ({len(inputs)}), "
                                "each None (the default gradient) or a callable")
            lop_overrides = list(lop_overrides)
        elif lop_overrides is not None and not callable(lop_overrides):
            raise TypeError("OpFromGraph: lop_overrides must be a callable, an OpFromGraph or a list of "
                            f"them per input, got {type(lop_overrides).__name__}")
        # Our own copy: the caller's graph may change later.
        memo = clone_get_equiv(inputs, outputs, copy_inputs=True, copy_orphans=True)
        self.inner_inputs = [memo[v] for v in inputs]
        self.inner_outputs = [memo[v] for v in outputs]
        self.is_inline = bool(inline)
        self.lop_overrides = lop_overrides
        self.strict = strict
        self.name = name
        self._lop_op = None

    # -- identity -----------------------------------------------------------
    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)

    def __str__(self):
        name = type(self).__name__ if self.name is None else self.name
        return f"{name}{{inline={self.is_inline}}}"

    def inner_graphs(self):
        return (self.inner_inputs, self.inner_outputs)

    @property
    def fgraph(self):
        """The inner graph as a FunctionGraph (a fresh copy: rewriting it leaves the Op alone)."""
        from opgraph.kernel_core.graph.fgraph import FunctionGraph

        return FunctionGraph(self.inner_inputs, self.inner_outputs, clone=True)

    # -- the node -------------------------------------------------------------
    def make_node(self, *inputs):
        from opgraph.kernel_core.tensor.basic import as_tensor_variable
        from opgraph.kernel_core.tensor.type import TensorType

        if len(inputs) != len(self.inner_inputs):
            raise TypeError(f"{self} takes {len(self.inner_inputs)} inputs, got {len(inputs)}")
        converted = []
        for k, (x, inner) in enumerate(zip(inputs, self.inner_inputs)):
            if not isinstance(x, Variable):   # numbers and arrays become constants of the input's kind
                x = as_tensor_variable(x) if isinstance(inner.type, TensorType) else \
                    inner.type.make_constant(inner.type.filter(x))
            v = inner.type.convert_variable(x)
            if v is None:
                raise TypeError(f"{self}: input {k} ({x}) has type {x.type.short_str()}, "
                                f"expected {inner.type.short_str()}")
            converted.append(v)
        return Apply(self, converted, [o.type.make_variable() for o in self.inner_outputs])

    def perform(self, node, inputs, output_storage):
        from opgraph.kernel_core.evaluate import evaluate

        results = evaluate(self.inner_outputs, dict(zip(self.inner_inputs, inputs)))
        for cell, value, out in zip(output_storage, results, node.outputs):
            value = np.asarray(value)
            # The node declares no view_map: never hand out (a view of) an input.
            if any(isinstance(i, np.ndarray) and np.may_share_memory(value, i) for i in inputs):
                value = value.copy()
            cell[0] = out.type.filter(value) if hasattr(out.type, "filter") else value

    def infer_shape(self, fgraph, node, input_shapes):
        """Input shapes pushed through the inner nodes' ``infer_shape`` (iterative)."""
        from opgraph.kernel_core.graph.replace import graph_replace
        from opgraph.kernel_core.tensor.shape import shape_i

        shapes = dict(zip(self.inner_inputs, input_shapes))

        def shape_of(v):
            if v not in shapes:
                if isinstance(v, Constant):
                    shapes[v] = tuple(np.shape(v.data))
                else:
                    shapes[v] = tuple(s if s is not None else shape_i(v, k)
                                      for k, s in enumerate(getattr(v.type, "shape", ())))
            return shapes[v]

        for inner in io_toposort(self.inner_inputs, self.inner_outputs):
            try:
                out_shapes = inner.op.infer_shape(None, inner, [shape_of(v) for v in inner.inputs])
            except NotImplementedError:
                continue   # shape_of falls back to Shape_i of the inner variable
            for o, s in zip(inner.outputs, out_shapes):
                shapes[o] = tuple(s)
        result = [shape_of(o) for o in self.inner_outputs]
        # Entries that still mention inner variables are rebuilt on the node's inputs.
        symbolic = [e for s in result for e in s if isinstance(e, Variable)]
        if not symbolic:
            return result
        replaced = iter(graph_replace(symbolic, dict(zip(self.inner_inputs, node.inputs)), strict=False))
        return [tuple(next(replaced) if isinstance(e, Variable) else e for e in s) for s in result]

    # -- gradient ---------------------------------------------------------------
    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.math import cast

        grads = []
        for o, g in zip(self.inner_outputs, output_grads):
            dtype = _grad_dtype(o)
            grads.append(g if g.type.dtype == dtype else cast(g, dtype))
        if isinstance(self.lop_overrides, list):
            # One override per input; None entries keep the inner graph's gradient.
            default = None
            if any(o is None for o in self.lop_overrides):
                default = self.lop_op()(*inputs, *grads, return_list=True)
            result = []
            for k, (inp, override) in enumerate(zip(inputs, self.lop_overrides)):
                if override is None:
                    result.append(None if _is_discrete(inp) else default[k])
                elif isinstance(override, OpFromGraph):
                    result.append(override(*inputs, *outputs, *grads))
                else:
                    result.append(override(list(inputs), list(outputs), grads))
            return result
        if self.lop_overrides is not None:
            if isinstance(self.lop_overrides, OpFromGraph):
                result = self.lop_overrides(*inputs, *outputs, *grads, return_list=True)
            else:
                result = self.lop_overrides(list(inputs), list(outputs), grads)
            result = list(result)
            if len(result) != len(inputs):
                raise ValueError(f"{self}: lop_overrides returned {len(result)} gradients for "
                                 f"{len(inputs)} inputs")
            return result
        lop = self.lop_op()
        result = lop(*inputs, *grads, return_list=True)
        # Integer inputs get no gradient (piecewise constant), as for any op.
        return [None if _is_discrete(i) else r for i, r in zip(inputs, result)]

    def lop_op(self):
        """The OpFromGraph computing the inputs' gradients from ``inputs + output_grads``."""
        if self._lop_op is None:
            from opgraph.kernel_core.gradient import _float_zeros_like, grad
            from opgraph.kernel_core.tensor.type import TensorType

            memo = clone_get_equiv(self.inner_inputs, self.inner_outputs, copy_inputs=True, copy_orphans=True)
            ins = [memo[v] for v in self.inner_inputs]
            outs = [memo[v] for v in self.inner_outputs]
            g_vars = [TensorType(_grad_dtype(o), (None,) * o.type.ndim)(f"g{k}") for k, o in enumerate(outs)]
            known = {o: g for o, g in zip(outs, g_vars) if not _is_discrete(o)}
            wrt = [v for v in ins if not _is_discrete(v)]
            gs = grad(None, wrt=wrt, known_grads=known, disconnected_inputs="ignore") if known and wrt else []
            by_input = dict(zip(wrt, gs))
            results = [by_input[v] if v in by_input else _float_zeros_like(v) for v in ins]
            base = type(self).__name__ if self.name is None else self.name
            self._lop_op = OpFromGraph(ins + g_vars, results, inline=self.is_inline, name=f"{base}_lop")
        return self._lop_op


def _is_discrete(v):
    from opgraph.kernel_core.scalar.type import DISCRETE_DTYPES

    return getattr(v.type, "dtype", None) in DISCRETE_DTYPES


def _grad_dtype(v):
    from opgraph.kernel_core.config import config

    return config.floatX if _is_discrete(v) else v.type.dtype


# -- vectorize rule: batch the inner graph, wrap it again ----------------------
def _vectorize_op_from_graph(op, node, *new_inputs):
    from opgraph.kernel_core.vectorize import vectorize_graph

    batched_inputs = [n.type.make_variable(name=i.name) for n, i in zip(new_inputs, op.inner_inputs)]
    batched_outputs = vectorize_graph(op.inner_outputs, dict(zip(op.inner_inputs, batched_inputs)))
    new_op = OpFromGraph(batched_inputs, batched_outputs, inline=op.is_inline, name=op.name)
    return new_op.make_node(*new_inputs).outputs


def _register_vectorize_rule():
    from opgraph.kernel_core.vectorize import vectorize_node

    vectorize_node.register(OpFromGraph)(_vectorize_op_from_graph)


_register_vectorize_rule()

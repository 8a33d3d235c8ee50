"""Per-Op JAX implementations: the dispatch table and the graph walker.

Every implementation is registered on its Op class with
``@jax_funcify.register(OpClass)`` and has the signature
``impl(op, node, **kwargs) -> callable``.  The callable takes the node's input
values positionally and returns its output (one output) or a tuple of outputs
(several).  It is built once per node (when the graph is linked) and called
while JAX traces the graph, so it must use ``jax.numpy`` / ``jax.lax``
operations on its arguments, never NumPy conversions of them.

Values an implementation receives:

* computed values and graph inputs are JAX arrays (tracers under ``jax.jit``);
  ``ScalarType`` values are 0-d arrays;
* values known while tracing are NumPy arrays (0-d included): the data of
  constants, and everything computed from constants and static shapes only
  (``Shape`` returns the traced array's static shape as a NumPy vector; a node
  computing integers from NumPy values only runs its Python ``perform`` right
  away, see ``jax_funcify_fgraph``).  So ``arange(x.shape[0] * 2)`` or a reshape to
  a computed shape receives a NumPy number it can use as a static size;
  ``static_value`` reads one, and says clearly when the value is traced.

Ops without an implementation raise ``NotImplementedError`` naming the op class.

This module imports jax at module import: the whole ``backends/jax`` folder
is only imported by the JAX linker (mode ``"JAX"``) and ``opgraph.link.jax``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from opgraph.kernel_core.graph.basic import Constant

# JAX's errors for "this needs a concrete value but got a tracer".
TRACER_ERRORS = (jax.errors.ConcretizationTypeError, jax.errors.TracerIntegerConversionError,
                 jax.errors.TracerArrayConversionError, jax.errors.TracerBoolConversionError,
                 jax.errors.NonConcreteBooleanIndexError)


class JaxCompileError(NotImplementedError):
    """The graph cannot be compiled by JAX (an op needs a value JAX only knows at run time)."""


@functools.singledispatch
def jax_funcify(op, node=None, **kwargs):
    """The JAX callable computing ``node`` (see the module docstring)."""
    raise NotImplementedError(f"the JAX backend has no implementation for {type(op).__name__} "
                              f"({op}); register one with @jax_funcify.register({type(op).__name__})")


def has_jax_impl(op_or_class):
    cls = op_or_class if isinstance(op_or_class, type) else type(op_or_class)
    return jax_funcify.dispatch(cls) is not jax_funcify.dispatch(object)


@functools.singledispatch
def jax_input(value_type, value):
    """The runtime ``value`` of an input of opgraph type ``value_type`` as the JAX function
    takes it (registered on Type classes: a random generator becomes a key).  Default:
    the value itself (arrays, numbers; the graph function makes them JAX arrays)."""
    return value


@functools.singledispatch
def jax_output(value_type, value, jax_arrays=False):
    """A JAX function's output of opgraph type ``value_type`` as the caller receives it:
    a NumPy array by default, the JAX array itself with ``jax_arrays=True``."""
    return value if jax_arrays else np.asarray(value)


class StaticValue:
    """A NumPy value passed to ``jax.jit`` as a static argument (hashable by content)."""

    __slots__ = ("value", "_key")

    def __init__(self, value):
        self.value = np.asarray(value)
        self._key = (self.value.dtype.str, self.value.shape, self.value.tobytes())

    def __hash__(self):
        return hash(self._key)

    def __eq__(self, other):
        return isinstance(other, StaticValue) and self._key == other._key


def is_static(value):
    """Whether ``value`` is known while tracing (a NumPy value, not a JAX array/tracer)."""
    return isinstance(value, (np.ndarray, np.generic, int, float, bool, complex))


def static_value(value, op, what="this input"):
    """``value`` as a NumPy value, or a clear error saying JAX cannot know it when compiling."""
    if is_static(value):
        return np.asarray(value)
    raise JaxCompileError(
        f"JAX cannot compile {op}: {what} determines the shape of the output, and here it is computed "
        "from the function's inputs (JAX needs it at compile time). Make it a constant, or compute it "
        "from static shapes only.")


def constant_data(var):
    """The data of ``var`` when it is a Constant, else None (read at link time)."""
    return var.data if isinstance(var, Constant) else None


def static_output_shape(node, k=0):
    """The fully known static shape of output ``k`` (a tuple of ints) or None."""
    shape = getattr(node.outputs[k].type, "shape", None)
    if shape is None or any(s is None for s in shape):
        return None
    return tuple(int(s) for s in shape)


def _perform_statically(node, values):
    """Run ``node`` by its Python ``perform`` on NumPy values (constant folding while tracing)."""
    storage = [[None] for _ in node.outputs]
    node.op.perform(node, list(values), storage)
    outs = tuple(np.asarray(s[0]) if not isinstance(s[0], np.ndarray) else s[0] for s in storage)
    return outs


def _tracer_error(node, exc):
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return JaxCompileError(
        f"JAX cannot compile {node.op} ({type(node.op).__name__}): its output shape or control flow "
        f"depends on a value only known at run time ({type(exc).__name__}: {first_line[:160]}). "
        "Make that value a constant or derive it from static shapes.")


def jax_funcify_fgraph(fgraph, static_fold=True, static_inputs=(), **kwargs):
    """One Python function ``fn(*inputs) -> tuple of outputs`` computing ``fgraph``.

    Walks ``fgraph.toposort()`` once (iteratively) to build each node's callable;
    the returned function runs them in that order.  Composite, OpFromGraph and
    Scan reuse it for their inner graphs.  ``kwargs`` go to every implementation.

    ``static_fold``: a node computing integers (at most 1-d) from NumPy values only
    (constants, static shapes) runs its ``perform`` instead of its JAX
    implementation, so values that size outputs stay known while tracing.
    ``static_inputs``: positions of inputs passed as NumPy values and kept so
    (``jax.jit``'s static arguments: see JaxLinker).
    """
    order = fgraph.toposort()
    static_positions = frozenset(static_inputs)
    impls = [jax_funcify(node.op, node, **kwargs) for node in order]
    inputs = list(fgraph.inputs)
    outputs = list(fgraph.outputs)
    n_in = len(inputs)
    # Constants are looked up once; their data stays NumPy (static while tracing).
    constants = {}
    for node in order:
        for v in node.inputs:
            if isinstance(v, Constant):
                constants[v] = v.data
    for v in outputs:
        if isinstance(v, Constant):
            constants[v] = v.data
    # Positions of the graph's variables: values live in a list indexed by them.
    slot = {v: k for k, v in enumerate(inputs)}
    for v in constants:
        slot.setdefault(v, len(slot))
    plan = []
    for node, impl in zip(order, impls):
        in_slots = [slot[v] for v in node.inputs]
        out_slots = []
        for o in node.outputs:
            slot[o] = len(slot)
            out_slots.append(slot[o])
        plan.append((node, impl, in_slots, out_slots))
    const_items = [(slot[v], d) for v, d in constants.items()]
    out_slots_graph = [slot[v] for v in outputs]
    n_slots = len(slot)

    def graph_fn(*args):
        if len(args) != n_in:
            raise TypeError(f"the JAX graph function takes {n_in} inputs, got {len(args)}")
        values = [None] * n_slots
        for k, a in enumerate(args):
            if isinstance(a, StaticValue):
                values[k] = a.value
            elif k in static_positions:
                values[k] = np.asarray(a)
            else:
                values[k] = jnp.asarray(a) if is_static(a) else a
        for k, d in const_items:
            values[k] = d
        for node, impl, in_slots, out_slots in plan:
            ins = [values[k] for k in in_slots]
            if static_fold and all(is_static(v) for v in ins) and _can_fold(node):
                outs = _perform_statically(node, ins)
            else:
                try:
                    outs = impl(*ins)
                except TRACER_ERRORS as exc:
                    raise _tracer_error(node, exc) from None
                if len(out_slots) == 1:
                    outs = (outs,)
                elif len(outs) != len(out_slots):
                    raise ValueError(f"JAX implementation of {type(node.op).__name__} returned {len(outs)} "
                                     f"outputs, the node has {len(out_slots)}")
            for k, v in zip(out_slots, outs):
                values[k] = v
        return tuple(values[k] for k in out_slots_graph)

    graph_fn.order = order
    return graph_fn


def _can_fold(node):
    """Fold at trace time what sizes outputs: integer outputs of at most one dimension
    (sizes, shape vectors) and boolean ones (masks).  Other constant subgraphs were
    folded by the rewrites already; folding them here would bake arrays into the
    compiled code.  Random draws and ops refusing constant folding keep their JAX
    implementation."""
    if not node.inputs:
        return False
    for o in node.outputs:
        dtype = str(getattr(o.type, "dtype", None))
        ndim = getattr(o.type, "ndim", 0)   # ScalarType: 0-d
        if not (dtype == "bool" or ("int" in dtype and ndim <= 1)):
            return False
    return bool(node.op.do_constant_folding(None, node))


def load_op_implementations():
    """Import every per-family module so its ``register`` calls run."""
    import opgraph.kernel_core.backends.jax  # noqa: F401  (the package imports the families)


__all__ = ["jax_funcify", "jax_funcify_fgraph", "jax_input", "jax_output", "StaticValue", "has_jax_impl", "is_static", "static_value", "constant_data",
           "static_output_shape", "JaxCompileError", "TRACER_ERRORS", "load_op_implementations"]

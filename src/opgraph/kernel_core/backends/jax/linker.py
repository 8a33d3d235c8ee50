"""JaxLinker: the rewritten graph as one Python function, ``jax.jit``-compiled once.

Same contract as the other linkers (``make_thunk(fgraph, profile=None) -> thunk``,
``thunk(list_of_input_values) -> list_of_output_values``).  Every node's JAX
implementation is built when linking (an op without one fails here, naming
it); JAX traces and compiles on the first call (and again for new input
shapes or dtypes, as ``jax.jit`` does).

* float64: the function is traced and run inside ``jax.enable_x64(True)``, a
  scoped setting; the user's global ``jax_enable_x64`` is left as it was.  The setting
  is thread-local and XLA's CPU runtime may run a computation on its own threads: host
  callbacks go through ``backends/jax/host_callback.py`` (64-bit values as their bits).
* Values at the boundary: outputs are NumPy arrays unless ``jax_arrays=True``,
  which returns the JAX arrays themselves (so updated shared variables stay on
  the device between calls of a training loop).  The NumPy outputs are
  *read-only*: ``np.asarray`` of the JAX result, a view of JAX's (immutable)
  buffer on CPU, handed out without a copy (a copy per output per call cost
  more than the rest of a small call; no one else can write to that memory, so
  no aliasing is possible).  ``out.copy()`` gives a writable array (the other
  modes return writable arrays).  Updated shared values are still copied to
  writable arrays when they are NumPy.
* Per call (``thunk.direct``, Function's fast path): NumPy or JAX arrays go
  straight into the jitted function; their dtypes, ranks and static lengths are
  checked when JAX traces a new signature, not per call.
* ``profile=``: the node table has one entry, the whole jitted graph (XLA
  compiles it as one fused program: per-node times do not exist), timed up to
  ``block_until_ready``; JAX's trace + lowering + XLA compile of each new input
  signature is ``ProfileStats.jax_jit_time``, left out of the call times.
* ``shardings`` / ``mesh``: handed to ``backends/jax/sharding.shard_function``,
  which places the inputs over a device mesh.
* ``static_inputs``: input names (or positions) whose values are compile-time
  constants for JAX (``jax.jit``'s static arguments): sizes such as ``n`` in
  ``arange(n)`` or a reshape's target shape.  Each distinct value compiles once.
"""

from __future__ import annotations

import contextvars
import importlib.util
import time

import jax
import jax.numpy as jnp
import numpy as np

from opgraph.kernel_core.backends.jax.checks import checked_jit
from opgraph.kernel_core.backends.jax.dispatch import (StaticValue, jax_funcify_fgraph, jax_input, jax_output,
                                                       load_op_implementations)
from opgraph.kernel_core.graph.basic import Apply

__all__ = ["JaxLinker"]

_SHARDING_MODULE = "opgraph.kernel_core.backends.jax.sharding"


class JaxLinker:
    name = "jax"

    def __init__(self, jax_arrays=False, shardings=None, mesh=None, static_inputs=()):
        self.jax_arrays = bool(jax_arrays)
        self.shardings = shardings
        self.mesh = mesh
        self.static_inputs = tuple(static_inputs)

    def _static_positions(self, fgraph):
        names = [v.name for v in fgraph.inputs]
        user_inputs = getattr(fgraph, "user_variables", ((), ()))[0]
        positions = []
        for s in self.static_inputs:
            if isinstance(s, int):
                if not 0 <= s < len(names):
                    raise ValueError(f"JaxLinker: static input position {s} out of range ({len(names)} inputs)")
                positions.append(s)
            elif not isinstance(s, str):   # a variable: the user's input, or the graph's own
                k = next((k for k, v in enumerate(user_inputs) if v is s), None)
                if k is None:
                    k = next((k for k, v in enumerate(fgraph.inputs) if v is s), None)
                if k is None:
                    raise ValueError(f"JaxLinker: static input {s} is not an input of the function "
                                     f"(inputs: {names})")
                positions.append(k)
            elif names.count(s) == 1:
                positions.append(names.index(s))
            else:
                raise ValueError(f"JaxLinker: static input {s!r} names {names.count(s)} inputs of the graph "
                                 f"(inputs: {names}); give a unique name or a position")
        return tuple(sorted(set(positions)))

    def __repr__(self):
        return f"JaxLinker(jax_arrays={self.jax_arrays})"

    def graph_function(self, fgraph, static_positions=()):
        """The plain (un-jitted, jittable) JAX function of ``fgraph``: inputs -> tuple of outputs."""
        load_op_implementations()
        return jax_funcify_fgraph(fgraph, static_inputs=static_positions)

    def jit(self, fgraph, fn, static_positions=()):
        if not self.shardings and self.mesh is None:
            return jax.jit(fn, static_argnums=static_positions)
        if importlib.util.find_spec(_SHARDING_MODULE) is None:
            raise NotImplementedError("JaxLinker: shardings / mesh need backends/jax/sharding.py, "
                                      "which is not written yet")
        from opgraph.kernel_core.backends.jax.sharding import shard_function

        return shard_function(jax.jit(fn), fgraph, self.shardings, self.mesh)

    def make_thunk(self, fgraph, profile=None):
        static = self._static_positions(fgraph)
        fn = self.graph_function(fgraph, static)
        in_types = [v.type for v in fgraph.inputs]
        sig = _signature(in_types, static)
        # One output (and no output shardings to constrain): the jitted graph returns the array
        # itself, not a 1-tuple (JAX flattens and rebuilds an output tuple on every call).
        single = len(fgraph.outputs) == 1 and not self.shardings and self.mesh is None
        with jax.enable_x64(True):
            jitted = checked_jit(fgraph, _traced_with_signature(fn, sig, fgraph, single),
                                 lambda f: self.jit(fgraph, f, static))
        out_types = [v.type for v in fgraph.outputs]
        n_in = len(in_types)
        jax_arrays = self.jax_arrays
        # The boundary conversions, looked up once (a call then pays no dispatch).
        default_in = jax_input.dispatch(object)
        default_out = jax_output.dispatch(object)
        in_conv = [(k, jax_input.dispatch(type(t)), t) for k, t in enumerate(in_types)]
        in_conv = [c for c in in_conv if c[1] is not default_in]
        out_conv = [(jax_output.dispatch(type(t)), t) for t in out_types]
        if profile is not None:
            jitted = _profiled(jitted, fgraph, profile)

        def thunk(input_values):
            if len(input_values) != n_in:
                raise TypeError(f"the linked graph takes {n_in} input values, got {len(input_values)}")
            args = list(input_values)
            for k, conv, t in in_conv:
                args[k] = conv(t, args[k])
            for k in static:
                args[k] = StaticValue(args[k])
            with jax.enable_x64(True):
                outs = jitted(*args)
                if single:
                    outs = (outs,)
                return [conv(t, v, jax_arrays) for (conv, t), v in zip(out_conv, outs)]

        thunk.fgraph = fgraph
        thunk.graph_function = fn
        thunk.jitted = jitted
        thunk.single_output = single   # jitted(*args) is the output itself, not a tuple
        thunk.order = fn.order
        # NumPy results are read-only views of JAX's result buffers (np.asarray of a JAX
        # array): nobody can write to them, so Function hands them out without a copy.
        thunk.readonly_outputs = not jax_arrays
        if profile is None and not static and not in_conv and all(c is default_out for c, _ in out_conv) \
                and all(s is not None for s in sig):
            _set_direct_entry(thunk, jitted, sig, single, jax_arrays)
        return thunk


class _NotTheCompiledTypes(TypeError):
    """The direct entry's arguments are not the graph's exact types: Function converts them."""


class _Float64Off(_NotTheCompiledTypes):
    """The jitted graph was called (traced) with float64 off in the caller's JAX config."""


_ARRAY_TYPE = type(jnp.zeros(()))
_DEFAULT_IN = jax_input.dispatch(object)   # JAX's concrete array class (jax.Array is abstract)


def _signature(in_types, static=()):
    """Per input: (dtype, ndim, ((dim, static length), ...)), or None (not a plain tensor
    input, or a static argument): what a call's arguments must match exactly."""
    sig = []
    for k, t in enumerate(in_types):
        dtype, shape = getattr(t, "numpy_dtype", None), getattr(t, "shape", None)
        if dtype is None or shape is None or k in static or jax_input.dispatch(type(t)) is not _DEFAULT_IN:
            sig.append(None)
        else:
            sig.append((dtype, len(shape), tuple((d, n) for d, n in enumerate(shape) if n is not None)))
    return sig


def _traced_with_signature(fn, sig, fgraph, single=False):
    """``fn`` refusing, when JAX traces it, arguments that are not the inputs' exact types.

    JAX traces once per new argument signature, so the check costs the calls nothing:
    a call with other dtypes, ranks or static lengths, or with float64 off in the
    caller's JAX config (through ``thunk.direct``, the jitted function itself) fails
    with ``_NotTheCompiledTypes`` and Function converts the arguments instead, instead
    of JAX compiling the graph for the wrong types.
    ``single``: the graph has one output, returned as itself (not a 1-tuple)."""
    names = [v.name or f"input {k}" for k, v in enumerate(fgraph.inputs)]

    def graph_fn(*args):
        if not jax.config.jax_enable_x64:   # traced under the caller's config (the fast path)
            raise _Float64Off("float64 is off in the caller's JAX config")
        if len(args) != len(sig):
            raise _NotTheCompiledTypes(f"the graph takes {len(sig)} inputs, got {len(args)}")
        for k, (a, s) in enumerate(zip(args, sig)):
            if s is None:
                continue
            dtype, ndim, fixed = s
            shape = jnp.shape(a)
            if jnp.result_type(a) != dtype or len(shape) != ndim or any(shape[d] != n for d, n in fixed):
                raise _NotTheCompiledTypes(f"{names[k]}: expected {dtype} with {ndim} dims "
                                           f"(static lengths {dict(fixed)}), got {jnp.result_type(a)} "
                                           f"shape {shape}")
        outs = fn(*args)
        return outs[0] if single else outs

    graph_fn.__name__ = getattr(fn, "__name__", "graph_fn")
    graph_fn.order = getattr(fn, "order", None)
    return graph_fn


def _set_direct_entry(thunk, jitted, sig, single, jax_arrays):
    """``Function``'s fast path: ``thunk.direct(*args)`` with NumPy or JAX arrays.

    * When the caller's JAX config has float64 on, the entry is the jitted graph itself: no
      Python layer of ours between the call and JAX's C++ dispatch.  Otherwise (JAX's
      default) it is ``in_x64``, which enters ``enable_x64`` for the call (~2 us).
    * Argument types are checked when JAX traces a new signature (``_traced_with_signature``:
      dtypes, ranks, static lengths, and float64 being on), not per call.  A call JAX would
      trace for other types (``f(int_array)`` for a float input) fails at that trace;
      ``thunk.explain_failure`` then swaps ``thunk.direct`` for ``checked`` (which checks the
      types before JAX sees them, so such calls do not trace again each time) and Function,
      re-reading the entry, converts that call's arguments.  A caller who turns float64 off
      after compiling gets ``in_x64`` the same way.
    * ``thunk.direct_single``: the entry returns the one output itself (not a 1-tuple);
      ``thunk.direct_convert``: what Function applies to each output (``np.asarray``: JAX's
      read-only host view on CPU, no copy), None for device results (``jax_arrays=True``)."""
    n_in = len(sig)
    config = jax.config
    enable_x64 = jax.enable_x64

    def in_x64(*args):
        if config.jax_enable_x64:
            return jitted(*args)
        with enable_x64(True):
            return jitted(*args)

    def checked(*args):
        if len(args) != n_in:
            raise _NotTheCompiledTypes("number of arguments")
        for a, (dtype, ndim, fixed) in zip(args, sig):
            if a.dtype != dtype or a.ndim != ndim or (fixed and any(a.shape[d] != n for d, n in fixed)):
                raise _NotTheCompiledTypes("argument types")
        return in_x64(*args)

    def explain_failure(args, exc):
        if isinstance(exc, _NotTheCompiledTypes):
            thunk.direct = in_x64 if isinstance(exc, _Float64Off) and thunk.direct is jitted else checked
            return False    # not the compiled types: Function converts the arguments
        return True         # the graph failed: raise its error

    # dtypes, ndims and static shapes: Function need not check them (an attribute of the
    # jitted function too, which this thunk owns)
    jitted.checks_inputs = in_x64.checks_inputs = checked.checks_inputs = True
    thunk.direct = jitted if config.jax_enable_x64 else in_x64
    thunk.direct_array_type = _ARRAY_TYPE
    thunk.direct_single = single
    thunk.direct_convert = None if jax_arrays else np.asarray
    thunk.explain_failure = explain_failure


# -- profiles ------------------------------------------------------------------------------------
_PROFILE = contextvars.ContextVar("opgraph_jax_profile", default=None)
_COMPILE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration", "/jax/core/compile/jaxpr_to_mlir_module_duration",
                   "/jax/core/compile/backend_compile_duration")
_listening = []


def _on_jax_event(event, duration, **kwargs):
    profile = _PROFILE.get()
    if profile is not None and event in _COMPILE_EVENTS:
        profile.add_compile_phase("jax_jit", duration, during_call=True)


def _profiled(jitted, fgraph, profile):
    """``jitted`` timing a profile: the whole jitted graph is one entry of the node table (XLA
    compiles and fuses the graph as one program: per-node times do not exist), its time per
    call measured up to the results being ready (``block_until_ready``); JAX's tracing,
    lowering and XLA compilation of a new input signature are reported as the compile phase
    "jax_jit" (JAX's own monitoring events) and left out of the call's time."""
    if not _listening:
        jax.monitoring.register_event_duration_secs_listener(_on_jax_event)
        _listening.append(True)
    node = Apply(JaxJit(len(fgraph.apply_nodes)), list(fgraph.inputs), [o.type() for o in fgraph.outputs])
    profile.set_graph(fgraph, [node])

    def call(*args):
        token = _PROFILE.set(profile)
        try:
            t0 = time.perf_counter()
            outs = jax.block_until_ready(jitted(*args))
            elapsed = time.perf_counter() - t0 - profile._compile_in_call
        finally:
            _PROFILE.reset(token)
        profile.add_node_time(node, elapsed, args)
        return outs

    return call


class JaxJit:
    """The op of the profile's one entry: a whole graph compiled by ``jax.jit`` (a label,
    never in a graph, so not an Op)."""

    def __init__(self, n_nodes):
        self.n_nodes = n_nodes

    def __str__(self):
        return f"JAX jit (whole graph, {self.n_nodes} nodes; XLA fuses it, no per-node times)"

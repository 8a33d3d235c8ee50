"""JaxLinker: the rewritten graph as one Python function, ``jax.jit``-compiled once.

Same contract as the other linkers (``make_thunk(fgraph, profile=None) -> thunk``,
``thunk(list_of_input_values) -> list_of_output_values``).  Every node's JAX
implementation is built when linking (an op without one fails here, naming
it); JAX traces and compiles on the first call (and again for new input
shapes or dtypes, as ``jax.jit`` does).

* float64: the function is traced and run inside ``jax.enable_x64(True)``, a
  scoped setting; the user's global ``jax_enable_x64`` is left as it was.
* Values at the boundary: outputs are NumPy arrays unless ``jax_arrays=True``,
  which returns the JAX arrays themselves (so updated shared variables stay on
  the device between calls of a training loop).
* ``shardings`` / ``mesh``: handed to ``backends/jax/sharding.shard_function``,
  which places the inputs over a device mesh.
* ``static_inputs``: input names (or positions) whose values are compile-time
  constants for JAX (``jax.jit``'s static arguments): sizes such as ``n`` in
  ``arange(n)`` or a reshape's target shape.  Each distinct value compiles once.
"""

from __future__ import annotations

import importlib.util

import jax

from opgraph.kernel_core.backends.jax.checks import checked_jit
from opgraph.kernel_core.backends.jax.dispatch import (StaticValue, jax_funcify_fgraph, jax_input, jax_output,
                                                       load_op_implementations)

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
        with jax.enable_x64(True):
            jitted = checked_jit(fgraph, fn, lambda f: self.jit(fgraph, f, static))
        in_types = [v.type for v in fgraph.inputs]
        out_types = [v.type for v in fgraph.outputs]
        n_in = len(in_types)
        jax_arrays = self.jax_arrays
        # The boundary conversions, looked up once (a call then pays no dispatch).
        default_in = jax_input.dispatch(object)
        in_conv = [(k, jax_input.dispatch(type(t)), t) for k, t in enumerate(in_types)]
        in_conv = [c for c in in_conv if c[1] is not default_in]
        out_conv = [(jax_output.dispatch(type(t)), t) for t in out_types]

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
                return [conv(t, v, jax_arrays) for (conv, t), v in zip(out_conv, outs)]

        thunk.fgraph = fgraph
        thunk.graph_function = fn
        thunk.jitted = jitted
        thunk.order = fn.order
        return thunk

"""PythonLinker: link a FunctionGraph into one generated Python function (``codegen.py``).

Same contract as the VM (``make_thunk(fgraph, profile=None) -> thunk``, where
``thunk(list_of_input_values) -> list_of_output_values``) and the same results;
a call is one Python call instead of a walk over per-node cells.  With a
profile the VM runs instead: it times each node's ``perform``, which one
generated function cannot do.
"""

from __future__ import annotations

from opgraph.kernel_core.backends.python.codegen import generate

__all__ = ["PythonLinker"]


class PythonLinker:
    """``strict_inputs``: accept exactly the Numba backend's argument types (the fast tier
    of mode NUMBA; see codegen.generate)."""

    name = "py"

    def __init__(self, strict_inputs=False):
        self.strict_inputs = strict_inputs

    def __repr__(self):
        return "PythonLinker(strict_inputs=True)" if self.strict_inputs else "PythonLinker()"

    def make_thunk(self, fgraph, profile=None):
        if profile is not None:
            from opgraph.kernel_core.compile.vm import VMLinker

            return VMLinker().make_thunk(fgraph, profile=profile)
        gf = generate(fgraph, strict_inputs=self.strict_inputs)
        fn, n_in = gf.fn, len(fgraph.inputs)

        def thunk(input_values):
            if len(input_values) != n_in:
                raise TypeError(f"the linked graph takes {n_in} input values, got {len(input_values)}")
            try:
                return fn(*input_values)
            except Exception as exc:
                err = gf.explain(exc)
                if err is None:
                    raise
                raise err from None

        thunk.fgraph = fgraph
        thunk.order = gf.order
        thunk.source = gf.source
        thunk.graph_function = gf
        return thunk

"""Linking graphs whose inputs or outputs hold generic (non-array) values.

A ``GenericType`` variable (``shared("a string")``, ``shared(None)``, a list) is
never computed by an op: it is a function input, output or update passed
through as is.  A backend need not know such values (Numba cannot type an
arbitrary Python object), so the linker compiles only the array part of the
graph and the generic values go around it: each generic output is an input
(or a constant) of the same graph.
"""

from __future__ import annotations

from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.graph.type import GenericType


def _is_generic(var):
    return isinstance(var.type, GenericType)


class _ArrayPart:
    """The fgraph seen with its generic inputs and outputs removed (nodes unchanged)."""

    def __init__(self, fgraph, inputs, outputs):
        self._fgraph = fgraph
        self.inputs = inputs
        self.outputs = outputs

    def __getattr__(self, name):
        return getattr(self._fgraph, name)


def make_thunk(linker, fgraph, profile=None):
    """``linker.make_thunk(fgraph)``, with generic values passed around the linked code."""
    if not any(_is_generic(v) for v in list(fgraph.inputs) + list(fgraph.outputs)):
        return linker.make_thunk(fgraph, profile=profile)
    for node in fgraph.apply_nodes:
        for v in list(node.inputs) + list(node.outputs):
            if _is_generic(v):
                # An op works on the value (a user's Op): the linker must handle it itself.
                return linker.make_thunk(fgraph, profile=profile)
    keep_in = [i for i, v in enumerate(fgraph.inputs) if not _is_generic(v)]
    keep_out = [k for k, v in enumerate(fgraph.outputs) if not _is_generic(v)]
    # Where each generic output comes from: ("in", input position) or ("const", value).
    sources = {}
    for k, v in enumerate(fgraph.outputs):
        if _is_generic(v):
            sources[k] = ("const", v.data) if isinstance(v, Constant) else ("in", fgraph.inputs.index(v))
    part = _ArrayPart(fgraph, [fgraph.inputs[i] for i in keep_in], [fgraph.outputs[k] for k in keep_out])
    inner = linker.make_thunk(part, profile=profile)
    n_out = len(fgraph.outputs)

    def thunk(args):
        computed = iter(inner([args[i] for i in keep_in]))
        out = []
        for k in range(n_out):
            src = sources.get(k)
            out.append(next(computed) if src is None else (src[1] if src[0] == "const" else args[src[1]]))
        return out

    thunk.fgraph = fgraph
    return thunk

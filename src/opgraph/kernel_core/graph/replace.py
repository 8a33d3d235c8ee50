"""Functional graph replacement: ``graph_replace``, ``clone_replace``, ``vectorize_graph``.

Each returns *new* graphs; the graphs given are never modified.  The rebuilt
part is everything between the outputs and the replaced variables; root
inputs and constants are shared with the original graph, so the result is a
function of the same inputs (plus whatever the replacements introduce).
"""

from __future__ import annotations

from opgraph.kernel_core.graph.basic import Constant, Variable
from opgraph.kernel_core.graph.fgraph import _type_mismatch
from opgraph.kernel_core.graph.traversal import io_toposort

__all__ = ["graph_replace", "clone_replace", "vectorize_graph"]


def replacement_pairs(replace, who="replace"):
    """``replace`` ({old: new} or [(old, new)]) as a list of Variable pairs.

    Non-Variable replacements become constants; ``who`` names the caller in errors.
    """
    if replace is None:
        return []
    items = replace.items() if isinstance(replace, dict) else replace
    pairs = []
    for item in items:
        try:
            old, new = item
        except (TypeError, ValueError):
            raise TypeError(f"{who}: replace must be a dict {{old: new}} or a sequence of (old, new) pairs") from None
        if not isinstance(old, Variable):
            raise TypeError(f"{who}: keys must be Variables, got {type(old).__name__} {old!r:.40}")
        if not isinstance(new, Variable):
            from opgraph.kernel_core.tensor.basic import as_tensor_variable

            try:
                new = as_tensor_variable(new)
            except TypeError:
                raise TypeError(f"{who}: the replacement of {old} must be a Variable, "
                                f"got {type(new).__name__}") from None
        pairs.append((old, new))
    return pairs


def _rebuild(outputs, memo, strict, clone_all=True, copy_inputs=False):
    """Rebuild the graph of ``outputs`` with ``memo`` pre-filled (old -> new).

    Replaced variables are not looked into.  With ``clone_all`` every node is
    rebuilt (the result shares no Apply with the original); otherwise nodes
    whose inputs did not change are reused.
    """
    blockers = list(memo)
    for node in io_toposort(blockers, outputs):
        new_inputs = []
        for inp in node.inputs:
            if inp not in memo:
                if copy_inputs and inp.owner is None and not isinstance(inp, Constant):
                    memo[inp] = inp.clone()
                else:
                    memo[inp] = inp
            new_inputs.append(memo[inp])
        if not clone_all and all(a is b for a, b in zip(new_inputs, node.inputs)):
            new_outputs = node.outputs
        else:
            new_outputs = node.clone_with_new_inputs(new_inputs, strict=strict).outputs
        for old, new in zip(node.outputs, new_outputs):
            memo[old] = new
    result = []
    for out in outputs:
        if out not in memo:
            memo[out] = out.clone() if (copy_inputs and out.owner is None and not isinstance(out, Constant)) else out
        result.append(memo[out])
    return result


def _as_outputs(outputs):
    single = isinstance(outputs, Variable)
    outs = [outputs] if single else list(outputs)
    for o in outs:
        if not isinstance(o, Variable):
            raise TypeError(f"expected a Variable or a list of Variables, got {type(o).__name__}")
    return single, outs


def graph_replace(outputs, replace=None, *, strict=True):
    """New graph(s) computing ``outputs`` with each ``old`` replaced by ``new``.

    ``replace`` is a dict {old: new} or a list of pairs.  With ``strict`` the
    new variable must have the old one's type (or a more specific one):
    anything else raises the TypeError the seeds show.  Replacements are not
    applied inside the replacement graphs themselves, so ``{x: exp(x)}``
    works.  Keys that are not in the graph are ignored.
    """
    single, outs = _as_outputs(outputs)
    memo = {}
    for old, new in replacement_pairs(replace):
        if strict and new.type != old.type:
            converted = old.type.convert_variable(new) if hasattr(old.type, "convert_variable") else None
            if converted is None:
                raise TypeError(_type_mismatch(old, new))
            new = converted
        memo[old] = new
    result = _rebuild(outs, memo, strict=strict)
    return result[0] if single else result


def clone_replace(output, replace=None, rebuild_strict=True, copy_inputs_over=True, **kwargs):
    """Clone the graph of ``output`` with the replacements applied (PyTensor's signature).

    ``copy_inputs_over=False`` also clones the root inputs.  With
    ``rebuild_strict=False`` the rebuilt nodes re-infer their output types
    (replacements may then change shapes or dtypes where the ops allow it).
    """
    single, outs = _as_outputs(output)
    memo = {}
    for old, new in replacement_pairs(replace):
        if rebuild_strict and new.type != old.type:
            converted = old.type.convert_variable(new) if hasattr(old.type, "convert_variable") else None
            if converted is None:
                raise TypeError(_type_mismatch(old, new))
            new = converted
        memo[old] = new
    result = _rebuild(outs, memo, strict=rebuild_strict, copy_inputs=not copy_inputs_over)
    return result[0] if single else result


def vectorize_graph(outputs, replace):
    """Re-express ``outputs`` for batched replacements (see kernel_core/vectorize.py)."""
    from opgraph.kernel_core.vectorize import vectorize_graph as _vectorize_graph

    return _vectorize_graph(outputs, replace)

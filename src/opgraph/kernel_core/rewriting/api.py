"""``rewrite_graph`` and ``rewrite_fgraph``: select rules by tag and run them by phase.

Phases run in position order (canonicalize, stabilize, specialize, fusion,
inplace).  During the algebraic phases (positions below fusion) the rules of
the earlier selected phases stay active, so each phase ends at a fixed point
of everything selected so far; fusion and inplace run only their own rules.
"""

from __future__ import annotations

import importlib

from opgraph.kernel_core.gc_pause import paused_gc
from opgraph.kernel_core.graph.basic import Variable
from opgraph.kernel_core.graph.fgraph import FunctionGraph
from opgraph.kernel_core.graph.traversal import clone_get_equiv, explicit_graph_inputs
from opgraph.kernel_core.rewriting.db import PHASES, GraphRewriter, NodeRewriter, rewrite_db
from opgraph.kernel_core.rewriting.driver import EquilibriumDriver, run_graph_rewriter
from opgraph.kernel_core.rewriting.history import RewriteHistory

# Rule libraries register themselves on import.  Every one is part of opgraph:
# a library that fails to import is a bug, and it fails loudly (no quiet
# fallback to a smaller rule set).
_LIBRARIES = ("op_from_graph", "canonicalize", "reduction", "stabilize", "specialize", "shape", "subtensor",
              "linalg", "blockwise", "fusion", "inplace", "random", "special",
              "inference", "attention", "signal", "gradient_markers", "join_elemwise")
_loaded = False


def load_rule_libraries():
    global _loaded
    if _loaded:
        return
    for name in _LIBRARIES:
        importlib.import_module(f"opgraph.kernel_core.rewriting.{name}")
    _loaded = True  # only once every library imported: a failure is raised again next time


def known_tags():
    load_rule_libraries()
    return sorted(rewrite_db.known_tags())


def rewrite_fgraph(fgraph, include=("canonicalize",), exclude=(), max_steps=None, require=(), phase=None):
    """Rewrite ``fgraph`` in place; returns the number of rewrites applied.

    A ``RewriteHistory`` attached to ``fgraph`` records every step.  ``phase``
    restricts the run to one phase's rules (``optdb["canonicalize"]``).
    """
    with paused_gc():
        return _rewrite_fgraph(fgraph, include, exclude, max_steps, require, phase)


def _rewrite_fgraph(fgraph, include, exclude, max_steps, require=(), phase=None):
    load_rule_libraries()
    entries = rewrite_db.query(include, exclude, require)
    if phase is not None:
        entries = [e for e in entries if e.position == PHASES[phase]]
    history = fgraph.get_feature(RewriteHistory)
    positions = sorted({e.position for e in entries}) or [PHASES["canonicalize"]]
    total = 0
    for pos in positions:
        if pos < PHASES["fusion"]:
            active = [e for e in entries if e.position <= pos and not e.is_graph_rewriter]
        else:
            active = [e for e in entries if e.position == pos and not e.is_graph_rewriter]
        phase = _phase_name(pos)
        driver = EquilibriumDriver(active, phase=phase)
        remaining = None if max_steps is None else max_steps - total
        total += driver.apply(fgraph, max_steps=remaining)
        if max_steps is not None and total >= max_steps:
            return total
        graph_passes = [e for e in entries if e.position == pos and e.is_graph_rewriter]
        for e in graph_passes:
            run_graph_rewriter(fgraph, e, phase, history)
        if graph_passes:  # clean up (merge / fold) after whole-graph passes
            total += EquilibriumDriver([], phase=phase).apply(fgraph)
    return total


def _phase_name(pos):
    for name, p in PHASES.items():
        if p == pos:
            return name
    return f"position {pos:g}"


def _fgraph_of(outputs, clone):
    """A FunctionGraph over copies of every node, keeping the user's input variables.

    The rewritten graph can then be evaluated with the original inputs
    (``rewrite_graph(y).eval({x: ...})``) while ``y`` itself stays untouched.
    """
    from opgraph.kernel_core.graph.basic import Constant
    from opgraph.kernel_core.graph.traversal import graph_inputs

    # Shared variables (random generators, ...) are roots too: kept as they are.
    inputs = [v for v in graph_inputs(outputs) if not isinstance(v, Constant)]
    if clone:
        memo = clone_get_equiv(inputs, outputs, copy_inputs=False, copy_orphans=False)
        outputs = [memo[o] for o in outputs]
    return FunctionGraph(inputs, outputs, clone=False)


def rewrite_graph(graph, include=("canonicalize",), exclude=(), clone=True, history=None, max_steps=None,
                  custom_rewrite=None, require=(), **kwargs):
    """Return a rewritten copy of ``graph`` (a Variable, a list of Variables or a FunctionGraph).

    ``include`` / ``exclude`` / ``require`` are tags (``canonicalize``,
    ``stabilize``, ``specialize``, ``fast_run``, rule names, ...).  The
    argument is never mutated (``clone=False`` rewrites a FunctionGraph in
    place).  ``custom_rewrite`` (a GraphRewriter, e.g. ``in2out(...)``, or a
    NodeRewriter) runs after the selected rules, as in PyTensor.  Pass
    ``history=RewriteHistory()`` to get the applied steps.
    """
    if kwargs:
        raise TypeError(f"rewrite_graph got unexpected keyword argument(s) {', '.join(kwargs)}")
    if custom_rewrite is not None:
        if isinstance(custom_rewrite, NodeRewriter):
            from opgraph.kernel_core.rewriting.rewriters import in2out

            custom_rewrite = in2out(custom_rewrite)
        elif not isinstance(custom_rewrite, GraphRewriter):
            raise TypeError(f"rewrite_graph: custom_rewrite must be a GraphRewriter or NodeRewriter, "
                            f"got {type(custom_rewrite).__name__}")
    if isinstance(graph, FunctionGraph):
        fgraph = graph.clone_get_equiv()[0] if clone else graph
        result_kind = "fgraph"
    elif isinstance(graph, Variable):
        fgraph = _fgraph_of([graph], clone)
        result_kind = "var"
    elif isinstance(graph, (list, tuple)):
        for g in graph:
            if not isinstance(g, Variable):
                raise TypeError(f"rewrite_graph: expected Variables, got {type(g).__name__} {g!r:.40}")
        fgraph = _fgraph_of(list(graph), clone)
        result_kind = "list"
    else:
        raise TypeError(f"rewrite_graph expects a Variable, a list of Variables or a FunctionGraph, "
                        f"got {type(graph).__name__}")
    # Validate the tags before doing any work.
    load_rule_libraries()
    rewrite_db.query(include, exclude, require)
    if history is not None:
        if not isinstance(history, RewriteHistory):
            raise TypeError(f"history must be a RewriteHistory, got {type(history).__name__}")
        fgraph.attach_feature(history)
    rewrite_fgraph(fgraph, include, exclude, max_steps=max_steps, require=require)
    if custom_rewrite is not None:
        custom_rewrite.rewrite(fgraph)
    if history is not None:
        fgraph.remove_feature(history)
    if result_kind == "fgraph":
        return fgraph
    if result_kind == "var":
        return fgraph.outputs[0]
    return list(fgraph.outputs) if isinstance(graph, list) else tuple(fgraph.outputs)


__all__ = ["rewrite_graph", "rewrite_fgraph", "known_tags", "load_rule_libraries", "RewriteHistory"]

"""Which displays of a graph get a GraphExplorer: the graphs the panels only summarise.

Above ``EXPLORER_NODES`` Apply nodes (the summary threshold of the graph panel)
``%%pytensor`` displays a ``GraphExplorer`` after the summary panel, and the rich
display of a Variable, FunctionGraph or compiled Function carries the explorer's
widget view beside the summary's ``text/html`` and the object's own
``text/plain`` (which nbval compares: it stays the plain repr).  The engine
never imports widgets: this choice is made here, in the notebook layer.
"""

from __future__ import annotations

from opgraph.display.graph_panel import SUMMARY_NODES, print_target
from opgraph.kernel_core.printing.dprint import count_nodes

EXPLORER_NODES = SUMMARY_NODES
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def wants_explorer(obj):
    """True for a graph too large to show whole (more than EXPLORER_NODES Apply nodes)."""
    return count_nodes(print_target(obj)) > EXPLORER_NODES


def explorer_bundle(obj):
    """The widget view of a GraphExplorer on ``obj`` when it is large, else None (IPython's
    mimebundle formatter; the other formatters still add text/plain and text/html)."""
    if not wants_explorer(obj):
        return None
    from opgraph.widgets import GraphExplorer

    bundle = GraphExplorer(obj)._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    return {WIDGET_MIME: data[WIDGET_MIME]}


def _explorer_formatter(obj):
    # A display must never break a cell: on failure the summary panel and text stay.
    try:
        return explorer_bundle(obj)
    except Exception:
        return None


def register_explorer(shell):
    """Install the explorer on the rich display of graphs; returns what to undo."""
    from opgraph.extension.formatters import TARGETS, _compile_function_class, _resolve

    mimebundle = shell.display_formatter.mimebundle_formatter
    installed = []
    targets = {(module, name) for module, name, _ in TARGETS}
    fn_cls = _compile_function_class()
    if fn_cls is not None:
        targets.add((fn_cls.__module__, fn_cls.__name__))
    for module, name in sorted(targets):
        if name == "ProfileStats":
            continue
        cls = _resolve(module, name)
        if cls is not None and cls not in [c for c, _ in installed]:
            installed.append((cls, mimebundle.for_type(cls, _explorer_formatter)))
    return installed


def unregister_explorer(shell, installed):
    mimebundle = shell.display_formatter.mimebundle_formatter
    for cls, old in reversed(installed):
        mimebundle.pop(cls, None)
        if old is not None:
            mimebundle.for_type(cls, old)

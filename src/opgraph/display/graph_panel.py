"""The graph panel: dprint text beside the graphviz drawing.

Without graphviz's ``dot`` the panel shows the text and the one-line install
hint; it never raises (a notebook display must not break the cell).
"""

from __future__ import annotations

from opgraph.display.html_parts import esc, legend, panel, pre
from opgraph.kernel_core.printing.dprint import dprint
from opgraph.kernel_core.printing.graphviz import INSTALL_HINT, graph_outputs, render_svg

FORMATS = ("text", "svg", "both")


def graph_text(obj, print_type=False):
    """dprint text of a Variable, list, FunctionGraph or compiled Function."""
    target = obj if (hasattr(obj, "maker") or hasattr(obj, "clients")) else graph_outputs(obj)
    return dprint(target, file="str", print_type=print_type)


def graph_body(obj, format="both", print_type=False, highlight=None, text=None):
    """Inner HTML (no title) of a graph view; ``text`` overrides the dprint text."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    if text is None:
        text = graph_text(obj, print_type=print_type)
    parts = []
    svg = None
    if format in ("svg", "both"):
        try:
            svg = render_svg(obj, print_type=print_type, highlight=highlight)
        except Exception:  # drawing is best effort; the text is always there
            svg = None
    if format in ("text", "both") or svg is None:
        parts.append(pre(text))
    if svg is not None:
        parts.append(f'<div class="opg-svg">{svg}</div>')
    body = f'<div class="opg-row">{"".join(parts)}</div>'
    if svg is not None:
        body += legend()
    elif format in ("svg", "both"):
        body += f'<div class="opg-hint">{esc(INSTALL_HINT)}</div>'
    return body


def describe(obj):
    """Title and subtitle for a graph object."""
    outs = graph_outputs(obj)
    if hasattr(obj, "maker"):
        return "Compiled function", f"{len(outs)} output(s)"
    if hasattr(obj, "clients"):
        return "FunctionGraph", f"{len(obj.inputs)} input(s), {len(outs)} output(s)"
    if len(outs) == 1:
        t = outs[0].type
        return str(outs[0]), t.short_str() if hasattr(t, "short_str") else str(t)
    return ", ".join(str(o) for o in outs), f"{len(outs)} outputs"


def graph_html(obj, format="both", print_type=False, title=None, highlight=None):
    """A full HTML panel for ``obj``."""
    t, sub = describe(obj)
    return panel(title or t, graph_body(obj, format=format, print_type=print_type, highlight=highlight),
                 "" if title else sub)

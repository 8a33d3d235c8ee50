"""The graph panel: dprint text beside the graphviz drawing.

Without graphviz's ``dot`` the panel shows the text and the one-line install
hint; it never raises (a notebook display must not break the cell).

Large graphs are summarised, never printed whole: above ``SUMMARY_NODES``
Apply nodes the text is a header with the node count, the top
``SUMMARY_DEPTH`` levels (at most ``SUMMARY_LINES`` lines, cut subtrees
marked ``└─ …``) and a note on how to see everything; the drawing shows the
``SUMMARY_DRAW_NODES`` nodes nearest the outputs with a note of what is left
out.  A display of a 10^4-node graph is then a few tens of kB instead of
megabytes (or, before dprint was linear, gigabytes).
"""

from __future__ import annotations

from opgraph.display.html_parts import drawing, esc, legend, panel, pre
from opgraph.kernel_core.printing.dprint import count_nodes, dprint, make_printer
from opgraph.kernel_core.printing.graphviz import INSTALL_HINT, graph_outputs, render_svg

FORMATS = ("text", "svg", "both")

SUMMARY_NODES = 300
SUMMARY_DEPTH = 8
SUMMARY_LINES = 120
SUMMARY_DRAW_NODES = 80

SEE_ALL = ("To see everything: opgraph.dprint(graph) prints the whole tree (deep subtrees continue as "
           "trees of their own); pydotprint(graph, max_nodes=None) draws every node.")


def print_target(obj):
    """What dprint should print for a displayed object (Functions and FunctionGraphs as themselves)."""
    return obj if (hasattr(obj, "maker") or hasattr(obj, "clients")) else graph_outputs(obj)


def is_large(obj):
    return count_nodes(print_target(obj)) > SUMMARY_NODES


def graph_text(obj, print_type=False, **options):
    """dprint text of a Variable, list, FunctionGraph or compiled Function; a summary when large.

    ``options`` are dprint keywords (e.g. ``print_destroy_map=True``).
    """
    target = print_target(obj)
    n_nodes = count_nodes(target)
    if n_nodes <= SUMMARY_NODES:
        return dprint(target, file="str", print_type=print_type, **options)
    p = make_printer(target, print_type=print_type, depth=SUMMARY_DEPTH, max_lines=SUMMARY_LINES,
                     mark_cut=True, **options)
    shown = f"the top {SUMMARY_DEPTH} levels" + (f", first {SUMMARY_LINES} lines" if p.truncated else "")
    lines = [f"Large graph: {n_nodes:,} nodes; showing {shown}.", *p.lines]
    if p.truncated:
        lines.append("…")
    lines.append(SEE_ALL)
    return "\n".join(lines) + "\n"


def graph_body(obj, format="both", print_type=False, highlight=None, text=None):
    """Inner HTML (no title) of a graph view; ``text`` overrides the dprint text."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    if text is None:
        text = graph_text(obj, print_type=print_type)
    parts = []
    svg = None
    draw_note = ""
    if format in ("svg", "both"):
        # render_svg returns None when `dot` is missing or fails (the text stands in); any
        # other error is a bug in the drawing code and must show, not vanish.
        n_nodes = count_nodes(print_target(obj))
        if n_nodes > SUMMARY_NODES:
            svg = render_svg(obj, print_type=print_type, highlight=highlight, max_nodes=SUMMARY_DRAW_NODES,
                             collapse_threshold=0)  # merge chains: the drawing stays small
            draw_note = (f"The drawing shows the {SUMMARY_DRAW_NODES} nodes nearest the outputs of "
                         f"{n_nodes:,}. {SEE_ALL}")
        else:
            svg = render_svg(obj, print_type=print_type, highlight=highlight)
    if format in ("text", "both") or svg is None:
        parts.append(pre(text))
    if svg is not None:
        parts.append(drawing(svg))
    body = f'<div class="opg-row">{"".join(parts)}</div>'
    if svg is not None:
        body += legend()
        if draw_note:
            body += f'<div class="opg-sub">{esc(draw_note)}</div>'
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

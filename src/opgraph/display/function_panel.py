"""Compiled functions as HTML: the compiled graph, compile times, and the profile when there is one."""

from __future__ import annotations

from opgraph.display.graph_panel import graph_body, graph_text
from opgraph.display.html_parts import panel
from opgraph.display.profile_panel import compile_breakdown_html, profile_body


def function_text(fn, print_type=False):
    """The compiled graph as ``fn.dprint`` prints it (toposort indices, destroy maps); summarised when large."""
    return graph_text(fn, print_type=print_type, print_destroy_map=True)


def function_html(fn, format="both", print_type=False, title=None):
    profile = getattr(fn, "profile", None)
    times = getattr(fn, "compile_times", None) or getattr(getattr(fn, "maker", None), "profile", None)
    body = graph_body(fn, format=format, print_type=print_type, text=function_text(fn, print_type))
    if profile is not None and hasattr(profile, "node_table"):
        body += profile_body(profile)
    elif times is not None:
        body += compile_breakdown_html(times)
    name = getattr(fn, "name", None)
    mode = getattr(getattr(fn, "maker", None), "mode", None)
    sub = f"mode {mode}" if mode is not None else ""
    return panel(title or ("Compiled function" + (f" {name}" if name else "")), body, sub)

"""Profiles as HTML: compile-time breakdown and time tables with bars.

Reads ``ProfileStats`` only through its data accessors (``node_table``,
``op_class_table``, compile-phase attributes), so it stays a pure view.
"""

from __future__ import annotations

from opgraph.display.html_parts import esc, panel

# link = codegen + Numba jit + cache load (ProfileStats.codegen_time is the rest of the link time)
_PHASES = (("graph", "graph_time"), ("rewrite", "rewrite_time"), ("link", "link_time"),
           ("codegen", "codegen_time"), ("Numba jit", "jit_time"), ("cache load", "cache_load_time"))
# mode JAX: no Numba phases; JAX's trace + XLA compile happens at the first call of each signature
_JAX_PHASES = (("graph", "graph_time"), ("rewrite", "rewrite_time"), ("link", "link_time"),
               ("JAX jit (first calls)", "jax_jit_time"))


def fmt_time(seconds):
    """Seconds in the most readable unit (µs / ms / s)."""
    seconds = float(seconds)
    if seconds == 0:
        return "0"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.3f} s"


def bar(percent, width=120):
    px = max(0, min(width, round(width * percent / 100.0)))
    return (f'<span class="opg-bar" style="width:{px}px"></span>'
            f' <span style="display:inline-block;width:44px;text-align:right">{percent:.1f}%</span>')


def compile_breakdown_html(profile):
    """A one-row table of compile phases (graph / rewrite / link / jit / total)."""
    cells, heads = [], []
    phases = _JAX_PHASES if getattr(profile, "linker", None) == "jax" else _PHASES
    for label, attr in phases:
        value = getattr(profile, attr, None)
        if value is None:
            continue
        heads.append(f"<th>{label}</th>")
        cells.append(f"<td>{fmt_time(value)}</td>")
    total = getattr(profile, "compile_time", None)
    if total is not None:
        heads.append("<th>total</th>")
        cells.append(f"<td><b>{fmt_time(total)}</b></td>")
    if not cells:
        return ""
    return (f'<div class="opg-sub">Compile time</div><table class="opg-table opg-compile">'
            f'<tr>{"".join(heads)}</tr><tr>{"".join(cells)}</tr></table>')


def _stat_table(rows, kind, max_rows):
    head = (f'<tr><th class="l">{kind}</th><th class="l">time share</th><th>time</th>'
            "<th>calls</th><th>time / call</th>" + ("<th>nodes</th>" if kind != "node" else "") + "</tr>")
    body = []
    for r in rows[:max_rows]:
        if kind == "node":
            shapes = ", ".join("?" if s is None else str(s) for s in getattr(r, "input_shapes", ()) or ())
            name = f"#{r.index} {r.op}" + (f" ({shapes})" if shapes else "")
        else:
            name = r.name
        extra = f"<td>{r.n_nodes}</td>" if kind != "node" else ""
        body.append(f'<tr><td class="l">{esc(name)}</td><td class="l">{bar(r.percent)}</td>'
                    f"<td>{fmt_time(r.time)}</td><td>{r.calls}</td><td>{fmt_time(r.time_per_call)}</td>{extra}</tr>")
    more = ""
    if len(rows) > max_rows:
        more = f'<div class="opg-sub">… {len(rows) - max_rows} more</div>'
    return f'<table class="opg-table opg-profile-{kind}">{head}{"".join(body)}</table>{more}'


def profile_body(profile, max_rows=25):
    parts = [compile_breakdown_html(profile)]
    calls = getattr(profile, "fct_callcount", 0)
    call_time = getattr(profile, "fct_call_time", 0.0)
    per_call = call_time / calls if calls else 0.0
    parts.append(f'<div class="opg-sub">Calls: {calls}, total {fmt_time(call_time)}, '
                 f"{fmt_time(per_call)} per call</div>")
    nodes = profile.node_table() if hasattr(profile, "node_table") else []
    if not any(r.calls for r in nodes):
        parts.append('<div class="opg-sub">No per-node timings (not called yet, or the linker runs the '
                     "graph as one compiled unit).</div>")
        return "".join(parts)
    parts.append('<div class="opg-sub">Time per Op class</div>')
    parts.append(_stat_table(profile.op_class_table(), "op class", max_rows))
    parts.append('<div class="opg-sub">Time per node</div>')
    parts.append(_stat_table(nodes, "node", max_rows))
    return "".join(parts)


def profile_html(profile, max_rows=25):
    name = getattr(profile, "name", None)
    return panel("Profile" + (f": {name}" if name else ""), profile_body(profile, max_rows),
                 f"mode {getattr(profile, 'mode', None) or 'default'}")

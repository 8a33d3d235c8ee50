"""HTML of one rewrite step: rule and tag, what was replaced by what, before/after with changes marked.

The text view marks the dprint lines of the changed nodes (removed: red,
new: green), so the change is visible even without graphviz; the drawings
highlight the same nodes with coloured borders.
"""

from __future__ import annotations

from opgraph.display.expr_text import expr_text
from opgraph.display.html_parts import STYLE, drawing, esc, legend
from opgraph.display.graph_panel import SEE_ALL, SUMMARY_DEPTH, SUMMARY_DRAW_NODES, SUMMARY_LINES, SUMMARY_NODES
from opgraph.kernel_core.printing.dprint import count_nodes, make_printer
from opgraph.kernel_core.printing.graphviz import INSTALL_HINT, render_svg

REMOVED_COLOR = "#d62728"
ADDED_COLOR = "#2ca02c"


def marked_dprint_html(outputs, nodes, cls):
    """dprint of ``outputs`` as HTML, lines of Apply ``nodes`` wrapped in ``<span class=cls>``."""
    n_nodes = count_nodes(list(outputs))
    large = n_nodes > SUMMARY_NODES  # summarised as the graph panel does
    p = make_printer(list(outputs), depth=SUMMARY_DEPTH if large else -1,
                     max_lines=SUMMARY_LINES if large else None, mark_cut=large)
    marks = {f"[id {p.ids[n]}]" for n in nodes if n in p.ids}
    rows = [esc(f"Large graph: {n_nodes:,} nodes; showing the top {SUMMARY_DEPTH} levels.")] if large else []
    for line in p.lines:
        text = esc(line)
        if any(m in line for m in marks) and "···" not in line:
            text = f'<span class="{cls}">{text}</span>'
        rows.append(text)
    if large:
        rows.append(esc(SEE_ALL))
    return '<pre class="opg-text">' + "\n".join(rows) + "</pre>"


def _side(label, outputs, nodes, cls, color, format, roots=()):
    parts = [f'<div><div class="opg-sub">{esc(label)}</div>']
    svg = None
    if format in ("svg", "both"):
        try:
            marks = {n: color for n in nodes}
            marks.update({v: color for v in roots if v.owner is None})  # e.g. a folded constant
            if count_nodes(list(outputs)) > SUMMARY_NODES:
                svg = render_svg(outputs, highlight=marks, max_nodes=SUMMARY_DRAW_NODES, collapse_threshold=0)
            else:
                svg = render_svg(outputs, highlight=marks)
        except Exception:
            svg = None
    if format in ("text", "both") or svg is None:
        parts.append(marked_dprint_html(outputs, nodes, cls))
    if svg is not None:
        parts.append(drawing(svg))
    parts.append("</div>")
    return "".join(parts), svg is not None


def change_sentence(step):
    pairs = list(zip(step.replaced, step.new))
    if not pairs:
        return ""
    return "; ".join(f"{expr_text(a)}  →  {expr_text(b)}" for a, b in pairs)


def step_html(step, n_steps, format="both"):
    """The view of ``step`` (a RewriteStep), or of the unchanged graph when ``step`` is None."""
    if step is None:
        return (f'{STYLE}<div class="opg-panel"><div class="opg-title">No rewrite applied</div>'
                '<div class="opg-sub">The graph is already at a fixed point for the selected tags.</div></div>')
    before, drew_b = _side("Before", step.before, step.removed, "opg-removed", REMOVED_COLOR, format,
                           step.replaced)
    after, drew_a = _side("After", step.after, step.added, "opg-new", ADDED_COLOR, format, step.new)
    sentence = change_sentence(step)
    hint = ""
    if format in ("svg", "both") and not (drew_b and drew_a):
        hint = f'<div class="opg-hint">{esc(INSTALL_HINT)}</div>'
    return (f'{STYLE}<div class="opg-panel opg-step">'
            f'<div class="opg-title">Step {step.index + 1} / {n_steps}: {esc(step.rule)} '
            f'<span class="opg-sub">[{esc(step.tag or "untagged")}]</span></div>'
            + (f'<div class="opg-change"><code>{esc(sentence)}</code></div>' if sentence else "")
            + f'<div class="opg-row">{before}{after}</div>'
            '<div class="opg-legend"><span class="opg-removed">removed</span> '
            '<span class="opg-new">new</span></div>'
            + (legend() if drew_a or drew_b else "") + hint + "</div>")

"""Before / after of a rewrite run, with the list of rules that fired."""

from __future__ import annotations

from opgraph.display.expr_text import expr_text
from opgraph.display.graph_panel import graph_body
from opgraph.display.html_parts import esc, panel


def _record_fields(rec):
    rule = getattr(rec, "rule", "?")
    tags = getattr(rec, "tags", ()) or ()
    if isinstance(tags, str):
        tags = (tags,)
    replaced = list(getattr(rec, "replaced", ()) or ())
    new = list(getattr(rec, "new", ()) or ())
    return str(rule), tuple(tags), replaced, new


def rules_table(records, max_rows=200):
    """HTML table: step, rule, tag, what was replaced by what."""
    if not records:
        return '<div class="opg-sub">No rewrite applied: the graph was already in normal form for these tags.</div>'
    rows = []
    for k, rec in enumerate(records[:max_rows]):
        rule, tags, replaced, new = _record_fields(rec)
        change = "; ".join(f"{expr_text(a)} → {expr_text(b)}" for a, b in zip(replaced, new))
        rows.append(f'<tr><td>{k + 1}</td><td class="l">{esc(rule)}</td><td class="l">{esc(", ".join(tags))}</td>'
                    f'<td class="l">{esc(change)}</td></tr>')
    more = f'<div class="opg-sub">… {len(records) - max_rows} more</div>' if len(records) > max_rows else ""
    return ('<table class="opg-table opg-rules"><tr><th>#</th><th class="l">rule</th><th class="l">tag</th>'
            f'<th class="l">replaced → by</th></tr>{"".join(rows)}</table>{more}')


def rules_text(records, max_rows=200):
    """One line per rule application, the first ``max_rows`` of them (as ``rules_table``)."""
    lines = []
    for k, rec in enumerate(records[:max_rows]):
        rule, tags, replaced, new = _record_fields(rec)
        change = "; ".join(f"{expr_text(a)} -> {expr_text(b)}" for a, b in zip(replaced, new))
        lines.append(f"{k + 1}. {rule} [{', '.join(tags)}] {change}")
    if len(records) > max_rows:
        lines.append(f"… {len(records) - max_rows} more (all of them: _pytensor.history)")
    return "\n".join(lines) if lines else "no rewrite applied"


def rewrite_html(before, after, records, tags, format="both", print_type=False):
    body = ('<div class="opg-row"><div><div class="opg-sub">Before</div>'
            f"{graph_body(before, format=format, print_type=print_type)}</div>"
            '<div><div class="opg-sub">After</div>'
            f"{graph_body(after, format=format, print_type=print_type)}</div></div>"
            f'<div class="opg-sub">Rules that fired ({len(records)})</div>{rules_table(records)}')
    return panel(f"Rewrite: {', '.join(tags)}", body)

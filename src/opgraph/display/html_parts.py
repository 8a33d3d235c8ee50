"""Small HTML building blocks shared by the panels: escaping, styles, legend."""

from __future__ import annotations

import hashlib
import html

from opgraph.kernel_core.printing.graphviz import KIND_COLORS, KIND_LABELS

# One style block per panel; class names are prefixed so notebook CSS never clashes.
STYLE = """<style>
.opg-panel{font-family:Helvetica,Arial,sans-serif;font-size:13px;border:1px solid #ddd;border-radius:6px;
 padding:8px 10px;margin:4px 0;max-width:100%;}
.opg-title{font-weight:bold;margin-bottom:4px;}
.opg-sub{color:#666;font-weight:normal;}
.opg-row{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start;}
.opg-text{font-family:Menlo,Consolas,monospace;font-size:12px;line-height:1.35;margin:0;padding:6px;
 background:#f7f7f7;border-radius:4px;max-height:520px;overflow:auto;white-space:pre;}
.opg-svg{position:relative;max-width:100%;border:1px solid #eee;border-radius:4px;padding:2px;}
.opg-svg svg.opg-drawing{display:block;max-width:100%;max-height:620px;height:auto;}
.opg-zoom{display:none;}
.opg-svg label.opg-zoom-label{position:absolute;top:2px;right:4px;z-index:1;font-size:11px;color:#2a6fb8;
 cursor:pointer;background:rgba(255,255,255,0.85);padding:0 3px;border-radius:3px;}
.opg-zoom:checked ~ .opg-drawing-box{max-height:80vh;overflow:auto;}
.opg-zoom:checked ~ .opg-drawing-box svg.opg-drawing{max-width:none;max-height:none;}
.opg-hint{color:#a15c00;font-size:12px;margin-top:4px;}
.opg-legend{font-size:11px;color:#444;margin-top:4px;}
.opg-legend span.sw{display:inline-block;width:10px;height:10px;border:1px solid #999;margin:0 3px 0 8px;
 vertical-align:middle;}
.opg-table{border-collapse:collapse;font-size:12px;margin:4px 0 8px 0;}
.opg-table th,.opg-table td{border-bottom:1px solid #eee;padding:2px 8px;text-align:right;}
.opg-table th{background:#f3f3f3;}
.opg-table td.l,.opg-table th.l{text-align:left;font-family:Menlo,Consolas,monospace;}
.opg-bar{display:inline-block;height:10px;background:#4a90d9;vertical-align:middle;}
.opg-changed{background:#ffe3a3;}
.opg-new{background:#c9f2c9;}
.opg-removed{background:#f8c9c9;}
</style>"""


def esc(text):
    return html.escape(str(text), quote=True)


def legend(kinds=("input", "constant", "elementwise", "reduction", "shape", "linalg", "inner", "output")):
    items = "".join(f'<span class="sw" style="background:{KIND_COLORS[k]}"></span>{esc(KIND_LABELS[k])}'
                    for k in kinds)
    return f'<div class="opg-legend">{items}</div>'


def pre(text, cls="opg-text"):
    return f'<pre class="{cls}">{esc(text)}</pre>'


def panel(title, body, subtitle=""):
    sub = f' <span class="opg-sub">{esc(subtitle)}</span>' if subtitle else ""
    return f'{STYLE}<div class="opg-panel"><div class="opg-title">{esc(title)}{sub}</div>{body}</div>'


def drawing(svg):
    """A graphviz SVG that fits its box: scaled down to at most 620 px high and the
    panel's width, never clipped behind an inner scrollbar.  The "zoom" toggle
    (CSS only: no script, so it works in any trusted output) shows it at full
    size in a scrolling box.  The toggle's id is the drawing's hash: re-rendering the
    same view gives the same HTML (the stepper compares views)."""
    ident = "opg-zoom-" + hashlib.sha1(svg.encode()).hexdigest()[:12]
    svg = svg.replace("<svg ", '<svg class="opg-drawing" ', 1)
    return (f'<div class="opg-svg"><input type="checkbox" class="opg-zoom" id="{ident}">'
            f'<label class="opg-zoom-label" for="{ident}" title="full size / fit">zoom</label>'
            f'<div class="opg-drawing-box">{svg}</div></div>')

"""One-line expression text of a variable, e.g. ``Log(Add(1, x))``, depth-limited.

Used to say in a sentence what a rewrite replaced ("Log(Add(1, x)) -> Log1p(x)").
"""

from __future__ import annotations


def expr_text(var, max_depth=3, max_len=120):
    """Nested op names down to ``max_depth``; deeper subtrees print as ``…``. Iterative."""
    # Post-order evaluation with an explicit stack of (var, depth, expanded?).
    done = {}
    stack = [(var, 0, False)]
    while stack:
        v, depth, expanded = stack.pop()
        key = (id(v), depth)
        if key in done:
            continue
        node = v.owner
        if node is None:
            done[key] = str(v)
            continue
        if depth >= max_depth:
            done[key] = "…"
            continue
        if not expanded:
            stack.append((v, depth, True))
            stack.extend((i, depth + 1, False) for i in node.inputs)
            continue
        name = str(node.op) + (f".{v.index}" if len(node.outputs) > 1 else "")
        args = ", ".join(done[(id(i), depth + 1)] for i in node.inputs)
        done[key] = f"{name}({args})"
    text = done[(id(var), 0)]
    if v_name := getattr(var, "name", None):
        text = f"{text} '{v_name}'" if var.owner is not None else text
    return text if len(text) <= max_len else text[: max_len - 1] + "…"

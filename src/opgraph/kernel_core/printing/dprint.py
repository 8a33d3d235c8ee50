"""``dprint``: the debug-print tree of a graph, in the seeds' exact format.

    Log [id A]
     └─ Add [id B]
        ├─ ExpandDims{axis=0} [id C]
        │  └─ 1 [id D]
        └─ x [id E]

Ids are letters (A..Z, BA, BB, ...) given in printing order, one per Apply
node (all outputs of a node share it) or per root variable.  A node printed
before is shown again with a ``···`` child instead of its subtree.  Ops with
inner graphs (``Composite``) get an ``Inner graphs:`` section.  Iterative.
"""

from __future__ import annotations

import io
import sys

from opgraph.kernel_core.graph.basic import Apply, Constant, Variable

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def id_label(n):
    """0 -> A, 25 -> Z, 26 -> BA, 27 -> BB, ... (base 26 with A as zero)."""
    digits = []
    while True:
        n, r = divmod(n, 26)
        digits.append(_LETTERS[r])
        if n == 0:
            break
    return "".join(reversed(digits))


class _Printer:
    def __init__(self, print_type, print_destroy_map, print_view_map, topo_order, depth, id_type):
        self.print_type = print_type
        self.print_destroy_map = print_destroy_map
        self.print_view_map = print_view_map
        self.topo_order = topo_order or {}
        self.depth = depth
        self.id_type = id_type
        self.ids = {}
        self.done = set()
        self.inner_nodes = []
        self.inner_seen = set()
        self.lines = []

    def ident(self, var):
        key = var.owner if var.owner is not None else var
        if key not in self.ids:
            self.ids[key] = id_label(len(self.ids)) if self.id_type == "CHAR" else str(id(key))
        return self.ids[key]

    def label(self, var, inner=False):
        if var.owner is not None:
            node = var.owner
            return str(node.op) if len(node.outputs) == 1 else f"{node.op}.{var.index}"
        if isinstance(var, Constant):
            return str(var) if var.name is None else var.name
        return str(var)

    def line_text(self, var, header=False):
        parts = [self.label(var) if not header else str(var.owner.op), f"[id {self.ident(var)}]"]
        if self.print_type and not header:
            parts.append(f"<{var.type.short_str()}>")
        if var.owner is not None and var.name is not None and not header:
            parts.append(f"'{var.name}'")
        node = var.owner
        if node is not None:
            if self.print_destroy_map and getattr(node.op, "destroy_map", None):
                parts.append(f"d={dict(node.op.destroy_map)}")
            if self.print_view_map and getattr(node.op, "view_map", None):
                parts.append(f"v={dict(node.op.view_map)}")
            if not header and node in self.topo_order:
                parts.append(str(self.topo_order[node]))
        return " ".join(parts)

    def print_tree(self, root, inner_output=False):
        """Print the tree under ``root``; inner-graph outputs get the ``←`` marker."""
        # Stack items: (variable, indent, marker, child_indent, depth)
        if inner_output:
            stack = [(root, " ", "← ", "    ", 0)]
        else:
            stack = [(root, "", "", " ", 0)]
        while stack:
            var, indent, marker, child_indent, depth = stack.pop()
            node = var.owner
            self.lines.append(f"{indent}{marker}{self.line_text(var)}")
            if node is None:
                continue
            if node.op.inner_graphs() is not None and node not in self.inner_seen:
                self.inner_seen.add(node)
                self.inner_nodes.append(node)
            if node in self.done:
                if node.inputs:
                    self.lines.append(f"{child_indent}└─ ···")
                continue
            self.done.add(node)
            if self.depth != -1 and depth + 1 >= self.depth:
                continue
            children = node.inputs
            for i in range(len(children) - 1, -1, -1):
                last = i == len(children) - 1
                stack.append((children[i], child_indent, "└─ " if last else "├─ ",
                              child_indent + ("   " if last else "│  "), depth + 1))


def dprint_lines(obj, print_type=False, print_destroy_map=False, print_view_map=False,
                 topo_order=None, depth=-1, id_type="CHAR"):
    """The dprint lines of a variable, list of variables, Apply, FunctionGraph or Function."""
    if hasattr(obj, "dprint_lines"):
        return obj.dprint_lines(print_type=print_type, print_destroy_map=print_destroy_map,
                                print_view_map=print_view_map, depth=depth)
    if hasattr(obj, "outputs") and hasattr(obj, "clients"):  # FunctionGraph
        roots = list(obj.outputs)
    elif isinstance(obj, Apply):
        roots = list(obj.outputs)
    elif isinstance(obj, Variable):
        roots = [obj]
    elif isinstance(obj, (list, tuple)):
        roots = list(obj)
    else:
        raise TypeError(f"dprint cannot print a {type(obj).__name__}; pass a Variable, a list of them, "
                        "a FunctionGraph or a compiled Function")
    for r in roots:
        if not isinstance(r, Variable):
            raise TypeError(f"dprint expects Variables, got {type(r).__name__}")
    p = _Printer(print_type, print_destroy_map, print_view_map, topo_order, depth, id_type)
    for r in roots:
        p.print_tree(r)
    if p.inner_nodes:
        p.lines.append("")
        p.lines.append("Inner graphs:")
        i = 0
        while i < len(p.inner_nodes):
            node = p.inner_nodes[i]
            i += 1
            p.lines.append("")
            p.lines.append(p.line_text(node.outputs[0], header=True))
            _, inner_outputs = node.op.inner_graphs()
            for out in inner_outputs:
                p.print_tree(out, inner_output=True)
    return p.lines


def dprint(obj, file=None, print_type=False, print_destroy_map=False, print_view_map=False,
           depth=-1, id_type="CHAR", topo_order=None, **kwargs):
    """Print the debug tree of ``obj``.

    ``file``: None prints to stdout (and returns None); ``"str"`` returns the
    text; a file-like object is written to.
    """
    unknown = set(kwargs) - {"done", "print_storage", "used_ids", "print_op_info", "print_fgraph_inputs"}
    if unknown:
        raise TypeError(f"dprint got unexpected option(s): {', '.join(sorted(unknown))}")
    lines = dprint_lines(obj, print_type=print_type, print_destroy_map=print_destroy_map,
                         print_view_map=print_view_map, topo_order=topo_order, depth=depth, id_type=id_type)
    text = "\n".join(lines) + "\n"
    if file == "str":
        return text
    if file is None:
        sys.stdout.write(text)
        return None
    file.write(text)
    return file


def debugprint(*args, **kwargs):
    return dprint(*args, **kwargs)


def dprint_to_string(obj, **kwargs):
    buf = io.StringIO()
    dprint(obj, file=buf, **kwargs)
    return buf.getvalue()

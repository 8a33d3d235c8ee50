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

Deep graphs print in linear size.  The indentation grows three characters a
level, so a chain of N nodes printed as one tree would take O(N^2)
characters (a 10^4-node chain: 150 M).  Past ``MAX_NESTING`` levels a subtree
is therefore not indented further: its node's line gets the child
``└─ ··· continued below`` and, once the current tree is done, the subtree is
printed as a tree of its own starting at column 0 with that node (same id),
which may itself continue further down.  Every line is then at most
``3 * MAX_NESTING`` characters of indentation plus its label, and the text
is linear in the graph's size.  Graphs less deep than ``MAX_NESTING`` (every
graph in the seeds) print exactly as before.  ``max_nesting=`` changes the
limit per call (``None``: never re-root).

The keywords follow PyTensor's ``debugprint`` (``depth``, ``print_type``,
``print_shape``, ``file``, ``id_type``, ``stop_on_name``, ``done``,
``used_ids``, ``print_op_info``, ``print_destroy_map``, ``print_view_map``,
``print_memory_map``, ``print_fgraph_inputs``); see ``dprint``.
"""

from __future__ import annotations

import collections
import functools
import io
import re
import sys

from opgraph.kernel_core.graph.basic import Apply, Constant, Variable

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Levels of indentation before a subtree is printed as a block of its own.
MAX_NESTING = 64

ID_TYPES = ("CHAR", "int", "id", "")
CONTINUED = "··· continued below"


def id_label(n):
    """0 -> A, 25 -> Z, 26 -> BA, 27 -> BB, ... (base 26 with A as zero)."""
    digits = []
    while True:
        n, r = divmod(n, 26)
        digits.append(_LETTERS[r])
        if n == 0:
            break
    return "".join(reversed(digits))


@functools.singledispatch
def op_debug_information(op, node):
    """Extra text ``print_op_info=True`` shows for ``node``'s variables.

    Returns ``{node: {variable: text}}``; the text is printed in parentheses
    after that variable's line when it appears as an input or output of
    ``node``.  Op classes register their own with
    ``@op_debug_information.register(MyOp)``, as in PyTensor.
    """
    return {}


_ID_TEXT = re.compile(r"^\[id (.*)\]$")


def _strip_id(text):
    """"[id A]" (PyTensor's form in ``done`` / ``used_ids``) -> "A"."""
    m = _ID_TEXT.match(text) if isinstance(text, str) else None
    return m.group(1) if m else str(text)


def _shape_text(var):
    shape = getattr(var.type, "shape", None)
    if shape is None:
        return None
    dims = ", ".join("?" if d is None else str(d) for d in shape)
    return f"shape=({dims}{',' if len(shape) == 1 else ''})"


class _Printer:
    """Walks graphs and collects lines; state (ids, printed nodes) is shared across roots."""

    def __init__(self, print_type=False, print_destroy_map=False, print_view_map=False, topo_order=None,
                 depth=-1, id_type="CHAR", *, print_shape=False, stop_on_name=False, done=None,
                 used_ids=None, print_op_info=False, max_nesting=MAX_NESTING, max_lines=None,
                 mark_cut=False):
        self.print_type = print_type
        self.print_shape = print_shape
        self.print_destroy_map = print_destroy_map
        self.print_view_map = print_view_map
        self.topo_order = topo_order or {}
        self.depth = depth
        self.id_type = id_type
        self.stop_on_name = stop_on_name
        self.print_op_info = print_op_info
        self.max_nesting = max_nesting
        self.max_lines = max_lines
        self.mark_cut = mark_cut
        # The caller's dicts (PyTensor's form: key -> "[id A]") are updated as we print.
        self.user_done = done
        self.user_ids = used_ids
        self.ids = {}
        for src in (used_ids, done):
            for key, text in (src or {}).items():
                self.ids.setdefault(key, _strip_id(text))
        self.done = set(done or ())
        self.op_info = {}
        self.inner_nodes = []
        self.inner_seen = set()
        self.lines = []
        self.truncated = False  # max_lines reached

    # -- labels ---------------------------------------------------------------
    def ident(self, var):
        key = var.owner if var.owner is not None else var
        if key not in self.ids:
            if self.id_type == "CHAR":
                self.ids[key] = id_label(len(self.ids))
            elif self.id_type == "int":
                self.ids[key] = str(len(self.ids))
            elif self.id_type == "id":
                self.ids[key] = str(id(key))
            else:
                self.ids[key] = ""
            if self.user_ids is not None:
                self.user_ids[key] = self.id_text(key)
        return self.ids[key]

    def id_text(self, key):
        label = self.ids[key]
        return f"[id {label}]" if self.id_type != "" else ""

    def label(self, var):
        if var.owner is not None:
            node = var.owner
            return str(node.op) if len(node.outputs) == 1 else f"{node.op}.{var.index}"
        if isinstance(var, Constant):
            return str(var) if var.name is None else var.name
        return str(var)

    def info_for(self, node):
        if node not in self.op_info:
            self.op_info.update(op_debug_information(node.op, node) or {})
            self.op_info.setdefault(node, {})
        return self.op_info[node]

    def line_text(self, var, header=False, parent=None):
        self.ident(var)
        key = var.owner if var.owner is not None else var
        parts = [self.label(var) if not header else str(var.owner.op)]
        if self.id_type != "":
            parts.append(self.id_text(key))
        if self.print_type and not header:
            t = var.type
            parts.append(f"<{t.short_str() if hasattr(t, 'short_str') else t}>")
        if self.print_shape and not header:
            shape = _shape_text(var)
            if shape is not None:
                parts.append(shape)
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
        if self.print_op_info and not header:
            for owner in (parent, node):
                if owner is not None:
                    text = self.info_for(owner).get(var)
                    if text:
                        parts.append(f"({text})")
                        break
        return " ".join(parts)

    def _full(self):
        if self.max_lines is not None and len(self.lines) >= self.max_lines:
            self.truncated = True
            return True
        return False

    def _mark_done(self, node):
        self.done.add(node)
        if self.user_done is not None:
            self.user_done[node] = self.id_text(node)

    # -- trees ------------------------------------------------------------------
    def print_tree(self, root, inner_output=False, prefix=None, child_prefix=None):
        """Print the tree under ``root``; inner-graph outputs get the ``←`` marker.

        Subtrees deeper than ``max_nesting`` levels are deferred and printed
        afterwards as trees of their own (see the module docstring).
        """
        if prefix is not None:
            first = (root, prefix, "", child_prefix, 0, 0, None, False)
        elif inner_output:
            first = (root, " ", "← ", "    ", 0, 0, None, False)
        else:
            first = (root, "", "", " ", 0, 0, None, False)
        pending = collections.deque([first])
        while pending and not self.truncated:
            self._walk(pending.popleft(), pending)

    def _walk(self, first, pending):
        # Stack items: (variable, indent, marker, child_indent, depth, nesting, parent node, expand?)
        # ``expand`` forces the subtree of a continued node (already claimed as printed).
        stack = [first]
        while stack:
            if self._full():
                return
            var, indent, marker, child_indent, depth, nesting, parent, expand = stack.pop()
            node = var.owner
            self.lines.append(f"{indent}{marker}{self.line_text(var, parent=parent)}")
            if node is None:
                continue
            if node.op.inner_graphs() is not None and node not in self.inner_seen:
                self.inner_seen.add(node)
                self.inner_nodes.append(node)
            if node in self.done and not expand:
                if node.inputs:
                    self.lines.append(f"{child_indent}└─ ···")
                continue
            if self.stop_on_name and var.name is not None:
                continue  # PyTensor: nothing below a named variable
            if self.depth != -1 and depth + 1 >= self.depth:
                # Not marked as printed: a shallower reference still shows the subtree.
                if self.mark_cut and node.inputs:
                    self.lines.append(f"{child_indent}└─ …")
                continue
            self._mark_done(node)
            if not node.inputs:
                continue
            if self.max_nesting is not None and nesting >= self.max_nesting:
                self.lines.append(f"{child_indent}└─ {CONTINUED}")
                pending.append((var, "", "", " ", depth, 0, parent, True))
                continue
            children = node.inputs
            for i in range(len(children) - 1, -1, -1):
                last = i == len(children) - 1
                stack.append((children[i], child_indent, "└─ " if last else "├─ ",
                              child_indent + ("   " if last else "│  "), depth + 1, nesting + 1, node, False))


def graph_roots(obj, print_fgraph_inputs=False):
    """(outputs to print, fgraph inputs to list first, topological order or None) of a printable object."""
    maker = getattr(obj, "maker", None)
    if maker is not None and getattr(maker, "fgraph", None) is not None:  # compiled Function
        fg = maker.fgraph
        order = getattr(maker, "order", None)
        if order is None:
            order = fg.toposort()
        return list(fg.outputs), list(fg.inputs) if print_fgraph_inputs else [], \
            {node: i for i, node in enumerate(order)}
    if hasattr(obj, "outputs") and hasattr(obj, "clients"):  # FunctionGraph
        return list(obj.outputs), list(obj.inputs) if print_fgraph_inputs else [], None
    if isinstance(obj, Apply):
        return list(obj.outputs), [], None
    if isinstance(obj, Variable):
        return [obj], [], None
    if isinstance(obj, (list, tuple)):
        outs, ins, topo = [], [], None
        for item in obj:
            if isinstance(item, Variable):
                outs.append(item)
                continue
            if not (isinstance(item, Apply) or hasattr(item, "maker") or hasattr(item, "clients")):
                raise TypeError(f"dprint expects Variables, got {type(item).__name__}")
            o, i, t = graph_roots(item, print_fgraph_inputs)
            outs += o
            ins += i
            if t is not None:
                topo = {**(topo or {}), **t}
        return outs, ins, topo
    raise TypeError(f"dprint cannot print a {type(obj).__name__}; pass a Variable, a list of them, "
                    "a FunctionGraph or a compiled Function")


def _check_options(depth, id_type, max_nesting, max_lines):
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < -1:
        raise ValueError(f"dprint: depth must be an int >= 0, or -1 for no limit; got {depth!r}")
    if id_type not in ID_TYPES:
        raise ValueError(f"dprint: id_type must be one of {', '.join(repr(t) for t in ID_TYPES)}; got {id_type!r}")
    if max_nesting is not None and (not isinstance(max_nesting, int) or max_nesting < 1):
        raise ValueError(f"dprint: max_nesting must be a positive int or None; got {max_nesting!r}")
    if max_lines is not None and (not isinstance(max_lines, int) or max_lines < 1):
        raise ValueError(f"dprint: max_lines must be a positive int or None; got {max_lines!r}")


def make_printer(obj, print_type=False, print_destroy_map=False, print_view_map=False, topo_order=None,
                 depth=-1, id_type="CHAR", print_shape=False, stop_on_name=False, done=None, used_ids=None,
                 print_op_info=False, print_memory_map=False, print_fgraph_inputs=False,
                 max_nesting=MAX_NESTING, max_lines=None, mark_cut=False):
    """Print ``obj`` into a fresh ``_Printer`` and return it (lines in ``.lines``)."""
    _check_options(depth, id_type, max_nesting, max_lines)
    for name, d in (("done", done), ("used_ids", used_ids)):
        if d is not None and not isinstance(d, dict):
            raise TypeError(f"dprint: {name} must be a dict (shared between calls), got {type(d).__name__}")
    roots, fg_inputs, topo = graph_roots(obj, print_fgraph_inputs)
    if print_memory_map:
        print_destroy_map = print_view_map = True
    p = _Printer(print_type, print_destroy_map, print_view_map, topo_order if topo_order is not None else topo,
                 depth, id_type, print_shape=print_shape, stop_on_name=stop_on_name, done=done,
                 used_ids=used_ids, print_op_info=print_op_info, max_nesting=max_nesting,
                 max_lines=max_lines, mark_cut=mark_cut)
    for inp in fg_inputs:
        p.print_tree(inp, prefix="→ ", child_prefix="   ")
    for r in roots:
        if p.truncated:
            break
        p.print_tree(r)
    if p.inner_nodes and not p.truncated:
        p.lines.append("")
        p.lines.append("Inner graphs:")
        i = 0
        while i < len(p.inner_nodes) and not p.truncated:
            node = p.inner_nodes[i]
            i += 1
            p.lines.append("")
            p.lines.append(p.line_text(node.outputs[0], header=True))
            inner_inputs, inner_outputs = node.op.inner_graphs()
            if print_fgraph_inputs:
                for inp in inner_inputs:
                    p.print_tree(inp, prefix=" → ", child_prefix="    ")
            for out in inner_outputs:
                p.print_tree(out, inner_output=True)
    return p


def dprint_lines(obj, print_type=False, print_destroy_map=False, print_view_map=False,
                 topo_order=None, depth=-1, id_type="CHAR", **options):
    """The dprint lines of a variable, list of variables, Apply, FunctionGraph or Function."""
    return make_printer(obj, print_type=print_type, print_destroy_map=print_destroy_map,
                        print_view_map=print_view_map, topo_order=topo_order, depth=depth,
                        id_type=id_type, **options).lines


def dprint(obj, file=None, print_type=False, print_destroy_map=False, print_view_map=False,
           depth=-1, id_type="CHAR", topo_order=None, *, print_shape=False, stop_on_name=False,
           done=None, used_ids=None, print_op_info=False, print_memory_map=False,
           print_fgraph_inputs=False, print_storage=False, max_nesting=MAX_NESTING):
    """Print the debug tree of ``obj`` (Variable, Apply, FunctionGraph, compiled Function, or a list).

    As PyTensor's ``debugprint``:

    ``file``           None prints to stdout (and returns None); ``"str"`` returns the text;
                       a file-like object is written to and returned.
    ``depth``          print this many levels (``-1``: all).
    ``print_type``     each variable's type, ``<Vector(float64, shape=(?,))>``.
    ``print_shape``    each variable's static shape, ``shape=(?, 3)``.
    ``id_type``        ``"CHAR"`` (``[id A]``, default), ``"int"`` (``[id 0]``),
                       ``"id"`` (Python ``id()``), ``""`` (no ids).
    ``stop_on_name``   print nothing below a variable that has a name.
    ``done``           dict of nodes already printed -> their id (``"[id A]"``); pass the same
                       dict to several calls to share ids and print each subtree once.
    ``used_ids``       dict of nodes -> ids assigned so far (shared like ``done``).
    ``print_op_info``  the text Ops give through ``op_debug_information``, in parentheses.
    ``print_destroy_map`` / ``print_view_map`` / ``print_memory_map`` (both)
                       ``d={0: [0]}`` / ``v={0: [0]}`` after in-place / view nodes.
    ``print_fgraph_inputs`` list a FunctionGraph's (or Function's, or inner graph's)
                       inputs first, each as ``→ x [id A]``.

    opgraph adds ``max_nesting`` (default ``MAX_NESTING``): past that many levels a
    subtree continues as a tree of its own, so deep graphs print in linear size.
    ``print_storage`` (PyTensor's per-node storage values) is not supported and raises.
    """
    if print_storage:
        raise ValueError("dprint: print_storage is not supported: opgraph's compiled functions keep no "
                         "per-node storage map to print (evaluate intermediate variables with .eval())")
    p = make_printer(obj, print_type=print_type, print_destroy_map=print_destroy_map,
                     print_view_map=print_view_map, topo_order=topo_order, depth=depth, id_type=id_type,
                     print_shape=print_shape, stop_on_name=stop_on_name, done=done, used_ids=used_ids,
                     print_op_info=print_op_info, print_memory_map=print_memory_map,
                     print_fgraph_inputs=print_fgraph_inputs, max_nesting=max_nesting)
    text = "\n".join(p.lines) + "\n"
    if file == "str":
        return text
    if file is None:
        sys.stdout.write(text)
        return None
    if not hasattr(file, "write"):
        raise TypeError(f"dprint: file must be None, 'str' or a writable file object; got {file!r}")
    file.write(text)
    return file


def debugprint(*args, **kwargs):
    return dprint(*args, **kwargs)


def count_nodes(obj):
    """Number of Apply nodes in the graph of ``obj`` (iterative)."""
    roots, _, _ = graph_roots(obj)
    seen = set()
    stack = [v.owner for v in roots if v.owner is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(i.owner for i in node.inputs if i.owner is not None and i.owner not in seen)
    return len(seen)


def dprint_to_string(obj, **kwargs):
    buf = io.StringIO()
    dprint(obj, file=buf, **kwargs)
    return buf.getvalue()


# The public names: everything defined here (PyTensor's module re-exports them).
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and getattr(_v, "__module__", None) == __name__]

"""Graph drawings through graphviz's ``dot``: ``graph_to_dot`` and ``pydotprint``.

``graph_to_dot`` writes DOT source (no graphviz needed): one box per Apply
node (so a shared subgraph is drawn once), one ellipse per root variable or
output, edges labelled with variable names; node colours say what kind of op
it is (see ``KIND_COLORS``) and tooltips carry the types.  Graphs bigger than
``collapse_threshold`` nodes have their single-use chains of same-kind ops
merged into one box, and past ``max_nodes`` boxes only the part nearest the
outputs is drawn, the rest summarised by one "… N more nodes" ellipse.

``render`` runs the ``dot`` executable (found on PATH).  When it is absent
nothing raises: callers get ``None`` and ``pydotprint`` falls back to the
dprint text plus ``INSTALL_HINT``.  No IPython here: this is the engine.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import sys
import tempfile

from opgraph.kernel_core.graph.basic import Apply, Constant, Variable
from opgraph.kernel_core.graph.traversal import io_toposort

INSTALL_HINT = ("graphviz's `dot` program was not found: install it (`apt-get install graphviz` or "
                "`conda install graphviz`) to draw graphs; showing the text form instead.")

# Fill colours per kind; chosen to stay readable on white and dark themes.
KIND_COLORS = {
    "input": "#8fd18f",        # green: what the user feeds
    "constant": "#d9d9d9",     # grey: fixed data
    "output": "#8ab8e6",       # blue: what the graph returns
    "elementwise": "#fff2a8",  # yellow
    "reduction": "#f7b77d",    # orange
    "shape": "#c9b3e6",        # purple: shape, reshape, indexing, joins
    "linalg": "#f28c8c",       # red
    "inner": "#8fd6d0",        # teal: ops carrying an inner graph (Composite, Scan, ...)
    "random": "#f3a6d6",       # pink: random variables (draws)
    "other": "#ffffff",
    "collapsed": "#eeeeee",
}

KIND_LABELS = {
    "input": "input", "constant": "constant", "output": "output", "elementwise": "elementwise",
    "reduction": "reduction", "shape": "shape / indexing", "linalg": "linear algebra",
    "inner": "inner graph", "random": "random variable", "other": "other op",
}

_SHAPE_MODULES = ("shape", "subtensor", "join", "extra_ops", "construction", "basic", "reshape", "sort")
_SHAPE_CLASS_HINTS = ("Shape", "Reshape", "Subtensor", "Join", "Split", "Alloc", "Stack", "Flatten",
                      "Squeeze", "Broadcast", "Repeat", "Tile", "Arange", "Eye", "Concatenate",
                      "SpecifyShape", "MakeVector", "Sort", "Argsort", "DimShuffle", "Transpose",
                      "ExpandDims", "Tensor", "Scalar")
_REDUCTION_HINTS = ("Sum", "Prod", "Max", "Min", "Argmax", "Argmin", "All", "Any", "CAReduce",
                    "Mean", "LogSumExp", "Cum", "Reduce")
_LINALG_HINTS = ("Dot", "Gemm", "Gemv", "Ger", "MatMul", "Matmul", "Det", "SLogDet", "Inv", "Solve",
                 "Cholesky", "Eig", "SVD", "QR", "Kron", "Trace", "Norm", "Outer", "TensorDot", "LU")


def op_kind(op):
    """The colour class of an op: elementwise, reduction, shape, linalg, inner or other.

    Decided from the op's class and module so that op families written
    later are classified without registering anything.
    """
    try:
        if op.inner_graphs() is not None:
            return "inner"
    except Exception:  # an op with a broken inner_graphs still gets drawn
        pass
    cls = type(op)
    name = cls.__name__
    module = cls.__module__ or ""
    if any(c.__name__ == "RandomVariable" for c in cls.__mro__):
        return "random"
    core = getattr(op, "core_op", None)  # Blockwise: classify by the op it batches
    if core is not None and core is not op:
        kind = op_kind(core)
        if kind != "other":
            return kind
    scalar_op = getattr(op, "scalar_op", None)
    if name == "Elemwise" or (scalar_op is not None and "elemwise" in module):
        if scalar_op is not None and getattr(scalar_op, "inner_graphs", lambda: None)() is not None:
            return "inner"
        return "elementwise"
    if "reduction" in module or "careduce" in module.lower() or any(name.startswith(h) for h in _REDUCTION_HINTS):
        return "reduction"
    if "linalg" in module or "blas" in module or module.endswith(".dot") or \
            any(name.startswith(h) for h in _LINALG_HINTS):
        return "linalg"
    if ".scalar." in module:  # a bare scalar op used directly
        return "elementwise"
    last = module.rsplit(".", 1)[-1]
    if last in _SHAPE_MODULES or name in ("DimShuffle",) or any(name.startswith(h) for h in _SHAPE_CLASS_HINTS):
        return "shape"
    return "other"


def graph_outputs(obj):
    """The output variables of whatever can be drawn (Variable, list, Apply, FunctionGraph, Function)."""
    maker = getattr(obj, "maker", None)
    if maker is not None and getattr(maker, "fgraph", None) is not None:
        return list(maker.fgraph.outputs)
    if hasattr(obj, "outputs") and hasattr(obj, "clients"):
        return list(obj.outputs)
    if isinstance(obj, Apply):
        return list(obj.outputs)
    if isinstance(obj, Variable):
        return [obj]
    if isinstance(obj, (list, tuple)) and obj:
        out = []
        for v in obj:
            out.extend(graph_outputs(v))
        return out
    raise TypeError(f"cannot draw a {type(obj).__name__}; pass a Variable, a list of Variables, "
                    "a FunctionGraph or a compiled Function")


def _esc(text, limit=None):
    text = str(text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _type_str(var):
    t = var.type
    return t.short_str() if hasattr(t, "short_str") else str(t)


class _Box:
    """One drawn op box: one Apply node, or a merged chain of them."""

    __slots__ = ("nodes", "kind", "id")

    def __init__(self, node, kind, ident):
        self.nodes = [node]
        self.kind = kind
        self.id = ident


def _merge_chains(order, kinds, clients, output_vars):
    """Map every node to a representative: single-use chains of one kind merge.

    A node merges into its only consumer when it has one output, that output
    is used exactly once, it is not a graph output, and both have the same
    kind.  Walking in topological order keeps this linear.
    """
    rep = {}
    for node in order:
        rep.setdefault(node, node)
    for node in order:
        if len(node.outputs) != 1:
            continue
        out = node.outputs[0]
        users = clients.get(out, ())
        if len(users) != 1 or out in output_vars:
            continue
        user = users[0]
        if kinds[user] != kinds[node] or kinds[node] == "inner":
            continue
        # `user` comes later in topological order: adopt node's group.
        rep[user] = rep[node]
    return rep


def graph_to_dot(obj, print_type=False, highlight=None, max_nodes=400, collapse_threshold=150,
                 rankdir="TB", title=None, max_label_size=60):
    """DOT source drawing ``obj`` (Variable, list, Apply, FunctionGraph or compiled Function).

    Inputs and outputs always show their type; ``print_type`` adds it to every op box
    (it is always in the tooltips).
    ``highlight`` maps Apply nodes or Variables to a colour (e.g. changed nodes in
    the rewrite stepper); they get a thick coloured border.
    """
    outputs = graph_outputs(obj)
    for v in outputs:
        if not isinstance(v, Variable):
            raise TypeError(f"graph_to_dot expects Variables, got {type(v).__name__}")
    highlight = dict(highlight or {})
    output_set = set(outputs)
    order = io_toposort([], outputs)
    topo_index = None
    maker = getattr(obj, "maker", None)
    if maker is not None:
        topo_index = {n: i for i, n in enumerate(order)}

    # Truncate: keep the max_nodes nodes nearest the outputs (breadth-first).
    dropped = set()
    if max_nodes is not None and len(order) > max_nodes:
        keep, frontier = set(), [v.owner for v in outputs if v.owner is not None]
        seen = set(frontier)
        while frontier and len(keep) < max_nodes:
            nxt = []
            for node in frontier:
                if len(keep) >= max_nodes:
                    break
                keep.add(node)
                for inp in node.inputs:
                    if inp.owner is not None and inp.owner not in seen:
                        seen.add(inp.owner)
                        nxt.append(inp.owner)
            frontier = nxt
        dropped = {n for n in order if n not in keep}
        order = [n for n in order if n in keep]

    clients = {}
    for node in order:
        for inp in node.inputs:
            clients.setdefault(inp, []).append(node)
    kinds = {node: op_kind(node.op) for node in order}
    if len(order) > collapse_threshold:
        rep = _merge_chains(order, kinds, clients, output_set)
    else:
        rep = {n: n for n in order}

    boxes = {}
    for node in order:
        r = rep[node]
        if r not in boxes:
            boxes[r] = _Box(node, kinds[node], f"n{len(boxes)}")
        elif node is not r:
            boxes[r].nodes.append(node)
    box_of = {node: boxes[rep[node]] for node in order}

    # dot's network-simplex passes dominate layout time on big graphs with
    # shared nodes (minutes for ~200 boxes); capping them keeps it ~1 s.
    speed = ", nslimit=1, nslimit1=1, splines=line" if len(boxes) > 60 else ""
    lines = [
        "digraph G {",
        f'  graph [rankdir={rankdir}, fontname="Helvetica", fontsize=11, nodesep=0.25, ranksep=0.35{speed}'
        + (f', label="{_esc(title)}", labelloc=t' if title else "") + "];",
        '  node [fontname="Helvetica", fontsize=10, style="filled", penwidth=1];',
        '  edge [fontname="Helvetica", fontsize=9, color="#555555", arrowsize=0.6];',
    ]

    def hl_attrs(items):
        for it in items:
            if it in highlight:
                return f', penwidth=3, color="{highlight[it]}"'
        return ""

    for box in boxes.values():
        node = box.nodes[0]
        if len(box.nodes) == 1:
            label = str(node.op)
            if topo_index is not None:
                label += f"  #{topo_index[node]}"
            outs = node.outputs
            tip = f"{node.op}: " + ", ".join(_type_str(o) for o in outs)
            named = [o.name for o in outs if o.name and o not in output_set]
            if named:
                label += "\n'" + "', '".join(named) + "'"
            if print_type and len(outs) == 1:
                label += "\n" + _type_str(outs[0])
        else:
            names = [str(n.op) for n in box.nodes]
            shown = names if len(names) <= 4 else names[:2] + ["…"] + names[-1:]
            label = " → ".join(shown) + f"\n({len(names)} {KIND_LABELS[box.kind]} ops)"
            tip = " → ".join(names)
        items = list(box.nodes) + [o for n in box.nodes for o in n.outputs]
        lines.append(
            f'  {box.id} [shape=box, style="rounded,filled", fillcolor="{KIND_COLORS[box.kind]}", '
            f'label="{_esc(label, None if len(label) <= max_label_size * 3 else max_label_size * 3)}", '
            f'tooltip="{_esc(tip, 500)}"{hl_attrs(items)}];')

    # Root variables (inputs / constants), one ellipse each.
    var_ids = {}

    def var_node(var, kind):
        if var in var_ids:
            return var_ids[var]
        ident = f"v{len(var_ids)}"
        var_ids[var] = ident
        if isinstance(var, Constant):
            text = str(var)
            label = _esc(text, 24)
            shape = "box"
            extra = ', style="filled,rounded", fontsize=9, height=0.25'
        elif var.name is None:
            # str() of an unnamed variable is its type in brackets: show the type once
            label = _esc(_type_str(var), max_label_size)
            shape = "ellipse"
            extra = ""
        else:
            label = _esc(str(var), max_label_size) + "\\n" + _esc(_type_str(var))  # inputs show their type
            shape = "ellipse"
            extra = ""
        tip = _esc(f"{var}: {_type_str(var)}", 500)
        lines.append(f'  {ident} [shape={shape}, fillcolor="{KIND_COLORS[kind]}", label="{label}", '
                     f'tooltip="{tip}"{extra}{hl_attrs([var])}];')
        return ident

    drawn_edges = set()
    more_id = None
    for node in order:
        box = box_of[node]
        for i, inp in enumerate(node.inputs):
            src_node = inp.owner
            if src_node is not None and src_node in box_of:
                src_box = box_of[src_node]
                if src_box is box:
                    continue  # inside a merged chain
                src = src_box.id
            elif src_node is not None and src_node in dropped:
                if more_id is None:
                    more_id = "more"
                    lines.append(f'  more [shape=ellipse, style="dashed,filled", fillcolor="{KIND_COLORS["collapsed"]}", '
                                 f'label="… {len(dropped)} more nodes", '
                                 f'tooltip="not drawn (graph too large): pydotprint(graph, max_nodes=None) draws them"];')
                # One edge per box from the summary node, however many dropped inputs
                # (a 10^4-term sum would otherwise draw 10^4 edges from it).
                key = (more_id, box.id)
                if key not in drawn_edges:
                    drawn_edges.add(key)
                    lines.append(f'  {more_id} -> {box.id} [style=dashed];')
                continue
            else:
                src = var_node(inp, "constant" if isinstance(inp, Constant) else "input")
            key = (src, box.id, i if len(node.inputs) > 1 and src_node is not None else None, inp)
            if key in drawn_edges:
                continue
            drawn_edges.add(key)
            attrs = [f'tooltip="{_esc(_type_str(inp))}"']
            label = []
            if inp.name and inp.owner is not None:
                label.append(inp.name)
            if inp.owner is not None and len(inp.owner.outputs) > 1:
                label.append(f"out {inp.index}")
            if label:
                attrs.append(f'label="{_esc(" ".join(label), 30)}"')
            lines.append(f"  {src} -> {box.id} [{', '.join(attrs)}];")

    for k, out in enumerate(outputs):
        ident = f"o{k}"
        name = out.name or (str(out) if out.owner is None and isinstance(out, Constant) else "out")
        if len(outputs) > 1 and not out.name:
            name = f"out {k}"
        lines.append(f'  {ident} [shape=ellipse, fillcolor="{KIND_COLORS["output"]}", '
                     f'label="{_esc(name, max_label_size)}\\n{_esc(_type_str(out))}"'
                     f', tooltip="{_esc(f"{out}: {_type_str(out)}")}"{hl_attrs([out])}];')
        if out.owner is not None and out.owner in box_of:
            src = box_of[out.owner].id
        else:
            src = var_node(out, "constant" if isinstance(out, Constant) else "input")
        lines.append(f"  {src} -> {ident};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def dot_executable():
    """Path of graphviz's ``dot``, or None."""
    return shutil.which("dot")


def render(dot_source, format="svg", timeout=30):
    """Run ``dot`` on the source: bytes of the image, or None when ``dot`` is missing or fails."""
    exe = dot_executable()
    if exe is None:
        return None
    try:
        proc = subprocess.run([exe, f"-T{format}"], input=dot_source.encode("utf-8"),
                              capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0 or not proc.stdout:
        return None
    return proc.stdout


def render_svg(obj, **kwargs):
    """The SVG text of ``obj``'s drawing (no XML prolog), or None without ``dot``."""
    data = render(graph_to_dot(obj, **kwargs), "svg")
    if data is None:
        return None
    text = data.decode("utf-8")
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def text_fallback(obj, print_type=False):
    """The dprint text followed by the one-line install hint."""
    from opgraph.kernel_core.printing.dprint import dprint

    try:
        outs = graph_outputs(obj)
        target = obj if (hasattr(obj, "maker") or hasattr(obj, "clients")) else outs
        text = dprint(target, file="str", print_type=print_type)
    except Exception as exc:  # the fallback itself must never raise
        text = f"<cannot print graph: {exc}>\n"
    return text + INSTALL_HINT + "\n"


def text_as_svg(text):
    """A plain SVG showing lines of text: keeps ``SVG(pydotprint(...))`` working without ``dot``."""
    lines = text.rstrip("\n").split("\n")
    width = 8 * max((len(line) for line in lines), default=10) + 20
    height = 16 * len(lines) + 16
    rows = "".join(f'<tspan x="10" dy="{16 if i else 0}">{html.escape(line) or " "}</tspan>'
                   for i, line in enumerate(lines))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
            f'<text x="10" y="20" font-family="monospace" font-size="13" xml:space="preserve">{rows}</text></svg>')


def pydotprint(fct, outfile=None, return_image=False, format="svg", print_output_file=True,
               print_type=True, max_nodes=400, **kwargs):
    """Draw a graph with graphviz.

    ``return_image=True`` returns the image (``str`` for svg, ``bytes`` otherwise);
    else the image is written to ``outfile`` (default: a file in the temp dir)
    and its path returned.  Without ``dot`` this never raises: it returns (or
    prints) the dprint text plus a hint on installing graphviz; for svg the
    returned text is wrapped in a small SVG so ``SVG(pydotprint(...))`` works.
    Other PyTensor options (``compact``, ``var_with_name_simple``, ...) are accepted and ignored.
    """
    if not isinstance(format, str) or not format.isalnum():
        raise ValueError(f"pydotprint: bad format {format!r} (use 'svg', 'png', 'pdf', ...)")
    source = graph_to_dot(fct, print_type=print_type, max_nodes=max_nodes)
    data = render(source, format)
    if data is None:
        fallback = text_fallback(fct)
        if return_image:
            return text_as_svg(fallback) if format == "svg" else fallback
        sys.stdout.write(fallback)
        return None
    if return_image:
        return data.decode("utf-8") if format == "svg" else data
    if outfile is None:
        outfile = os.path.join(tempfile.gettempdir(), f"opgraph.pydotprint.{format}")
    with open(outfile, "wb") as fh:
        fh.write(data)
    if print_output_file:
        print(f"The output file is available at {outfile}")
    return outfile


# The public names: everything defined here (PyTensor's module re-exports them).
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and getattr(_v, "__module__", None) == __name__]

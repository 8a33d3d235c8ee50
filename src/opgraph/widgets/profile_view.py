"""``ProfileView``: a compiled function's profile as an interactive widget.

``ProfileView(profile_or_function, other=None)`` shows, per profile, the
compile-phase breakdown (graph, rewrite, code generation, Numba jit, cache
load) as a stacked bar, and the run time per node and per Op class as a
sortable table with bars; given ``other`` (before/after a rewrite, NUMBA
against PYTHON) the two profiles stand side by side, with a table comparing
their Op classes.

The Python side owns the data: it turns each ``ProfileStats`` into plain rows
(``profiles``, ``comparison``) and re-sorts them when the view asks
(``sort_by`` / ``descending`` / ``table``, set by clicking a column header).
The browser side (``profile_view.js``, plain JavaScript shipped in the package:
no CDN, no build step) only draws what it is sent.
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets

from opgraph.kernel_core.compile.profiling import ProfileStats

__all__ = ["ProfileView", "SORT_KEYS", "TABLES", "profile_data"]

_HERE = Path(__file__).parent

TABLES = ("nodes", "op_classes")
# Columns a table can be sorted by ("index": execution order of the nodes).
SORT_KEYS = ("time", "per_call", "calls", "percent", "name", "index")
# Compile phases, in pipeline order: (key, label, ProfileStats attribute).
PHASES = (("graph", "graph", "graph_time"), ("rewrite", "rewrite", "rewrite_time"),
          ("codegen", "codegen", "codegen_time"), ("numba_jit", "Numba jit", "jit_time"),
          ("cache_load", "cache load", "cache_load_time"))
# Mode JAX: no Numba phases; JAX's trace + XLA compile, at the first call of each input signature.
JAX_PHASES = (("graph", "graph", "graph_time"), ("rewrite", "rewrite", "rewrite_time"),
              ("codegen", "codegen", "codegen_time"), ("jax_jit", "JAX jit", "jax_jit_time"))


def _as_profile(obj, what):
    if isinstance(obj, ProfileStats):
        return obj
    if hasattr(obj, "maker") and hasattr(obj, "profile"):   # a compiled Function
        if obj.profile is None:
            raise ValueError(f"ProfileView: {what} was compiled without a profile; "
                             "compile it with opgraph.function(..., profile=True)")
        return obj.profile
    raise TypeError(f"ProfileView: {what} must be a ProfileStats or a Function compiled with "
                    f"profile=True, got {type(obj).__name__}")


def _shapes(shapes):
    return ", ".join("?" if s is None else str(tuple(s)) for s in shapes or ())


def profile_data(profile, label):
    """The plain data the view draws for one ProfileStats (rows unsorted: see ``ProfileView``)."""
    jax = profile.linker == "jax"
    phases = [{"key": key, "label": text, "seconds": float(getattr(profile, attr))}
              for key, text, attr in (JAX_PHASES if jax else PHASES)]
    nodes = [{"name": r.op, "index": r.index, "op_class": r.op_class, "time": r.time, "calls": r.calls,
              "per_call": r.time_per_call, "percent": r.percent, "shapes": _shapes(r.input_shapes),
              "object_mode": r.node in profile.object_mode_nodes}
             for r in profile.node_table()]
    op_classes = [{"name": s.name, "time": s.time, "calls": s.calls, "n_nodes": s.n_nodes,
                   "per_call": s.time_per_call, "percent": s.percent}
                  for s in profile.op_class_table()]
    calls = profile.fct_callcount
    return {
        "label": label,
        "name": profile.name,
        "mode": None if profile.mode is None else str(profile.mode),
        # mode JAX: the total includes JAX's compile in the first calls (its bar is in the stack)
        "compile": {"phases": phases, "link": float(profile.link_time),
                    "total": float(profile.compile_time + (profile.jax_jit_time if jax else 0.0))},
        "calls": calls,
        "call_time": profile.fct_call_time,
        "per_call": profile.fct_call_time / calls if calls else 0.0,
        "node_time": profile.total_node_time,
        "nodes": nodes,
        "op_classes": op_classes,
    }


def _sort(rows, key, descending):
    """Rows by ``key``; ties in execution order (nodes) or in the given order (op classes),
    whatever the direction.  "index" sorts op classes in their given order (slowest first)."""
    def tiebreak(i):
        return rows[i].get("index", i)

    if key == "index":
        order = sorted(range(len(rows)), key=tiebreak, reverse=descending)
    else:
        order = sorted(range(len(rows)), key=tiebreak)        # stable sort: ties stay in this order
        order.sort(key=lambda i: rows[i][key], reverse=descending)
    return [rows[i] for i in order]


def _comparison(a, b):
    """Op classes of two profiles side by side: time in each and the ratio b / a."""
    by_a = {r["name"]: r for r in a["op_classes"]}
    by_b = {r["name"]: r for r in b["op_classes"]}
    names = list(dict.fromkeys([r["name"] for r in a["op_classes"]] + [r["name"] for r in b["op_classes"]]))
    rows = []
    for name in names:
        ta = by_a[name]["time"] if name in by_a else None
        tb = by_b[name]["time"] if name in by_b else None
        ratio = tb / ta if ta and tb is not None else None
        rows.append({"name": name, "time_a": ta, "time_b": tb, "ratio": ratio})
    rows.sort(key=lambda r: -max(r["time_a"] or 0.0, r["time_b"] or 0.0))
    return rows


class ProfileView(anywidget.AnyWidget):
    """The profile of a compiled function (or two, side by side) as tables, bars and a compile breakdown.

    ``profile_or_function`` and ``other``: a ``ProfileStats`` or a Function compiled with
    ``profile=True``.  ``labels`` names the two columns (default: the profiles' names,
    else "A" / "B").  Read the data with ``profiles`` and ``comparison``; sort with
    ``sort(by, descending=True, table=None)`` or by clicking a column header.
    """

    _esm = (_HERE / "profile_view.js").read_text(encoding="utf-8")
    _css = (_HERE / "profile_view.css").read_text(encoding="utf-8")

    profiles = traitlets.List().tag(sync=True)       # one or two profile_data() dicts, rows sorted
    comparison = traitlets.List().tag(sync=True)     # op-class comparison rows (two profiles only)
    table = traitlets.Unicode("nodes").tag(sync=True)       # the table shown: nodes / op_classes
    sort_by = traitlets.Unicode("time").tag(sync=True)
    descending = traitlets.Bool(True).tag(sync=True)
    max_rows = traitlets.Int(30).tag(sync=True)      # rows drawn per table before "show all"

    def __init__(self, profile_or_function, other=None, labels=None, **kwargs):
        first = _as_profile(profile_or_function, "profile_or_function")
        second = None if other is None else _as_profile(other, "other")
        stats = [first] if second is None else [first, second]
        if labels is None:
            defaults = ("A", "B")
            labels = [s.name or (defaults[i] if second is not None else "profile") for i, s in enumerate(stats)]
            if len(labels) == 2 and labels[0] == labels[1]:
                labels = [f"{labels[0]} (A)", f"{labels[1]} (B)"]
        labels = list(labels)
        if len(labels) != len(stats) or not all(isinstance(s, str) for s in labels):
            raise ValueError(f"ProfileView: labels must be {len(stats)} string(s), got {labels!r}")
        self._stats = stats
        self._raw = [profile_data(s, label) for s, label in zip(stats, labels)]
        super().__init__(**kwargs)
        self.comparison = _comparison(self._raw[0], self._raw[1]) if second is not None else []
        self._resort()

    # -- validation and sorting -------------------------------------------------------
    @traitlets.validate("table")
    def _check_table(self, proposal):
        if proposal["value"] not in TABLES:
            raise traitlets.TraitError(f"ProfileView.table must be one of {', '.join(TABLES)}, "
                                       f"got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.validate("sort_by")
    def _check_sort_by(self, proposal):
        if proposal["value"] not in SORT_KEYS:
            raise traitlets.TraitError(f"ProfileView.sort_by must be one of {', '.join(SORT_KEYS)}, "
                                       f"got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.observe("sort_by", "descending")
    def _on_sort(self, change):
        self._resort()

    def _resort(self):
        if not hasattr(self, "_raw"):
            return
        out = []
        for data in self._raw:
            data = dict(data)
            for table in TABLES:
                data[table] = _sort(data[table], self.sort_by, self.descending)
            out.append(data)
        self.profiles = out

    def sort(self, by, descending=True, table=None):
        """Sort both tables by ``by`` (one of SORT_KEYS); ``table`` also switches the table shown."""
        with self.hold_trait_notifications():
            if table is not None:
                self.table = table
            self.sort_by = by
            self.descending = bool(descending)
        return self

    def rows(self, table=None, which=0):
        """The sorted rows of ``table`` (default: the one shown) of profile ``which`` (0 or 1)."""
        return self.profiles[which][table or self.table]

    def __repr__(self):
        parts = [f"{p['label']}: {p['calls']} calls, {len(p['nodes'])} nodes" for p in self.profiles]
        return f"<ProfileView {'; '.join(parts)}; sorted by {self.sort_by}>"

"""``ProfileStats``: where a compiled function spends its time.

Filled in by the compile pipeline (rewrite / link / total compile time), by
``Function.__call__`` (calls and wall time per call) and by the linker (time
and call count of each Apply node).  The notebook layer renders it from the
data accessors (``node_table``, ``op_class_table``, ``op_table``,
``as_dict``); ``summary()`` prints a plain-text report.

Linker contract: a linker given a profile calls ``profile.add_node_time(node,
seconds, input_values)`` after each node (or only ``add_thunk_time`` when it
runs the whole graph as one compiled unit).  A compiling linker reports the
time of its backend compiler with ``add_compile_phase("numba_jit" |
"cache_load", seconds)`` and never inside a node's time: the first profiled
function of a process must not charge Numba's compilation of a kernel to that
node.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass


__all__ = ["ProfileStats", "NodeStat", "OpStat"]


@dataclass
class NodeStat:
    """Profile of one Apply node of the compiled graph."""

    index: int          # position in the execution order
    node: object        # the Apply
    op: str             # str(op): the dprint name
    op_class: str       # type(op).__name__ (scalar op name for Elemwise)
    time: float         # total seconds over all calls
    calls: int
    percent: float      # share of the total node time
    input_shapes: tuple  # shapes seen at the last call (None entries for non-arrays)

    @property
    def time_per_call(self):
        return self.time / self.calls if self.calls else 0.0


@dataclass
class OpStat:
    """Profile aggregated over all nodes of one Op (class or instance)."""

    name: str
    time: float
    calls: int
    n_nodes: int
    percent: float

    @property
    def time_per_call(self):
        return self.time / self.calls if self.calls else 0.0


def _op_class_name(op):
    # Elemwise{log} and Elemwise{add} are different kernels: group them by their
    # scalar op, which is what the user recognises in dprint output.
    scalar_op = getattr(op, "scalar_op", None)
    if scalar_op is not None:
        return f"{type(op).__name__}{{{type(scalar_op).__name__}}}"
    return type(op).__name__


def _shape_of(value):
    shape = getattr(value, "shape", None)
    return tuple(shape) if shape is not None else None


class ProfileStats:
    """Timing of one compiled function: compile phases, calls and per-node times."""

    def __init__(self, name=None):
        self.name = name
        self.fgraph = None
        self.mode = None
        self.linker = None
        # compile phases (seconds)
        self.graph_time = 0.0      # cloning, givens/updates, building the FunctionGraph
        self.rewrite_time = 0.0
        self.link_time = 0.0
        self.compile_time = 0.0    # total time spent inside function()
        # parts of link_time (or of a call, for kernels compiled lazily, or of the
        # background Numba tier's compilation): Numba compiling, and loading machine
        # code from its disk cache.  link_time minus these is code generation.
        self.jit_time = 0.0
        self.cache_load_time = 0.0
        # mode JAX: tracing, lowering and XLA compiling, at the first call of each input
        # signature (left out of that call's time; not part of link_time)
        self.jax_jit_time = 0.0
        self._compile_in_call = 0.0   # of the call being timed: left out of its call time
        self.rewrites_applied = {}  # rule name -> times applied (when the history is available)
        # calls
        self.fct_callcount = 0
        self.fct_call_time = 0.0   # wall time of Function.__call__ (checks + run + updates)
        self.vm_call_time = 0.0    # time inside the linked thunk
        self.tier_calls = {}       # mode NUMBA's tiers: "python" / "numba" -> calls each ran (compile/tiered.py)
        # per node
        self.apply_time = {}
        self.apply_callcount = {}
        self.apply_input_shapes = {}
        self.node_order = {}
        # nodes a compiling linker runs as Python code (Numba: perform inside numba.objmode)
        self.object_mode_nodes = set()

    # -- recording (used by the pipeline and linkers) ----------------------
    def set_graph(self, fgraph, order):
        self.fgraph = fgraph
        self.node_order = {node: i for i, node in enumerate(order)}

    def add_node_time(self, node, seconds, input_values=None):
        self.apply_time[node] = self.apply_time.get(node, 0.0) + seconds
        self.apply_callcount[node] = self.apply_callcount.get(node, 0) + 1
        if input_values is not None:
            self.apply_input_shapes[node] = tuple(_shape_of(v) for v in input_values)

    _COMPILE_PHASES = {"numba_jit": "jit_time", "cache_load": "cache_load_time", "jax_jit": "jax_jit_time"}

    def add_compile_phase(self, phase, seconds, during_call=False):
        """Add backend-compiler time: ``phase`` is "numba_jit" or "cache_load".

        ``during_call``: the compilation ran inside a call being timed (a kernel
        compiled lazily for new argument types); it is left out of that call's time."""
        attr = self._COMPILE_PHASES.get(phase)
        if attr is None:
            raise ValueError(f"ProfileStats.add_compile_phase: unknown phase {phase!r} "
                             f"(use {', '.join(self._COMPILE_PHASES)})")
        setattr(self, attr, getattr(self, attr) + seconds)
        if during_call:
            self._compile_in_call += seconds

    @property
    def codegen_time(self):
        """The link time that was neither Numba compiling nor loading from its cache."""
        return max(0.0, self.link_time - self.jit_time - self.cache_load_time)

    def add_thunk_time(self, seconds):
        self.vm_call_time += seconds - self._compile_in_call

    def add_call(self, seconds):
        self.fct_callcount += 1
        self.fct_call_time += seconds - self._compile_in_call
        self._compile_in_call = 0.0

    def reset_calls(self):
        """Forget call timings (keep compile timings), e.g. after a warm-up call."""
        self.fct_callcount = 0
        self.fct_call_time = 0.0
        self.vm_call_time = 0.0
        self.apply_time.clear()
        self.apply_callcount.clear()
        self.apply_input_shapes.clear()

    # -- data accessors ------------------------------------------------------
    @property
    def total_node_time(self):
        return float(sum(self.apply_time.values()))

    def node_table(self):
        """One NodeStat per profiled node, slowest first."""
        total = self.total_node_time
        rows = []
        nodes = list(self.node_order) or list(self.apply_time)
        for node in nodes:
            t = self.apply_time.get(node, 0.0)
            rows.append(NodeStat(
                index=self.node_order.get(node, -1), node=node, op=str(node.op),
                op_class=_op_class_name(node.op), time=t, calls=self.apply_callcount.get(node, 0),
                percent=100.0 * t / total if total > 0 else 0.0,
                input_shapes=self.apply_input_shapes.get(node, ())))
        rows.sort(key=lambda r: (-r.time, r.index))
        return rows

    def _grouped(self, key):
        total = self.total_node_time
        groups = {}
        for row in self.node_table():
            name = key(row)
            t, c, n = groups.get(name, (0.0, 0, 0))
            groups[name] = (t + row.time, c + row.calls, n + 1)
        stats = [OpStat(name, t, c, n, 100.0 * t / total if total > 0 else 0.0)
                 for name, (t, c, n) in groups.items()]
        stats.sort(key=lambda s: (-s.time, s.name))
        return stats

    def op_class_table(self):
        """Time per Op class (Elemwise grouped by scalar op), slowest first."""
        return self._grouped(lambda r: r.op_class)

    def op_table(self):
        """Time per distinct Op (as dprint names it), slowest first."""
        return self._grouped(lambda r: r.op)

    def as_dict(self):
        """Plain data for renderers (the notebook layer, JSON)."""
        return {
            "name": self.name,
            "mode": None if self.mode is None else str(self.mode),
            "linker": self.linker,
            "compile": {"graph": self.graph_time, "rewrite": self.rewrite_time, "link": self.link_time,
                        "codegen": self.codegen_time, "numba_jit": self.jit_time,
                        "cache_load": self.cache_load_time, "jax_jit": self.jax_jit_time,
                        "total": self.compile_time},
            "rewrites_applied": dict(self.rewrites_applied),
            "calls": self.fct_callcount,
            "call_time": self.fct_call_time,
            "vm_time": self.vm_call_time,
            "node_time": self.total_node_time,
            "op_classes": [vars(s).copy() for s in self.op_class_table()],
            "ops": [vars(s).copy() for s in self.op_table()],
            "nodes": [{k: v for k, v in vars(r).items() if k != "node"} for r in self.node_table()],
        }

    # -- text report ------------------------------------------------------------
    def summary_text(self, n_ops_to_print=20, n_apply_to_print=20):
        out = []
        title = f"Function profile: {self.name}" if self.name else "Function profile"
        out.append(title)
        out.append("=" * len(title))
        if self.mode is not None or self.linker is not None:
            out.append(f"  mode: {self.mode}   linker: {self.linker}")
        out.append(f"  compile time: {self.compile_time:.3e}s (graph {self.graph_time:.3e}s, "
                   f"rewrite {self.rewrite_time:.3e}s, link {self.link_time:.3e}s)")
        if self.jit_time or self.cache_load_time:
            out.append(f"  numba: jit {self.jit_time:.3e}s, cache load {self.cache_load_time:.3e}s "
                       f"(not in the node times; codegen {self.codegen_time:.3e}s of the link time)")
        if self.jax_jit_time:
            out.append(f"  jax: trace + XLA compile {self.jax_jit_time:.3e}s (in first calls, not in the call times)")
        if self.rewrites_applied:
            top = sorted(self.rewrites_applied.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
            out.append("  rewrites applied: " + ", ".join(f"{k} x{v}" for k, v in top))
        per_call = self.fct_call_time / self.fct_callcount if self.fct_callcount else 0.0
        out.append(f"  calls: {self.fct_callcount}, total call time {self.fct_call_time:.3e}s "
                   f"({per_call:.3e}s per call)")
        if self.tier_calls:
            out.append("  tiers: " + ", ".join(f"{k} {v} call{'s' if v != 1 else ''}"
                                               for k, v in self.tier_calls.items()))
        if self.object_mode_nodes:
            names = sorted({str(n.op) for n in self.object_mode_nodes})
            out.append("  object mode (Python perform inside numba.objmode, not compiled): " + ", ".join(names))
        node_total = self.total_node_time
        if self.fct_call_time > 0:
            share = 100.0 * node_total / self.fct_call_time
            out.append(f"  time in nodes: {node_total:.3e}s ({share:.1f}% of call time; the rest is "
                       "input checking and interpreter overhead)")
        if not self.apply_time:
            out.append("  (no per-node timings: the function was not called, or its linker runs the "
                       "graph as a single unit)")
            return "\n".join(out) + "\n"

        out.append("")
        out.append("Op classes")
        out.append("----------")
        out.append(f"  {'%time':>6}  {'time(s)':>10}  {'per call':>10}  {'calls':>7}  {'nodes':>5}  class")
        for s in self.op_class_table()[:n_ops_to_print]:
            out.append(f"  {s.percent:5.1f}%  {s.time:10.3e}  {s.time_per_call:10.3e}  {s.calls:7d}  "
                       f"{s.n_nodes:5d}  {s.name}")
        out.append("")
        out.append("Ops")
        out.append("---")
        out.append(f"  {'%time':>6}  {'time(s)':>10}  {'per call':>10}  {'calls':>7}  {'nodes':>5}  op")
        for s in self.op_table()[:n_ops_to_print]:
            out.append(f"  {s.percent:5.1f}%  {s.time:10.3e}  {s.time_per_call:10.3e}  {s.calls:7d}  "
                       f"{s.n_nodes:5d}  {s.name}")
        out.append("")
        out.append("Apply nodes")
        out.append("-----------")
        out.append(f"  {'%time':>6}  {'time(s)':>10}  {'per call':>10}  {'calls':>7}  {'#':>4}  node (input shapes)")
        for r in self.node_table()[:n_apply_to_print]:
            shapes = ", ".join("?" if s is None else str(s) for s in r.input_shapes)
            mark = "  [object mode]" if r.node in self.object_mode_nodes else ""
            out.append(f"  {r.percent:5.1f}%  {r.time:10.3e}  {r.time_per_call:10.3e}  {r.calls:7d}  "
                       f"{r.index:4d}  {r.op}({shapes}){mark}")
        return "\n".join(out) + "\n"

    def summary(self, file=None, n_ops_to_print=20, n_apply_to_print=20):
        """Print the text report to ``file`` (stdout by default); ``file="str"`` returns it."""
        text = self.summary_text(n_ops_to_print, n_apply_to_print)
        if file == "str":
            return text
        (sys.stdout if file is None else file).write(text)
        return None

    def __repr__(self):
        return (f"<ProfileStats {self.name or ''} calls={self.fct_callcount} "
                f"call_time={self.fct_call_time:.3e}s compile_time={self.compile_time:.3e}s>")

"""The Python VM: run a FunctionGraph by calling each node's ``perform``.

Linking does all the bookkeeping once: the execution order, one storage cell
(a one-element list) per variable, each node's input and output cells, which
intermediate values can be freed after their last use, and which destroyed
inputs must be copied first because they belong to the caller.  A call then
only walks a flat list of steps.

Linker API shared with other backends:
``linker.make_thunk(fgraph, profile=None) -> thunk``, where
``thunk(list_of_input_values) -> list_of_output_values`` (one value per
``fgraph.inputs`` / ``fgraph.outputs`` entry).
"""

from __future__ import annotations

import copy
import time

import numpy as np

from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.runtime_errors import node_error
from opgraph.kernel_core.compile.supervisor import Supervisor, destroyed_roots, view_roots

__all__ = ["VMLinker", "VMThunk", "schedule"]


def schedule(fgraph):
    """Execution order: a toposort that also honours features' ``orderings``.

    A destroy handler says "run the readers of x before the node that
    overwrites x" through ``feature.orderings(fgraph) -> {node: [nodes before]}``.
    """
    order = fgraph.toposort()
    extra = {}
    for feature in fgraph.features:
        get = getattr(feature, "orderings", None)
        if get is None:
            continue
        for node, before in (get(fgraph) or {}).items():
            extra.setdefault(node, set()).update(before)
    if not extra:
        return order
    # Kahn's algorithm over data + extra edges, preferring the plain toposort
    # order among ready nodes so the schedule stays stable and readable.
    position = {node: i for i, node in enumerate(order)}
    preds = {node: set() for node in order}
    for node in order:
        for inp in node.inputs:
            if inp.owner is not None and inp.owner in preds:
                preds[node].add(inp.owner)
        for b in extra.get(node, ()):
            if b in preds and b is not node:
                preds[node].add(b)
    succs = {node: [] for node in order}
    for node, ps in preds.items():
        for p in ps:
            succs[p].append(node)
    import heapq

    remaining = {node: len(ps) for node, ps in preds.items()}
    ready = [(position[n], n) for n, k in remaining.items() if k == 0]
    heapq.heapify(ready)
    result = []
    while ready:
        _, node = heapq.heappop(ready)
        result.append(node)
        for s in succs[node]:
            remaining[s] -= 1
            if remaining[s] == 0:
                heapq.heappush(ready, (position[s], s))
    if len(result) != len(order):
        raise ValueError("the graph's ordering constraints contain a cycle")
    return result


def _copy_value(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    return copy.copy(value)


class VMThunk:
    """A linked graph: call it with the input values, get the output values."""

    def __init__(self, fgraph, order, steps, input_cells, output_cells, clear_after, profile):
        self.fgraph = fgraph
        self.order = order
        self.steps = steps
        self.input_cells = input_cells
        self.output_cells = output_cells
        self.clear_after = clear_after
        self.profile = profile

    def __call__(self, input_values):
        if len(input_values) != len(self.input_cells):
            raise TypeError(f"the linked graph takes {len(self.input_cells)} input values, got {len(input_values)}")
        for cell, value in zip(self.input_cells, input_values):
            cell[0] = value
        try:
            if self.profile is None:
                self._run()
            else:
                self._run_profiled(self.profile)
            return [cell[0] for cell in self.output_cells]
        finally:
            # Outputs are handed to the caller: never let a later call write
            # into them, and do not keep the caller's arrays alive.
            for cell in self.clear_after:
                cell[0] = None

    def _run(self):
        for node, perform, in_cells, out_cells, copy_idx, free in self.steps:
            args = [c[0] for c in in_cells]
            for i in copy_idx:
                args[i] = _copy_value(args[i])
            try:
                perform(node, args, out_cells)
            except Exception as exc:
                self._fail(node, args, exc, out_cells)
            for c in free:
                c[0] = None

    def _run_profiled(self, profile):
        clock = time.perf_counter
        for node, perform, in_cells, out_cells, copy_idx, free in self.steps:
            args = [c[0] for c in in_cells]
            for i in copy_idx:
                args[i] = _copy_value(args[i])
            t0 = clock()
            try:
                perform(node, args, out_cells)
            except Exception as exc:
                self._fail(node, args, exc, out_cells)
            profile.add_node_time(node, clock() - t0, args)
            for c in free:
                c[0] = None

    @staticmethod
    def _fail(node, args, exc, out_cells):
        err = node_error(node, args, exc)
        # The short message already carries the original error; hide the
        # interpreter frames so the user sees a few lines, not a wall.
        err.__cause__ = None
        err.__suppress_context__ = True
        for c in out_cells:
            c[0] = None
        raise err


class VMLinker:
    """Links a FunctionGraph into a ``VMThunk`` that calls each node's ``perform``.

    ``allow_gc``: free each intermediate right after its last use (memory
    stays bounded by the live set); with False intermediates stay in their
    cells between calls so ops that reuse ``output_storage`` can do so.
    """

    name = "vm"

    def __init__(self, allow_gc=True):
        self.allow_gc = allow_gc

    def __repr__(self):
        return "VMLinker()" if self.allow_gc else "VMLinker(allow_gc=False)"

    def make_thunk(self, fgraph, profile=None):
        order = schedule(fgraph)
        if profile is not None:
            profile.set_graph(fgraph, order)
        cells = {}
        for var in fgraph.inputs:
            cells[var] = [None]

        def cell_of(var):
            c = cells.get(var)
            if c is None:
                c = [var.data] if isinstance(var, Constant) else [None]
                cells[var] = c
            return c

        for node in order:
            for out in node.outputs:
                cells.setdefault(out, [None])
        input_cells = [cells[v] for v in fgraph.inputs]
        output_cells = [cell_of(v) for v in fgraph.outputs]

        # What must never be overwritten in place: caller-owned inputs (unless
        # declared mutable), constants, and values returned as outputs.
        supervisor = fgraph.get_feature(Supervisor)
        protected = set(fgraph.outputs)
        if supervisor is None:
            protected.update(fgraph.inputs)
        else:
            protected.update(supervisor.protected)
        roots = view_roots(order)

        last_use = {}
        for k, node in enumerate(order):
            for inp in node.inputs:
                last_use[inp] = k
        keep = set(fgraph.inputs) | set(fgraph.outputs)
        free_at = [[] for _ in order]
        if self.allow_gc:
            for var, k in last_use.items():
                if var.owner is not None and var not in keep:
                    free_at[k].append(cells[var])
            # Outputs nobody reads (other outputs of multi-output nodes).
            for k, node in enumerate(order):
                for out in node.outputs:
                    if out not in last_use and out not in keep:
                        free_at[k].append(cells[out])

        steps = []
        for k, node in enumerate(order):
            copy_idx = sorted({i for i, var in destroyed_roots(node, roots)
                               if var in protected or isinstance(var, Constant)})
            steps.append((node, node.op.perform, [cell_of(v) for v in node.inputs],
                          [cells[o] for o in node.outputs], tuple(copy_idx), tuple(free_at[k])))

        clear_after = list(input_cells) + [cells[v] for v in fgraph.outputs if v.owner is not None]
        return VMThunk(fgraph, order, steps, input_cells, output_cells, clear_after, profile)

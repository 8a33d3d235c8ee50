"""The graph function of the generated-Python backend: one ``def`` for a whole FunctionGraph.

    def opgraph_py(i0, i1):
        with _np_errstate(all="ignore"):
            # 0: Elemwise{exp}
            v0_0 = _0_exp1(i1)
            # 1: Sum{axes=None}
            ...
        return [v0_0, v1_0]

Nodes run in the VM's schedule (``vm.schedule``), each as its rule's statements
(``dispatch.py``).  Bookkeeping the VM does per call is done here once: a
destroyed input the caller owns (or a constant) is copied right before the
node that overwrites it; an intermediate is dropped (``del``) after its last
use, so memory stays bounded by the live set as under the VM.  Runs of nodes
that compute under ``errstate(all="ignore")`` share one ``with`` block.  A
failure is reported naming the node (``GraphFunction.explain``): the line of
the generated code says which node ran, its frame holds the node's inputs.
"""

from __future__ import annotations

import copy
import linecache
from dataclasses import dataclass

import numpy as np

from opgraph.kernel_core.backends.python.dispatch import (ERRSTATE_ANY, ERRSTATE_CALLER, ERRSTATE_IGNORE, Kernel,
                                                          KernelNames, load_rules, python_funcify)
from opgraph.kernel_core.compile.supervisor import Supervisor, destroyed_roots, view_roots
from opgraph.kernel_core.graph.basic import Constant

GRAPH_FUNCTION = "opgraph_py"


def _copy_value(value):
    # As the VM copies a destroyed input it must not overwrite.
    if isinstance(value, np.ndarray):
        return value.copy()
    return copy.copy(value)


@dataclass
class GraphFunction:
    """The generated function and what reports about it need."""

    fn: object            # opgraph_py(*input values) -> list of output values
    source: str
    order: list           # the scheduled nodes
    line_node: dict       # line number of the source -> position in ``order``
    node_inputs: list     # per node: the expressions of its input values
    globals: dict

    def explain(self, exc):
        """The VM's error for ``exc`` raised inside ``fn`` (naming the node), or None."""
        from opgraph.kernel_core.runtime_errors import node_error

        tb = exc.__traceback__
        frame = lineno = None
        while tb is not None:
            if tb.tb_frame.f_code is self.fn.__code__:
                frame, lineno = tb.tb_frame, tb.tb_lineno
            tb = tb.tb_next
        if frame is None or lineno not in self.line_node:
            return None
        k = self.line_node[lineno]
        local = frame.f_locals
        args = [local[e] if e in local else self.globals.get(e) for e in self.node_inputs[k]]
        err = node_error(self.order[k], args, exc)
        err.__cause__ = None
        err.__suppress_context__ = True
        return err


def generate(fgraph, strict_inputs=False):
    """The ``GraphFunction`` computing ``fgraph``.

    ``strict_inputs``: tensor inputs must be ndarrays of exactly their dtype and ndim
    (what the Numba backend's compiled signature accepts; the Python tier of mode
    NUMBA must not accept calls the Numba tier refuses after the switch)."""
    from opgraph.kernel_core.compile.vm import schedule

    load_rules()
    order = schedule(fgraph)
    names = {v: f"i{k}" for k, v in enumerate(fgraph.inputs)}
    glb = {"_np_errstate": np.errstate, "_copy_value": _copy_value}

    def name_of(v):
        n = names.get(v)
        if n is None:
            if not isinstance(v, Constant):
                raise ValueError(f"python codegen: variable {v} is used before it is computed")
            n = names[v] = f"_c{len(names)}"
            glb[n] = v.data   # the VM's cells hold the constant's data itself
        return n

    sup = fgraph.get_feature(Supervisor)
    protected = set(fgraph.outputs) | (set(fgraph.inputs) if sup is None else set(sup.protected))
    roots = view_roots(order)
    last_use = {}
    for k, node in enumerate(order):
        for v in node.inputs:
            last_use[v] = k
    keep = set(fgraph.inputs) | set(fgraph.outputs)

    body = []            # (indent level, text, node position or None)
    # Tensor inputs must be arrays: with trust_input=True nothing checked them, and a
    # list would often compute something (the VM happens to fail on it, Numba refuses it).
    from opgraph.kernel_core.tensor.type import TensorType

    glb["_ndarray"], glb["_generic"] = np.ndarray, np.generic
    for k, v in enumerate(fgraph.inputs):
        if isinstance(v.type, TensorType) and strict_inputs:
            glb[f"_dt{k}"] = np.dtype(v.type.dtype)
            ok = f"type(i{k}) is _ndarray and i{k}.dtype == _dt{k} and i{k}.ndim == {v.type.ndim}"
        elif isinstance(v.type, TensorType):
            ok = f"type(i{k}) is _ndarray" if v.type.ndim else f"isinstance(i{k}, (_ndarray, _generic))"
        if isinstance(v.type, TensorType):
            body.append((1, f"if not ({ok}): raise TypeError('input {k}: expected an ndarray, got ' "
                            f"+ type(i{k}).__name__)", None))
    node_inputs = []
    in_block = False
    for k, node in enumerate(order):
        prefix = f"_{k}_"
        ins = [name_of(v) for v in node.inputs]
        copies = []
        for i, var in destroyed_roots(node, roots):
            if var in protected or isinstance(var, Constant):
                local = f"{prefix}copy{i}"
                copies.append(f"{local} = _copy_value({ins[i]})")
                ins[i] = local
        node_inputs.append(ins)
        outs = []
        for j, o in enumerate(node.outputs):
            names[o] = f"v{k}_{j}"
            outs.append(names[o])
        kernel = python_funcify(node.op, node, KernelNames(ins, outs, prefix))
        if not isinstance(kernel, Kernel):
            raise TypeError(f"python_funcify rule for {type(node.op).__name__} returned "
                            f"{type(kernel).__name__}, not a Kernel")
        for alias, obj in kernel.needs.items():
            if alias in glb and glb[alias] is not obj:
                raise ValueError(f"python_funcify rule for {type(node.op).__name__}: global {alias!r} "
                                 "already names another object")
            glb[alias] = obj
        if kernel.errstate == ERRSTATE_IGNORE and not in_block:
            body.append((1, 'with _np_errstate(all="ignore"):', None))
            in_block = True
        elif kernel.errstate == ERRSTATE_CALLER and in_block:
            in_block = False
        level = 2 if in_block else 1
        body.append((level, f"# {k}: {node.op}", None))
        for line in copies + kernel.lines:
            body.append((level, line, k))
        dead = [names[v] for v in node.inputs if last_use.get(v) == k and v.owner is not None and v not in keep]
        dead += [names[o] for o in node.outputs if o not in last_use and o not in keep]
        if dead:
            body.append((level, f"del {', '.join(dict.fromkeys(dead))}", k))
    rets = [name_of(v) for v in fgraph.outputs]
    params = [names[v] for v in fgraph.inputs]
    lines = [f"def {GRAPH_FUNCTION}({', '.join(params)}):"]
    line_node = {}
    for level, text, k in body:
        for part in text.split("\n"):
            lines.append("    " * level + part)
            if k is not None:
                line_node[len(lines)] = k
    lines.append(f"    return [{', '.join(rets)}]")
    source = "\n".join(lines) + "\n"
    filename = f"<opgraph-python-{id(fgraph):x}-{len(source)}>"
    code = compile(source, filename, "exec")
    # Tracebacks and inspect show the generated source.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = dict(glb)
    exec(code, namespace)
    fn = namespace[GRAPH_FUNCTION]
    return GraphFunction(fn=fn, source=source, order=order, line_node=line_node, node_inputs=node_inputs,
                         globals=namespace)


__all__ = ["GraphFunction", "generate", "GRAPH_FUNCTION", "ERRSTATE_ANY"]

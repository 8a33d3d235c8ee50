"""Short, precise runtime errors: the node, its input shapes and dtypes, and
the user's source line that built it."""

from __future__ import annotations

import numpy as np


def describe_value(v):
    arr = np.asarray(v) if not hasattr(v, "shape") else v
    return f"shape {tuple(arr.shape)} {arr.dtype}" if hasattr(arr, "dtype") else type(v).__name__


def source_of(var):
    trace = getattr(var.tag, "trace", None) if var is not None else None
    if not trace:
        return None
    filename, lineno, func = trace
    line = ""
    try:
        import linecache

        line = linecache.getline(filename, lineno).strip()
    except Exception:
        pass
    where = f"{filename}:{lineno}"
    return f"{where}: {line}" if line else where


class NodeRuntimeError(RuntimeError):
    """A node failed while computing; carries the node and the original error."""

    def __init__(self, message, node=None, original=None):
        super().__init__(message)
        self.node = node
        self.original = original


def node_error(node, inputs, exc):
    """Build a few-line error for a failure of ``node`` on ``inputs``."""
    shapes = ", ".join(describe_value(v) for v in inputs)
    lines = [f"{type(exc).__name__} in {node.op}: {exc}",
             f"  node inputs: {shapes}"]
    src = source_of(node.outputs[0])
    if src:
        lines.append(f"  built at {src}")
    err = NodeRuntimeError("\n".join(lines), node=node, original=exc)
    return err

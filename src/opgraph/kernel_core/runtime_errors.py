"""Short, precise runtime errors: the node, its input shapes and dtypes, and
the user's source line that built it.

A failure keeps its original exception type: ``node_error`` returns an
instance of a class derived from both the original type (``IndexError``,
``np.linalg.LinAlgError``, ...) and ``NodeRuntimeError``, so
``except IndexError`` around a compiled call still works and
``except NodeRuntimeError`` catches every node failure.  The derived classes
are made once per original type (``error_class``).
"""

from __future__ import annotations

import os
import sys
import types

import numpy as np

__all__ = ["NodeRuntimeError", "node_error", "error_class", "describe_value", "describe_inputs", "source_of",
           "without_internal_frames"]


def describe_value(v):
    arr = np.asarray(v) if not hasattr(v, "shape") else v
    return f"shape {tuple(arr.shape)} {arr.dtype}" if hasattr(arr, "dtype") else type(v).__name__


# Inputs listed one by one in a node error at most; a wider node (a Join of 10^4
# tensors) gets the first and last few and a count of each distinct description.
LISTED_INPUTS = 8


def describe_inputs(inputs):
    described = [describe_value(v) for v in inputs]
    if len(described) <= LISTED_INPUTS:
        return ", ".join(described)
    counts = {}
    for d in described:
        counts[d] = counts.get(d, 0) + 1
    kinds = [f"{n} x {d}" for d, n in counts.items()]
    if len(kinds) > 4:
        kinds = kinds[:3] + [f"{len(kinds) - 3} other kinds"]
    kinds = "; ".join(kinds)
    return (f"{len(described)} inputs: {', '.join(described[:LISTED_INPUTS - 2])}, ..., "
            f"{', '.join(described[-2:])} ({kinds})")


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
    """A node failed while computing; carries the node and the original error.

    Instances raised by compiled functions are also instances of the original
    error's type (see ``error_class``).
    """

    def __init__(self, message, node=None, original=None):
        # BaseException.__init__ directly: the original type's __init__ may
        # require other arguments (UnicodeDecodeError, custom errors).
        BaseException.__init__(self, message)
        self.node = node
        self.original = original

    def __str__(self):
        # One message for every derived class (KeyError would repr() it).
        return self.args[0] if self.args else ""

    def __reduce__(self):
        # Derived classes are made at run time and cannot be found by name:
        # a pickled error (sent from a worker process) is a NodeRuntimeError.
        return (NodeRuntimeError, (str(self),))


_classes = {}


def error_class(exc_type):
    """The class raised for a node failing with ``exc_type``: a subclass of both
    ``exc_type`` and ``NodeRuntimeError`` (None when Python cannot combine them,
    e.g. two exception types with different C layouts)."""
    if issubclass(exc_type, NodeRuntimeError):
        return exc_type
    cls = _classes.get(exc_type)
    if cls is None and exc_type not in _classes:
        try:
            # The original type first, so its __new__ builds the instance (OSError's
            # refuses any other); NodeRuntimeError's methods are copied in.
            cls = type(exc_type.__name__, (exc_type, NodeRuntimeError),
                       {"__module__": exc_type.__module__,
                        "__qualname__": getattr(exc_type, "__qualname__", exc_type.__name__),
                        "__doc__": f"{exc_type.__name__} raised by a node of a compiled graph.",
                        "__init__": NodeRuntimeError.__init__, "__str__": NodeRuntimeError.__str__,
                        "__reduce__": NodeRuntimeError.__reduce__})
        except TypeError:   # "multiple bases have instance lay-out conflict"
            cls = None
        _classes[exc_type] = cls
    return cls


def node_error(node, inputs, exc):
    """Build a few-line error for a failure of ``node`` on ``inputs``.

    The result is an instance of ``exc``'s own type (and of NodeRuntimeError);
    when the two types cannot be combined, ``exc`` itself is returned with the
    context added as a note.
    """
    if isinstance(exc, NodeRuntimeError):
        return exc   # already explained (a node running an inner compiled graph)
    shapes = describe_inputs(inputs)
    lines = [f"{type(exc).__name__} in {node.op}: {exc}",
             f"  node inputs: {shapes}"]
    src = source_of(node.outputs[0])
    if src:
        lines.append(f"  built at {src}")
    cls = error_class(type(exc))
    if cls is None:
        exc.add_note("\n".join(lines[1:]) + f"\n  (in {node.op})")
        return exc
    message = "\n".join(lines)
    try:
        err = cls.__new__(cls, message)
        NodeRuntimeError.__init__(err, message, node=node, original=exc)
    except Exception:   # a __new__ that needs other arguments: keep the original
        exc.add_note("\n".join(lines[1:]) + f"\n  (in {node.op})")
        return exc
    return err


# src/opgraph: frames in here are opgraph's machinery, not the user's code.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _package_dir(name):
    module = sys.modules.get(name)   # not imported: none of its frames can be on the stack
    return os.path.dirname(module.__file__) + os.sep if module is not None else None


def _internal_frame(filename, also=()):
    if filename.startswith(_PACKAGE_DIR) or filename.startswith("<opgraph"):
        return True   # opgraph's files, and the graph functions it generates
    return any(d is not None and filename.startswith(d) for d in (_package_dir("numba"), *also))


def _user_traceback(tb, also=()):
    """A copy of the traceback chain ``tb`` without opgraph's (and numba's) frames."""
    kept = []
    while tb is not None:
        if not _internal_frame(tb.tb_frame.f_code.co_filename, also):
            kept.append(tb)
        tb = tb.tb_next
    new = None
    for entry in reversed(kept):
        new = types.TracebackType(new, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return new


def without_internal_frames(exc):
    """``exc`` with its traceback reduced to the frames outside opgraph (and numba).

    A failing call of a compiled function is explained by its message (the node,
    its input shapes, the user's line that built it); the frames of the Function,
    linker and generated code between the user's call and that message are
    noise.  Frames of the user's own code (an Op's ``perform`` in their file) are
    kept.  An explained node error's chained internal exception is hidden too
    (its ``original`` attribute keeps it).
    """
    if isinstance(exc, NodeRuntimeError):
        exc.__suppress_context__ = True
    return exc.with_traceback(_user_traceback(exc.__traceback__))


def _render_traceback_(self):
    """IPython's hook for an exception to format its own traceback: the user's frames and
    the message.  (IPython's ``__tracebackhide__`` never hides the innermost frame, which
    for a compiled call is always opgraph's ``Function.__call__``.)  The shell's own frames
    (IPython's run_code) go too; without IPython this is never called."""
    import traceback

    tb = _user_traceback(self.__traceback__, also=(_package_dir("IPython"),))
    text = "".join(traceback.format_exception(type(self), self, tb, chain=False))
    return text.rstrip("\n").splitlines()


NodeRuntimeError._render_traceback_ = _render_traceback_

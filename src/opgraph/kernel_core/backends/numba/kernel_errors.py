"""Exceptions raised by generated njit code with run-time values, formatted in Python.

A message built inside njit code (``'index ' + str(i) + ...``) makes numba compile
``str`` of an integer: ~2 s CPU per function, cold (benchmarks/RESULTS.md, "Compile
latency of error paths").  Instead the generated code raises one of these classes
with the values as arguments (numba boxes them, which is cheap to compile) and
``__str__`` formats the message here, in Python, when somebody reads it.

The classes are named like the builtins they derive from, so an error reads
exactly as before (``IndexError in Subtensor{i}: index 7 is out of bounds for axis
0 with size 5``) and ``except IndexError`` catches it.  Generated modules import
them by name (they stay disk-cacheable: numba pickles an exception class by
reference).  Pure Python: never imports numba.
"""

from __future__ import annotations

import builtins

__all__ = ["IndexError", "ValueError"]


def _shape_text(shape):
    return str(tuple(int(d) for d in shape))


class _ReadsAsBuiltin:
    """Subclasses (runtime_errors.error_class derives one per class to add the node's
    context) print as the builtin in a traceback (``IndexError: ...``, not this module's
    path), like every other node failure.  These classes themselves keep their module:
    numba's disk cache pickles them by reference."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("_keep_module"):
            cls.__module__ = "builtins"


class IndexError(_ReadsAsBuiltin, builtins.IndexError):  # noqa: A001 - named like the builtin on purpose (see above)
    """Raised as ``IndexError(index, axis, size)``: NumPy's out-of-bounds message."""

    _keep_module = True

    def __str__(self):
        if len(self.args) == 3:
            index, axis, size = self.args
            return f"index {index} is out of bounds for axis {axis} with size {size}"
        return super().__str__()


class ValueError(_ReadsAsBuiltin, builtins.ValueError):  # noqa: A001 - named like the builtin on purpose (see above)
    """Raised as ``ValueError(source_shape, target_shape)``: NumPy's broadcast message
    for an assignment of an array into a (sub)array of another shape; or as
    ``ValueError("elemwise", input_shapes, static_pattern)`` by an Elemwise loop whose
    inputs' lengths disagree (``static_pattern``: per input, "1"/"0" per axis for a
    declared length 1 or not, "|"-separated), with the message PYTHON mode gives."""

    _keep_module = True

    def __str__(self):
        if len(self.args) == 3 and self.args[0] == "elemwise":
            from opgraph.kernel_core.tensor.elemwise import runtime_broadcast_message, runtime_broadcast_problem

            _, shapes, pattern = self.args
            static_one = [[c == "1" for c in part] for part in pattern.split("|")]
            shapes = [tuple(int(n) for n in shape) for shape in shapes]
            problem = runtime_broadcast_problem(static_one, shapes)
            if problem is not None:
                return runtime_broadcast_message(*problem, shapes=shapes)
        if len(self.args) == 2:
            source, target = self.args
            return (f"could not broadcast input array from shape {_shape_text(source)} "
                    f"into shape {_shape_text(target)}")
        return super().__str__()

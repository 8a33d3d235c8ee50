"""Per-Op rules of the generated-Python backend: the dispatch table and the perform adapter.

A rule is registered on an Op class with ``@python_funcify.register(OpClass)`` and
has the signature ``rule(op, node, names) -> Kernel``: given the names of the
node's input values (``names.inputs``) and of its outputs (``names.outputs``) it
returns the statements computing the outputs, plus the global objects those
statements refer to (``Kernel.needs``: alias -> object).  The graph function
(``codegen.py``) pastes the statements one node after the other, so a call runs
no per-node Python machinery at all.

The generated code must give exactly what the Python VM gives (which calls each
node's ``perform``): same dtypes, shapes, values, aliasing.  Rules therefore
spell out what ``perform`` does, with what is known at link time (static dtypes
and shapes) taken out of the run; where a rare path (an error, a run-time
check failing) would need more code, the rule calls ``perform`` itself on that
path, so messages are the VM's own.

Ops without a rule run their ``perform`` through ``perform_kernel``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import singledispatch

import numpy as np

__all__ = ["Kernel", "KernelNames", "python_funcify", "perform_kernel", "has_python_rule",
           "load_rules", "ERRSTATE_IGNORE", "ERRSTATE_ANY", "ERRSTATE_CALLER"]

# What NumPy floating-point error state a kernel's statements need.  The graph
# function enters ``np.errstate(all="ignore")`` once around runs of kernels that
# allow it (one ``errstate`` costs about as much as a small ufunc call).
ERRSTATE_IGNORE = "ignore"   # computed as Elemwise.perform does, under errstate(all="ignore")
ERRSTATE_ANY = "any"         # no floating-point work (views, shapes): either state
ERRSTATE_CALLER = "caller"   # the caller's state, as the VM runs it (perform of any op)


@dataclass
class Kernel:
    """What one node's rule returns: statements and the globals they read."""

    lines: list                               # statements (no indentation), assigning every output name
    needs: dict = field(default_factory=dict)  # alias -> object the statements read as a global
    errstate: str = ERRSTATE_CALLER


class KernelNames:
    """The names a rule writes its statements with.

    ``inputs``: expressions of the input values (local names or global
    aliases of constants); ``outputs``: the local names to assign.
    ``local(hint)`` / ``alias(hint)`` give fresh names private to the node.
    """

    def __init__(self, inputs, outputs, prefix):
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self._prefix = prefix
        self._count = 0

    def local(self, hint="t"):
        self._count += 1
        return f"{self._prefix}{hint}{self._count}"

    def alias(self, hint="g"):
        self._count += 1
        return f"_{self._prefix}{hint}{self._count}"


@singledispatch
def python_funcify(op, node, names):
    """The ``Kernel`` computing ``node`` (see the module docstring)."""
    return perform_kernel(op, node, names)


def perform_kernel(op, node, names):
    """Run ``op.perform`` as the VM does: fresh one-element output cells, read back."""
    perform, node_alias = names.alias("perform"), names.alias("node")
    store = names.local("s")
    cells = ", ".join("[None]" for _ in node.outputs)
    lines = [f"{store} = [{cells}]",
             f"{perform}({node_alias}, [{', '.join(names.inputs)}], {store})"]
    lines += [f"{o} = {store}[{j}][0]" for j, o in enumerate(names.outputs)]
    return Kernel(lines, {perform: op.perform, node_alias: node})


def has_python_rule(op):
    return python_funcify.dispatch(type(op)) is not python_funcify.dispatch(object)


def load_rules():
    """Import every rule module so its ``register`` calls run."""
    import importlib

    for family in ("elemwise", "basic_ops"):
        importlib.import_module(f"opgraph.kernel_core.backends.python.{family}")


def dtype_alias(names, needs, dtype):
    """A global alias for ``np.dtype(dtype)`` (comparisons and casts read it)."""
    alias = names.alias("dt")
    needs[alias] = np.dtype(dtype)
    return alias

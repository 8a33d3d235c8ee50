"""The bipartite graph: Variable -> Apply -> Variable.

A ``Variable`` is a typed placeholder; its ``owner`` is the ``Apply`` that
computes it (None for root inputs).  An ``Apply`` is one application of an
``Op`` to input variables.  ``Constant`` is a root variable with fixed data.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import sys

import numpy as np

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_counter = itertools.count()


class Tag(dict):
    """A free-form annotation bag; attributes and items are the same thing."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value


# Standard-library frames between opgraph and its own code (a singledispatch
# wrapper calling a logprob rule, a contextmanager): never the user's line.
_PLUMBING_FILES = frozenset(os.path.abspath(m.__file__) for m in (functools, contextlib))
# Files user_source_line has found to be opgraph's or plumbing (a few hundred at most).
_INTERNAL_FILES = set()


def user_source_line():
    """(filename, lineno, function) of the first stack frame outside opgraph
    (and outside the standard library's dispatch plumbing, ``_PLUMBING_FILES``).

    Stored on every new variable so a runtime failure can point at the line of
    user code that built the failing node.  Walks frames without building a
    full traceback, so it stays cheap for graphs of 10^5 nodes.
    """
    frame = sys._getframe(1)
    internal = _INTERNAL_FILES
    while frame is not None:
        code = frame.f_code
        filename = code.co_filename
        # Most frames walked are opgraph's own: a set lookup (the string's hash
        # is cached) instead of a prefix test for each of them.
        if filename not in internal:
            if not filename.startswith(_PACKAGE_DIR) and filename not in _PLUMBING_FILES:
                return (filename, frame.f_lineno, code.co_name)
            internal.add(filename)
        frame = frame.f_back
    return None


class Node:
    """Common base of Variable and Apply (so traversals can mix them)."""

    __slots__ = ()


class Variable(Node):
    """A typed symbolic value: a graph input, a constant, or an op output."""

    def __init__(self, type, owner=None, index=None, name=None, *, _tag=None):
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        if _tag is None:
            trace = user_source_line()
            # Tag(trace=...) fills the dict in C; tag.trace = ... would run Tag.__setattr__.
            _tag = Tag() if trace is None else Tag(trace=trace)
        # A maker that already has the tag (a clone's copy, the trace of a constant
        # made for the same node) passes _tag and saves the stack walk.
        self.tag = _tag
        self.auto_name = f"auto_{next(_counter)}"

    # -- printing ---------------------------------------------------------
    def __str__(self):
        if self.name is not None:
            return self.name
        if self.owner is not None:
            return f"{self.owner.op}.{self.index}"
        return f"<{self.type.short_str()}>"

    __repr__ = __str__

    # -- graph helpers ----------------------------------------------------
    def clone(self, name=None):
        """A new root variable of the same type (and class) with no owner."""
        cls = self.__class__
        name = self.name if name is None else name
        if cls.__init__ is Variable.__init__:
            return cls(self.type, None, None, name, _tag=Tag(self.tag))
        cp = cls(self.type, None, None, name)
        cp.tag = Tag(self.tag)
        return cp

    def get_parents(self):
        return [self.owner] if self.owner is not None else []

    def eval(self, inputs_to_values=None):
        from opgraph.kernel_core.evaluate import evaluate

        return evaluate([self], inputs_to_values or {})[0]

    def dprint(self, **kwargs):
        from opgraph.kernel_core.printing.dprint import dprint

        return dprint(self, **kwargs)


def _frozen(data, given):
    """``data`` (``given`` after filtering) as an array nobody can write.

    A constant's data must not change under the graph (merging, folding), and the
    caller's array must not change either: freezing it in place would turn the
    user's own array read-only.  So an array that may share memory with what the
    caller gave is copied, unless it is read-only and owns its memory (another
    constant's data, a clone); a fresh array (from a list, a cast) is frozen as is.
    """
    if not isinstance(data, np.ndarray):
        return data
    callers = data is given or (isinstance(given, np.ndarray) and np.may_share_memory(data, given))
    if callers and (data.flags.writeable or data.base is not None):
        data = data.copy()
    data.setflags(write=False)
    return data


class Constant(Variable):
    """A root variable holding immutable data."""

    def __init__(self, type, data, name=None):
        super().__init__(type, None, None, name)
        self.data = _frozen(type.filter(data), data)

    @classmethod
    def _from_valid_data(cls, type, data, name=None, _tag=None):
        """A constant of ``data`` that its maker guarantees is already what
        ``type.filter`` returns and read-only, and that no caller holds: the hot
        constructors (Python scalars in ``tensor.basic.constant``, clones) skip
        the filter and the defensive copy of ``__init__``."""
        self = cls.__new__(cls)
        Variable.__init__(self, type, None, None, name, _tag=_tag)
        self.data = data
        return self

    def __str__(self):
        if self.name is not None:
            return self.name
        return self.type.constant_str(self.data)

    __repr__ = __str__

    def signature(self):
        """What two constants must share to be merged: type and value."""
        return (self.type, self.type.data_key(self.data))

    def clone(self, name=None):
        cls = self.__class__
        name = self.name if name is None else name
        data = self.data
        if cls.__init__ is Constant.__init__ and isinstance(data, np.ndarray) and not data.flags.writeable:
            # The data __init__ filtered and froze: the clone shares it as it is.
            return cls._from_valid_data(self.type, data, name, _tag=Tag(self.tag))
        cp = cls(self.type, data, name)
        cp.tag = Tag(self.tag)
        return cp

    @property
    def value(self):
        return self.data

    def get_parents(self):
        return []


class Apply(Node):
    """One application of ``op`` to ``inputs`` producing ``outputs``."""

    def __init__(self, op, inputs, outputs):
        self.op = op
        self.inputs = list(inputs)
        for i, inp in enumerate(self.inputs):
            if not isinstance(inp, Variable):
                raise TypeError(f"{op}: input {i} is a {type(inp).__name__}, not a Variable")
        self.outputs = []
        for i, out in enumerate(outputs):
            if not isinstance(out, Variable):
                raise TypeError(f"{op}: output {i} is a {type(out).__name__}, not a Variable")
            if out.owner is None:
                out.owner = self
                out.index = i
            elif out.owner is not self or out.index != i:
                raise ValueError(f"{op}: output {i} already belongs to another Apply")
            self.outputs.append(out)
        self.tag = Tag()

    def __str__(self):
        return f"{self.op}({', '.join(str(i) for i in self.inputs)})"

    __repr__ = __str__

    @property
    def out(self):
        if len(self.outputs) != 1:
            raise AttributeError(f"{self.op} has {len(self.outputs)} outputs; use .outputs")
        return self.outputs[0]

    @property
    def nin(self):
        return len(self.inputs)

    @property
    def nout(self):
        return len(self.outputs)

    def get_parents(self):
        return list(self.inputs)

    def clone(self):
        """A copy with the same inputs and fresh outputs."""
        outputs = [o.clone() for o in self.outputs]
        for o in outputs:
            o.owner = None
        node = Apply(self.op, self.inputs, outputs)
        node.tag = Tag(self.tag)
        for new, old in zip(node.outputs, self.outputs):
            new.tag = Tag(old.tag)
        return node

    def clone_with_new_inputs(self, inputs, strict=True):
        """Rebuild this node on new inputs.

        With ``strict`` the new inputs must have the old types (converted when
        the type allows it) and the outputs keep their types; otherwise the op
        re-infers output types through ``make_node``.
        """
        if len(inputs) != len(self.inputs):
            raise ValueError(f"{self.op} takes {len(self.inputs)} inputs, got {len(inputs)}")
        if strict:
            new_inputs = []
            for old, new in zip(self.inputs, inputs):
                if old.type != new.type:
                    new = old.type.convert_variable(new)
                    if new is None:
                        return self.op.make_node(*inputs)
                new_inputs.append(new)
            outputs = [o.type.make_variable_with_tag(Tag(o.tag), name=o.name) for o in self.outputs]
            node = Apply(self.op, new_inputs, outputs)
        else:
            node = self.op.make_node(*inputs)
            for new, old in zip(node.outputs, self.outputs):
                if new.name is None:
                    new.name = old.name
        node.tag = Tag(self.tag)
        return node


def as_variable_list(x):
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


# The public names: everything defined here (PyTensor's module re-exports them).
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and getattr(_v, "__module__", None) == __name__]

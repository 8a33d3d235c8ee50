"""``In`` / ``Out``: how a compiled function treats one of its inputs or outputs.

``In`` says whether the caller's array may be overwritten (``mutable``), whether
a default value lets the caller omit the argument (``value``), under which name
it can be passed as a keyword, and whether unsafe dtype conversions are allowed
(``allow_downcast``).  ``Out`` says whether the caller may receive an array the
function may still hold on to (``borrow``) instead of a fresh one.
"""

from __future__ import annotations

from opgraph.kernel_core.graph.basic import Constant, Variable

__all__ = ["In", "Out"]


class In:
    """An input of ``opgraph.function`` with its calling conventions."""

    def __init__(self, variable, name=None, value=None, mutable=False, borrow=False,
                 allow_downcast=None):
        if isinstance(variable, In):
            raise TypeError("In(...) got another In; pass the Variable itself")
        if not isinstance(variable, Variable):
            raise TypeError(f"In expects a symbolic Variable, got {type(variable).__name__}")
        if isinstance(variable, Constant):
            raise TypeError(f"In: {variable} is a constant; constants cannot be function inputs")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"In: name must be a string, got {type(name).__name__}")
        self.variable = variable
        self.name = variable.name if name is None else name
        self.value = value
        self.mutable = bool(mutable)
        # A mutable input is handed to the graph as is, which implies borrowing.
        self.borrow = bool(borrow) or self.mutable
        self.allow_downcast = allow_downcast

    @property
    def has_default(self):
        return self.value is not None

    def __repr__(self):
        extras = []
        if self.value is not None:
            extras.append(f"value={self.value!r}")
        if self.mutable:
            extras.append("mutable=True")
        if self.borrow and not self.mutable:
            extras.append("borrow=True")
        if self.allow_downcast:
            extras.append("allow_downcast=True")
        return f"In({self.variable}{''.join(', ' + e for e in extras)})"


class Out:
    """An output of ``opgraph.function``; ``borrow=True`` skips the defensive copy."""

    def __init__(self, variable, borrow=False):
        if isinstance(variable, Out):
            raise TypeError("Out(...) got another Out; pass the Variable itself")
        if not isinstance(variable, Variable):
            raise TypeError(f"Out expects a symbolic Variable, got {type(variable).__name__}")
        self.variable = variable
        self.borrow = bool(borrow)

    def __repr__(self):
        return f"Out({self.variable}{', borrow=True' if self.borrow else ''})"

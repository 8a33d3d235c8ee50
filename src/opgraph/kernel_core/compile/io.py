"""``In`` / ``Out``: how a compiled function treats one of its inputs or outputs.

``In`` says whether the caller's array may be overwritten (``mutable``), whether
a default value lets the caller omit the argument (``value``) and is replaced
after each call (``update``), under which name it can be passed as a keyword,
whether it must already have the exact type (``strict``) and whether unsafe
dtype conversions are allowed (``allow_downcast``).  ``Out`` says whether the
caller may receive an array the function may still hold on to or overwrite in a
later call (``borrow``) instead of a fresh one.
"""

from __future__ import annotations

from opgraph.kernel_core.graph.basic import Constant, Variable

__all__ = ["In", "Out"]


class In:
    """An input of ``opgraph.function`` with its calling conventions (PyTensor's ``In``).

    ``value``: a default, used when the caller omits the argument.
    ``update``: an expression replacing that value after every call (the value
    then "sticks around": a counter, an accumulator); needs ``value``.
    ``mutable``: the function may overwrite the array it is given (default False).  ``borrow``: the function may keep or
    return the caller's array itself (implied by ``mutable``).  ``strict``: the
    argument must already have exactly the input's type (no conversion).
    ``implicit``: the caller may not pass this argument at all (needs ``value``).
    ``allow_downcast``: accept conversions that lose precision.
    """

    def __init__(self, variable, name=None, value=None, update=None, mutable=None, strict=False,
                 allow_downcast=None, autoname=True, implicit=None, borrow=None):
        if isinstance(variable, In):
            raise TypeError("In(...) got another In; pass the Variable itself")
        if not isinstance(variable, Variable):
            raise TypeError(f"In expects a symbolic Variable, got {type(variable).__name__}")
        if isinstance(variable, Constant):
            raise TypeError(f"In: {variable} is a constant; constants cannot be function inputs")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"In: name must be a string, got {type(name).__name__}")
        if update is not None and value is None:
            raise ValueError(f"In({variable}, update=...): an updated input needs an initial value= "
                             "(the value the first call uses and the update replaces)")
        if implicit and value is None:
            raise ValueError(f"In({variable}, implicit=True): an implicit input needs a value=")
        self.variable = variable
        self.name = variable.name if (name is None and autoname) else name
        self.value = value
        self.update = update
        # False unless asked (PyTensor's documented default): even with an update, a
        # caller's array passed for this input must stay intact.
        self.mutable = bool(mutable)
        if borrow is None:
            borrow = self.mutable
        elif self.mutable and not borrow:
            raise ValueError(f"In({variable}): mutable=True with borrow=False is contradictory (an input "
                             "the function may overwrite is also one it may keep)")
        self.borrow = bool(borrow)
        self.strict = bool(strict)
        self.implicit = bool(implicit)
        self.allow_downcast = allow_downcast

    @property
    def has_default(self):
        return self.value is not None

    def __repr__(self):
        extras = []
        if self.value is not None:
            extras.append(f"value={self.value!r}")
        if self.update is not None:
            extras.append(f"update={self.update}")
        if self.mutable:
            extras.append("mutable=True")
        if self.borrow and not self.mutable:
            extras.append("borrow=True")
        if self.strict:
            extras.append("strict=True")
        if self.implicit:
            extras.append("implicit=True")
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

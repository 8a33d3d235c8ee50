"""Shared variables: symbolic variables that carry their own value.

A ``SharedVariable`` is a root of the graph whose value lives in a
``Container`` kept in ``var.tag.shared_container`` (``Variable.clone`` copies
the tag, so every clone of a shared variable — e.g. inside a compiled
function's graph — still points at the same storage).  Compiled functions read
the value at each call and write ``updates`` back into it after the call.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Variable
from opgraph.kernel_core.tensor.type import TensorType
from opgraph.kernel_core.tensor.variable import TensorVariable

__all__ = ["Container", "SharedVariable", "TensorSharedVariable", "shared", "shared_constructor",
           "is_shared"]


class Container:
    """The storage cell of a shared variable: its current value and how to filter new ones."""

    def __init__(self, type, value, name=None, strict=False, allow_downcast=None):
        self.type = type
        self.name = name
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.value = value

    def filter(self, value):
        try:
            return self.type.filter(value, strict=self.strict, allow_downcast=self.allow_downcast)
        except (TypeError, ValueError) as exc:
            who = repr(self.name) if self.name else "shared variable"
            raise type(exc)(f"{who} ({self.type.short_str()}): {exc}") from None

    def __repr__(self):
        return f"Container({self.name or '?'}: {self.value!r})"


class SharedVariable(Variable):
    """A graph root with a value attached: ``get_value`` / ``set_value``."""

    # An expression for the value after each call of a function using this variable
    # (a random generator's next state); function() applies it unless the call
    # gives an explicit update or no_default_updates excludes it.
    default_update = None

    def __init__(self, type, owner=None, index=None, name=None, container=None, value=None,
                 strict=False, allow_downcast=None):
        super().__init__(type, owner, index, name)
        if container is None and value is not None:
            container = Container(type, type.filter(value, strict=strict, allow_downcast=allow_downcast),
                                  name=name, strict=strict, allow_downcast=allow_downcast)
        if container is not None:
            self.tag.shared_container = container

    @property
    def container(self):
        try:
            return self.tag.shared_container
        except AttributeError:
            raise AttributeError(f"shared variable {self} has no storage (it was not made by shared())") from None

    def get_value(self, borrow=False, return_internal_type=False):
        """The current value; a copy unless ``borrow=True``."""
        value = self.container.value
        if borrow:
            return value
        return value.copy() if hasattr(value, "copy") else value

    def set_value(self, new_value, borrow=False):
        """Store a new value (checked against the type; copied unless ``borrow=True``)."""
        container = self.container
        value = container.filter(new_value)
        if not borrow and value is new_value and hasattr(value, "copy"):
            value = value.copy()
        container.value = value


class TensorSharedVariable(TensorVariable, SharedVariable):
    """A shared variable holding a NumPy array; supports every tensor operator."""


def is_shared(var):
    """True for shared variables and for their clones inside compiled graphs."""
    return isinstance(var, Variable) and var.owner is None and "shared_container" in var.tag


_constructors = []


def shared_constructor(fn):
    """Register ``fn(value, name, strict, allow_downcast, borrow, **kwargs)``.

    Constructors are tried newest first; one that cannot handle the value
    raises TypeError.  Other value kinds (random generators, ...) plug in here.
    """
    _constructors.append(fn)
    return fn


@shared_constructor
def generic_shared(value, name=None, strict=False, allow_downcast=None, borrow=False, **kwargs):
    """The last resort (registered first, so tried last): any value that no array-like
    constructor takes -- a string, None, a list or dict -- as a GenericType variable,
    as PyTensor does.  The value is stored as given (not copied)."""
    from opgraph.kernel_core.graph.type import generic

    if isinstance(value, Variable):
        raise TypeError(f"shared() needs a value, not the symbolic variable {value}")
    if kwargs:
        raise TypeError(f"shared(): {', '.join(sorted(kwargs))} not supported for a {type(value).__name__} value")
    return SharedVariable(generic, name=name, container=Container(generic, value, name=name))


@shared_constructor
def tensor_shared(value, name=None, strict=False, allow_downcast=None, borrow=False, shape=None):
    if isinstance(value, Variable):
        raise TypeError(f"shared() needs a value, not the symbolic variable {value}")
    # Lists and tuples are generic values (PyTensor's rule): pass np.array(...) for a tensor.
    if not isinstance(value, (np.ndarray, np.generic, int, float, bool, complex)):
        raise TypeError(f"no tensor shared constructor for {type(value).__name__}")
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise TypeError("no tensor shared constructor for an object array")
        arr = value if borrow else value.copy()
    else:
        arr = np.array(value)
    if shape is None:
        shape = (None,) * arr.ndim
    ttype = TensorType(arr.dtype.name, shape=shape)
    arr = ttype.filter(arr, strict=strict, allow_downcast=allow_downcast)
    container = Container(ttype, arr, name=name, strict=strict, allow_downcast=allow_downcast)
    return TensorSharedVariable(ttype, name=name, container=container)


def shared(value, name=None, strict=False, allow_downcast=None, borrow=False, **kwargs):
    """A shared variable holding ``value`` (copied unless ``borrow=True``).

    ``opgraph.shared(np.zeros(3), name="w")``: a Vector(float64, shape=(?,))
    whose value compiled functions read at each call and ``updates`` replace.
    Pass ``shape=`` to fix static dimensions.
    """
    if name is not None and not isinstance(name, str):
        raise TypeError(f"shared(): name must be a string, got {type(name).__name__}")
    errors = []
    for ctor in reversed(_constructors):
        try:
            return ctor(value, name=name, strict=strict, allow_downcast=allow_downcast, borrow=borrow, **kwargs)
        except TypeError as exc:
            errors.append(str(exc))
    raise TypeError(f"shared(): cannot make a shared variable from {type(value).__name__} ({errors[-1]})")

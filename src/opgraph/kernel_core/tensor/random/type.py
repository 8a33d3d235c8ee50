"""Random generators as graph values: ``RandomGeneratorType`` and its variables.

A NumPy ``Generator`` is a value like an array: it enters a graph as a shared
variable (``shared(np.random.default_rng(1))``), a constant or an explicit
function input, and every random variable returns the advanced generator as
its first output (``next_rng``).  The state lives in the value, so drawing is
a pure function of the graph's inputs -- which is what makes seeding
reproducible and updates explicit.
"""

from __future__ import annotations

import copy

import numpy as np

from opgraph.kernel_core.compile.shared import Container, SharedVariable, shared_constructor
from opgraph.kernel_core.graph.basic import Constant, Variable
from opgraph.kernel_core.graph.type import Type

__all__ = ["RandomGeneratorType", "random_generator_type", "RandomGeneratorVariable",
           "RandomGeneratorConstant", "RandomGeneratorSharedVariable", "shared_rng", "generator_repr"]


def generator_repr(gen):
    """``<Generator(PCG64) at 0x...>``: how PyTensor prints a generator's container."""
    return f"<{gen!r}>"


class RandomGeneratorType(Type):
    """The type of ``np.random.Generator`` values (no static information: all are alike)."""

    # A compiled function may advance an updated shared generator in place (its next
    # state replaces it anyway): the inplace RNG rewrite relies on it (function_type.py).
    mutable_when_updated = True

    def numba_type(self):
        """The Numba type of the values (the Numba linker compiles eagerly with it)."""
        import numba

        return numba.typeof(np.random.default_rng(0))

    def filter(self, value, strict=False, allow_downcast=None):
        if isinstance(value, np.random.Generator):
            return value
        raise TypeError(f"expected a numpy.random.Generator, got {type(value).__name__}"
                        + (" (wrap a legacy RandomState's seed in np.random.default_rng)"
                           if isinstance(value, np.random.RandomState) else ""))

    def is_valid_value(self, value):
        return isinstance(value, np.random.Generator)

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(RandomGeneratorType)

    def __str__(self):
        return "RandomGeneratorType"

    __repr__ = __str__

    def short_str(self):
        return "RandomGeneratorType"

    def constant_str(self, data):
        return f"RNG({generator_repr(data)})"

    def data_key(self, data):
        # Two generator constants are the same value only when they are the same object
        # (equal states would still diverge once either is advanced).
        return (RandomGeneratorType, id(data))

    def values_eq(self, a, b):
        """Same bit-generator kind and state (what equal draws need)."""
        sa, sb = a.bit_generator.state, b.bit_generator.state
        return _state_eq(sa, sb)

    def values_eq_approx(self, a, b, **kwargs):
        return self.values_eq(a, b)


def _state_eq(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_state_eq(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return a == b


random_generator_type = RandomGeneratorType()


class RandomGeneratorVariable(Variable):
    """A symbolic generator.  PyTensor 3's functional form lives here:
    ``next_rng, draw = rng.normal(0, 1)`` (each distribution of ``basic.py``
    is a method, returning the advanced generator and the draw)."""

    def __getattr__(self, name):
        # The distribution methods (bound lazily: basic.py imports this module).
        if name.startswith("_"):
            raise AttributeError(name)
        from opgraph.kernel_core.tensor.random import basic

        dist = basic.DISTRIBUTIONS.get(name)
        if dist is None:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

        def method(*args, **kwargs):
            if "rng" in kwargs:
                raise TypeError(f"rng.{name}(...): the generator is {self}; do not pass rng=")
            return dist(*args, rng=self, return_next_rng=True, **kwargs)

        method.__name__ = name
        method.__doc__ = dist.__doc__
        return method


class RandomGeneratorConstant(RandomGeneratorVariable, Constant):
    def __init__(self, type, data, name=None):
        Constant.__init__(self, type, data, name=name)

    def __str__(self):
        return self.name if self.name is not None else self.type.constant_str(self.data)

    __repr__ = __str__


class RandomGeneratorSharedVariable(RandomGeneratorVariable, SharedVariable):
    """``shared(np.random.default_rng(seed))``; prints ``RNG(<Generator(PCG64) at 0x...>)``."""

    def __str__(self):
        if self.name is not None:
            return self.name
        return f"RNG({generator_repr(self.container.value)})"

    __repr__ = __str__

    def get_value(self, borrow=False, return_internal_type=False):
        value = self.container.value
        return value if borrow else copy.deepcopy(value)

    def set_value(self, new_value, borrow=False):
        value = self.container.filter(new_value)
        self.container.value = value if borrow else copy.deepcopy(value)


RandomGeneratorType.variable_class = RandomGeneratorVariable
RandomGeneratorType.constant_class = RandomGeneratorConstant


@shared_constructor
def _generator_shared(value, name=None, strict=False, allow_downcast=None, borrow=False, **kwargs):
    if not isinstance(value, np.random.Generator):
        raise TypeError(f"no generator shared constructor for {type(value).__name__}")
    if kwargs:
        raise TypeError(f"shared(): {', '.join(sorted(kwargs))} not supported for a Generator value")
    # PyTensor's rule: the shared variable owns a copy, so drawing never advances the caller's generator.
    value = value if borrow else copy.deepcopy(value)
    container = Container(random_generator_type, value, name=name, strict=strict)
    return RandomGeneratorSharedVariable(random_generator_type, name=name, container=container)


def shared_rng(seed=None, name=None):
    """A shared generator variable seeded with ``seed`` (PyTensor 3's ``pt.random.shared_rng``)."""
    return _generator_shared(np.random.default_rng(seed), name=name, borrow=True)

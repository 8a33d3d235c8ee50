"""Symbolic input constructors: ``tensor``, ``scalar``, ``vector``, ... and shortcuts."""

from __future__ import annotations

from opgraph.kernel_core.tensor.type import TensorType, resolve_dtype

__all__ = ["tensor", "scalar", "vector", "matrix", "row", "col", "tensor3", "tensor4", "tensor5"]


def tensor(name=None, shape=None, dtype=None, *, ndim=None, broadcastable=None):
    """A symbolic tensor input: ``pt.tensor("x", shape=(None, 3), dtype="float64")``."""
    if name is not None and not isinstance(name, str):
        raise TypeError(f"tensor name must be a string, got {type(name).__name__} (did you mean shape=...?)")
    if shape is None:
        if broadcastable is not None:
            shape = tuple(1 if b else None for b in broadcastable)
        elif ndim is not None:
            shape = (None,) * ndim
        else:
            raise TypeError("tensor() needs a shape (e.g. shape=(None, 3)) or ndim")
    elif ndim is not None and len(tuple(shape)) != ndim:
        raise ValueError(f"tensor {name!r}: shape {shape} does not have ndim={ndim}")
    return TensorType(resolve_dtype(dtype), shape).make_variable(name=name)


def _ranked(ndim, kind):
    def make(name=None, dtype=None, shape=None):
        if shape is None:
            shape = (None,) * ndim
        elif len(tuple(shape)) != ndim:
            raise ValueError(f"{kind} {name!r}: shape {tuple(shape)} is not {ndim}-dimensional")
        return tensor(name, shape=shape, dtype=dtype)

    make.__name__ = kind
    make.__doc__ = f"A symbolic {ndim}-d tensor input (default dtype config.floatX)."
    return make


scalar = _ranked(0, "scalar")
vector = _ranked(1, "vector")
matrix = _ranked(2, "matrix")
tensor3 = _ranked(3, "tensor3")
tensor4 = _ranked(4, "tensor4")
tensor5 = _ranked(5, "tensor5")


def row(name=None, dtype=None):
    return tensor(name, shape=(1, None), dtype=dtype)


def col(name=None, dtype=None):
    return tensor(name, shape=(None, 1), dtype=dtype)


_PREFIX = {"d": "float64", "f": "float32", "i": "int32", "l": "int64", "b": "int8",
           "c": "complex64", "z": "complex128", "w": "int16"}
# ``pt.dvector``, ``pt.irow``, ...: TensorTypes (as in PyTensor); calling one makes a variable.
_SHAPES = {"scalar": (), "vector": (None,), "matrix": (None, None), "row": (1, None), "col": (None, 1),
           "tensor3": (None,) * 3, "tensor4": (None,) * 4, "tensor5": (None,) * 5}

for _p, _dt in _PREFIX.items():
    for _k, _shape in _SHAPES.items():
        globals()[_p + _k] = TensorType(_dt, _shape)
        __all__.append(_p + _k)


def _plural(make, plural):
    """``pt.dscalars("x", "y")`` -> [x, y]; ``pt.dscalars(3)`` -> 3 unnamed; one name -> one variable.

    PyTensor's rules, except that a single string is one name (PyTensor splits
    ``dscalars("xy")`` into two one-letter names).
    """
    def make_many(*names):
        if len(names) == 1 and isinstance(names[0], (list, tuple)):
            names = tuple(names[0])
        if len(names) == 1 and isinstance(names[0], int) and not isinstance(names[0], bool):
            if names[0] < 0:
                raise ValueError(f"{plural}: the number of variables must be >= 0, got {names[0]}")
            return [make() for _ in range(names[0])]
        for n in names:
            if not isinstance(n, str):
                raise TypeError(f"{plural}: expected names (strings) or one count (int), got {n!r}")
        if len(names) == 1:
            return make(names[0])
        return [make(n) for n in names]

    make_many.__name__ = plural
    make_many.__doc__ = f"Several symbolic inputs at once: ``a, b = {plural}('a', 'b')`` or ``{plural}(2)``."
    return make_many


_PLURAL = {"scalar": "scalars", "vector": "vectors", "matrix": "matrices", "row": "rows", "col": "cols",
           "tensor3": "tensor3s", "tensor4": "tensor4s", "tensor5": "tensor5s"}

for _k, _pl in _PLURAL.items():
    # Unprefixed forms use config.floatX when called, like pt.scalar.
    globals()[_pl] = _plural(globals()[_k], _pl)
    __all__.append(_pl)
    for _p in _PREFIX:
        globals()[_p + _pl] = _plural(globals()[_p + _k], _p + _pl)
        __all__.append(_p + _pl)

"""TensorType: dtype plus static shape (None for an unknown dimension)."""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.config import config
from opgraph.kernel_core.graph.type import Type
from opgraph.kernel_core.scalar.type import check_dtype


def resolve_dtype(dtype):
    """The dtype name a user's spec means: None and "floatX" are ``config.floatX``.

    The ONE place floatX is resolved (constructors, cast, constants, TensorType),
    read at call time so ``config.floatX = "float32"`` takes effect at once.
    """
    if dtype is None or (isinstance(dtype, str) and dtype == "floatX"):
        return config.floatX
    return check_dtype(dtype)

_NDIM_NAMES = {0: "Scalar", 1: "Vector", 2: "Matrix"}


def _fmt_shape(shape, unknown):
    parts = [unknown if s is None else str(s) for s in shape]
    if len(parts) == 1:
        return f"({parts[0]},)"
    return "(" + ", ".join(parts) + ")"


class TensorType(Type):
    def __init__(self, dtype, shape=None, broadcastable=None):
        self.dtype = resolve_dtype(dtype)
        if shape is None:
            if broadcastable is None:
                raise TypeError("TensorType needs a shape (use None for unknown dimensions)")
            shape = tuple(1 if b else None for b in broadcastable)
        try:
            shape = tuple(shape)
        except TypeError:
            raise TypeError(f"shape must be a tuple of ints or None, got {shape!r}") from None
        norm = []
        for s in shape:
            if s is None:
                norm.append(None)
                continue
            if type(s) is int:  # the usual entry (bool is not int here): no isinstance chain
                if s < 0:
                    raise ValueError(f"shape entries must be non-negative, got {shape!r}")
                norm.append(s)
                continue
            if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)):
                raise TypeError(f"shape entries must be ints or None, got {s!r} in {shape!r}")
            if s < 0:
                raise ValueError(f"shape entries must be non-negative, got {shape!r}")
            norm.append(int(s))
        self.shape = tuple(norm)

    # -- identity ---------------------------------------------------------
    def __eq__(self, other):
        return type(self) is type(other) and self.dtype == other.dtype and self.shape == other.shape

    def __hash__(self):
        return hash((TensorType, self.dtype, self.shape))

    def __str__(self):
        return f"TensorType({self.dtype}, shape={_fmt_shape(self.shape, 'None')})"

    __repr__ = __str__

    def short_str(self):
        """The dprint form: ``Vector(float64, shape=(?,))``."""
        kind = _NDIM_NAMES.get(self.ndim, f"Tensor{self.ndim}")
        return f"{kind}({self.dtype}, shape={_fmt_shape(self.shape, '?')})"

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def broadcastable(self):
        return tuple(s == 1 for s in self.shape)

    @property
    def numpy_dtype(self):
        try:
            return self._numpy_dtype
        except AttributeError:
            self._numpy_dtype = np.dtype(self.dtype)
            return self._numpy_dtype

    def clone(self, dtype=None, shape=None):
        return TensorType(self.dtype if dtype is None else dtype, self.shape if shape is None else shape)

    # -- values -----------------------------------------------------------
    def filter(self, value, strict=False, allow_downcast=None):
        """Validate a runtime value; convert it when that loses nothing."""
        # dtype == numpy_dtype first: dtype.name is computed in Python by NumPy
        # (µs); the name test still accepts what it did (a byte-swapped float64).
        if isinstance(value, np.ndarray) and (value.dtype == self.numpy_dtype or value.dtype.name == self.dtype):
            arr = value
        else:
            if strict:
                got = value.dtype.name if hasattr(value, "dtype") else type(value).__name__
                raise TypeError(f"expected an array of dtype {self.dtype}, got {got}")
            try:
                arr = np.asarray(value)
            except Exception as exc:  # ragged lists and the like
                raise TypeError(f"cannot convert {type(value).__name__} to an array: {exc}") from None
            if arr.dtype == object:
                raise TypeError(f"cannot convert {type(value).__name__} to a {self.dtype} array")
            if arr.dtype.name != self.dtype:
                if np.can_cast(arr.dtype, self.dtype) or allow_downcast:
                    arr = arr.astype(self.dtype)
                elif arr.dtype.kind in "iub" and np.dtype(self.dtype).kind in "iuf" and not isinstance(value, np.ndarray):
                    # Python number lists: accept when the values survive the cast.
                    casted = arr.astype(self.dtype)
                    if not np.array_equal(casted, arr):
                        raise TypeError(f"values {value!r} do not fit in {self.dtype}")
                    arr = casted
                elif arr.dtype.kind == "f" and np.dtype(self.dtype).kind == "f" and not isinstance(value, np.ndarray):
                    arr = arr.astype(self.dtype)
                else:
                    raise TypeError(
                        f"cannot safely cast {arr.dtype.name} to {self.dtype} "
                        f"(cast it explicitly, or declare the input as {arr.dtype.name})")
        if arr.ndim != self.ndim:
            raise TypeError(f"expected {self.ndim} dimensions ({self.short_str()}), got {arr.ndim} (shape {arr.shape})")
        for i, (want, got) in enumerate(zip(self.shape, arr.shape)):
            if want is not None and want != got:
                raise ValueError(f"expected shape {_fmt_shape(self.shape, '?')}, got {arr.shape} (dimension {i})")
        return arr

    def data_key(self, data):
        arr = np.asarray(data)
        return (arr.dtype.name, arr.shape, arr.tobytes())

    def constant_str(self, data):
        arr = np.asarray(data)
        if arr.size > 20:
            return f"TensorConstant({self.short_str()}, data={np.array2string(arr.ravel()[:6], separator=' ')[:-1]} ...])"
        return str(arr)

    def values_eq(self, a, b):
        return np.array_equal(a, b)

    def values_eq_approx(self, a, b, rtol=1e-5, atol=1e-8):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)

    # -- subtyping --------------------------------------------------------
    def is_super(self, other):
        if not isinstance(other, TensorType) or other.dtype != self.dtype or other.ndim != self.ndim:
            return False
        return all(s is None or s == o for s, o in zip(self.shape, other.shape))

    def in_same_class(self, other):
        return isinstance(other, TensorType) and other.dtype == self.dtype and other.ndim == self.ndim

    def convert_variable(self, var):
        """``var`` as this type: itself when more specific, a SpecifyShape when less."""
        vt = var.type
        if vt == self:
            return var
        if self.is_super(vt):
            return var
        if isinstance(vt, TensorType) and vt.is_super(self):
            from opgraph.kernel_core.tensor.shape import specify_shape

            return specify_shape(var, self.shape)
        return None


def broadcast_static_shapes(shapes, names=None):
    """Static result shape of broadcasting; ValueError naming the culprits."""
    if shapes:
        # Identical shapes (most elementwise nodes) broadcast to themselves.
        first = tuple(shapes[0])
        if all(tuple(s) == first for s in shapes):
            return first
    ndim = max((len(s) for s in shapes), default=0)
    padded = [(None,) * 0 + (1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    out = []
    for d in range(ndim):
        known = {p[d] for p in padded if p[d] is not None and p[d] != 1}
        if len(known) > 1:
            who = ", ".join(
                f"{names[i] if names else 'input ' + str(i)} with shape {_fmt_shape(s, '?')}"
                for i, s in enumerate(shapes)
            )
            raise ValueError(f"Incompatible static shapes at dimension {d}: {who}")
        if known:
            out.append(known.pop())
        elif all(p[d] == 1 for p in padded):
            out.append(1)
        else:
            out.append(None)
    return tuple(out)


# The public names: everything defined here (PyTensor's module re-exports them).
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and getattr(_v, "__module__", None) == __name__]

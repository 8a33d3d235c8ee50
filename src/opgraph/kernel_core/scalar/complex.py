"""Complex numbers: ``real``, ``imag``, ``conj`` and ``complex(re, im)`` as scalar ops.

TensorType holds complex64 / complex128; these are the ops that move between
complex and real values.  On a real input ``real`` and ``conj`` are the value and
``imag`` is 0 (NumPy's rules).  Gradients follow PyTensor: the cotangent of
``real(z)`` is ``complex(g, 0)``, of ``imag(z)`` it is ``complex(0, g)``, and
``complex(re, im)`` hands ``real(g)`` / ``imag(g)`` back to its parts.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.scalar.basic import BinaryScalarOp, UnaryScalarOp, _tm


def _real_dtype(dtype):
    return {"complex64": "float32", "complex128": "float64"}.get(dtype, dtype)


def _is_complex(var):
    return var.type.dtype.startswith("complex")


class Real(UnaryScalarOp):
    nfunc = staticmethod(np.real)

    @staticmethod
    def output_dtypes(dtype):
        return (_real_dtype(dtype),)

    def pullback(self, inputs, outputs, output_grads):
        (z,), (g,) = inputs, output_grads
        if not _is_complex(z):
            return [g] if z.type.dtype[0] == "f" else [None]
        return [_tm_complex()(g, _tm().zeros_like(g))]


class Imag(UnaryScalarOp):
    nfunc = staticmethod(np.imag)

    @staticmethod
    def output_dtypes(dtype):
        return (_real_dtype(dtype),)

    def pullback(self, inputs, outputs, output_grads):
        (z,), (g,) = inputs, output_grads
        if not _is_complex(z):
            return [None]  # imag of a real number is 0 whatever it is
        return [_tm_complex()(_tm().zeros_like(g), g)]


class Conj(UnaryScalarOp):
    nfunc = staticmethod(np.conjugate)

    @staticmethod
    def output_dtypes(dtype):
        return (dtype,)

    def pullback(self, inputs, outputs, output_grads):
        (z,), (g,) = inputs, output_grads
        return [_tensor_conj()(g) if _is_complex(z) else g]


class Complex(BinaryScalarOp):
    """``re + 1j * im``: complex64 from two float32 (or narrower) parts, else complex128."""

    @staticmethod
    def output_dtypes(re, im):
        small = all(d in ("float16", "float32", "int8", "uint8", "int16", "uint16", "bool") for d in (re, im))
        if any(d.startswith("complex") for d in (re, im)):
            raise TypeError(f"complex: the parts must be real, got {re} and {im}")
        return ("complex64" if small and "float32" in (re, im) else "complex128",)

    def impl(self, re, im):
        # Built part by part: re + 1j * im makes the real part nan where im is inf
        # (1j * inf is nan + inf j) and loses the sign of a -0.0 imaginary part.
        re, im = np.asarray(re), np.asarray(im)
        (dtype,) = self.output_dtypes(re.dtype.name, im.dtype.name)
        out = np.empty(np.broadcast(re, im).shape, dtype=dtype)
        out.real, out.imag = re, im
        return out

    def pullback(self, inputs, outputs, output_grads):
        (g,) = output_grads
        return [_tensor_real()(g) if inputs[0].type.dtype[0] == "f" else None,
                _tensor_imag()(g) if inputs[1].type.dtype[0] == "f" else None]


real, imag, conj, complex_ = Real(), Imag(), Conj(), Complex()


def _tensor():
    # By module path: ``opgraph.kernel_core.tensor.complex`` the attribute is the Elemwise.
    import importlib

    return importlib.import_module("opgraph.kernel_core.tensor.complex")


def _tm_complex():
    return _tensor().complex


def _tensor_real():
    return _tensor().real


def _tensor_imag():
    return _tensor().imag


def _tensor_conj():
    return _tensor().conj

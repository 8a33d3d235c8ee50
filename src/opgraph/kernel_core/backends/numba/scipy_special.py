"""Numba code for ``scalar/special_functions.py``: calls into SciPy's C implementations.

``scipy.special.cython_special`` exports each function as a C function pointer
(``double f(double, ..., int skip_dispatch)``).  A ctypes call of the pointer
would bake its address into the machine code, which numba then refuses to
write to the disk cache.  Instead each pointer is registered with LLVM under a
stable symbol name (``llvmlite.binding.add_symbol``, at import of this module,
in every process) and the kernels call the symbol by name: cached code links
against the current process's address when loaded.  Generated modules import
the kernels from here, so the symbols exist before any cached code is loaded.
"""

from __future__ import annotations

import llvmlite.binding as llvm
import numba
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import get_cython_function_address, intrinsic

from opgraph.kernel_core.backends.numba.scalar import _as_float, _register
from opgraph.kernel_core.scalar import special_functions as psf

_MODULE = "opgraph.kernel_core.backends.numba.scipy_special"

# kernel name -> (cython_special export, number of double arguments)
_EXPORTS = {"gammainc": ("gammainc", 2), "gammaincc": ("gammaincc", 2),
            "gammaincinv": ("gammaincinv", 2), "gammainccinv": ("gammainccinv", 2),
            "betainc": ("__pyx_fuse_0betainc", 3), "betaincinv": ("__pyx_fuse_0betaincinv", 3),
            "betainccinv": ("__pyx_fuse_0betainccinv", 3), "pdtrik": ("__pyx_fuse_0pdtrik", 2),
            "bdtrik": ("bdtrik", 3), "nbdtrik": ("nbdtrik", 3), "ndtri": ("ndtri", 1),
            "i0": ("i0", 1), "i0e": ("i0e", 1), "i1": ("i1", 1), "i1e": ("i1e", 1)}


def _symbol(name):
    return f"opgraph_scipy_special_{name}"


for _name, (_export, _) in _EXPORTS.items():
    llvm.add_symbol(_symbol(_name), get_cython_function_address("scipy.special.cython_special", _export))


def _extern_call(name, nargs):
    """An intrinsic ``f(x0, ..., x{nargs-1}) -> float64`` calling the registered symbol."""
    sym = _symbol(name)

    def codegen(context, builder, sig, args):
        fnty = ir.FunctionType(ir.DoubleType(), [ir.DoubleType()] * nargs + [ir.IntType(32)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, sym)
        return builder.call(fn, list(args) + [ir.Constant(ir.IntType(32), 0)])

    sig = types.float64(*([types.float64] * nargs))
    if nargs == 1:
        @intrinsic
        def call1(typingctx, x0):
            return sig, codegen
        return call1
    if nargs == 2:
        @intrinsic
        def call2(typingctx, x0, x1):
            return sig, codegen
        return call2

    @intrinsic
    def call3(typingctx, x0, x1, x2):
        return sig, codegen
    return call3


_jit = numba.njit(cache=True, error_model="numpy", inline="always")
_calls = {name: _extern_call(name, n) for name, (_, n) in _EXPORTS.items()}
_call_gammainc, _call_gammaincc, _call_betainc = _calls["gammainc"], _calls["gammaincc"], _calls["betainc"]
_call_gammaincinv, _call_gammainccinv = _calls["gammaincinv"], _calls["gammainccinv"]
_call_betaincinv, _call_betainccinv = _calls["betaincinv"], _calls["betainccinv"]
_call_pdtrik, _call_bdtrik, _call_nbdtrik = _calls["pdtrik"], _calls["bdtrik"], _calls["nbdtrik"]
_call_ndtri, _call_i0, _call_i0e = _calls["ndtri"], _calls["i0"], _calls["i0e"]
_call_i1, _call_i1e = _calls["i1"], _calls["i1e"]


# The kernels generated code imports (plain njit functions around the intrinsics,
# so they are importable module attributes with a float64 signature).
@_jit
def gammainc(a, x):
    return _call_gammainc(float(a), float(x))


@_jit
def gammaincc(a, x):
    return _call_gammaincc(float(a), float(x))


@_jit
def gammaincinv(a, y):
    return _call_gammaincinv(float(a), float(y))


@_jit
def gammainccinv(a, y):
    return _call_gammainccinv(float(a), float(y))


@_jit
def betainc(a, b, x):
    return _call_betainc(float(a), float(b), float(x))


@_jit
def betaincinv(a, b, y):
    return _call_betaincinv(float(a), float(b), float(y))


@_jit
def betainccinv(a, b, y):
    return _call_betainccinv(float(a), float(b), float(y))


@_jit
def pdtrik(q, lam):
    return _call_pdtrik(float(q), float(lam))


@_jit
def bdtrik(q, n, p):
    return _call_bdtrik(float(q), float(n), float(p))


@_jit
def nbdtrik(q, n, p):
    return _call_nbdtrik(float(q), float(n), float(p))


@_jit
def ndtri(q):
    return _call_ndtri(float(q))


@_jit
def i0(x):
    return _call_i0(float(x))


@_jit
def i0e(x):
    return _call_i0e(float(x))


@_jit
def i1(x):
    return _call_i1(float(x))


@_jit
def i1e(x):
    return _call_i1e(float(x))


_KERNEL_OF = {psf.GammaInc: "gammainc", psf.GammaIncC: "gammaincc", psf.GammaIncInv: "gammaincinv",
              psf.GammaIncCInv: "gammainccinv", psf.BetaInc: "betainc", psf.BetaIncInv: "betaincinv",
              psf.BetaIncCInv: "betainccinv", psf.Pdtrik: "pdtrik", psf.Bdtrik: "bdtrik", psf.Nbdtrik: "nbdtrik",
              psf.Ndtri: "ndtri", psf.I0: "i0", psf.I0e: "i0e", psf.I1: "i1", psf.I1e: "i1e"}


def _expression(kernel):
    def expr(op, args, in_dtypes, out_dtypes, ctx):
        fn = ctx.import_name(_MODULE, kernel)
        return [f"{fn}({', '.join(_as_float(a, d) for a, d in zip(args, in_dtypes))})"]
    return expr


for _cls, _kernel in _KERNEL_OF.items():
    _register(_cls, _expression(_kernel))

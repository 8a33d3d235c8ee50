"""Per-Op Numba implementations: the dispatch table and the code context.

Every implementation is registered on its Op class with
``@numba_funcify.register(OpClass)`` and has the signature
``impl(op, node, ctx) -> str``: it adds the *source* of one function to the
generated module (``ctx.define``) and returns that function's name.  The
function takes the node's inputs positionally and returns its output (one
output) or a tuple of outputs.  Tensors are NumPy arrays (0-d included),
``ScalarType`` values are plain numbers.

Generating source (instead of closures over Python objects) is what makes
the whole module -- and so the compiled code -- cacheable on disk: the source
text alone determines the machine code.

Ops without an implementation fall back to their Python ``perform`` inside
``numba.objmode`` (see ``fallback.py``); such a graph still compiles to one
function, but is not cached on disk (the Python callable cannot be).

This module never imports numba: generating source is pure Python.
"""

from __future__ import annotations

import textwrap
from contextlib import contextmanager
from functools import singledispatch

import numpy as np

_KERNEL_CALLS = "opgraph.kernel_core.backends.numba.kernel_calls"
_KERNELS = "opgraph.kernel_core.backends.numba.scalar_kernels"
_SHARED = "opgraph.kernel_core.backends.numba.shared_kernels"
# The vectorizable kernels, inlined by numba where they run in loops while the module's
# budget of such sites lasts (numba re-types an inlined kernel at every site: ~0.4 s
# each for vexp).  Their twins are inlined by LLVM too, but measured side by side a loop
# of tanh + sigmoid + softplus ran ~13% slower with twins (sigmoid's and softplus's
# common exp(-|x|) is no longer shared) and softplus alone ~7x slower (not inlined);
# past the budget, twins.  Every other kernel is called through its twin (CodeContext.kernel).
_INLINED_IN_LOOPS = frozenset({"vexp", "vlog", "vlog1p", "vtanh", "sigmoid", "softplus"})
INLINE_KERNEL_SITES = 16


class CodeContext:
    """Collects the definitions of one generated module."""

    def __init__(self):
        self.definitions = []          # source blocks, in order
        self._by_source = {}           # source (with placeholder name) -> name: identical nodes share code
        self._counter = 0
        self.imports = {}              # alias -> (module, attribute)
        self.objects = {}              # alias -> Python object (not cacheable)
        self.cacheable = True
        self.sources = {}              # name -> undecorated source (codegen inlines these)
        self.in_loops = True           # code generated now may run in a loop (see run_once)
        self.inline_sites_left = INLINE_KERNEL_SITES

    @contextmanager
    def run_once(self):
        """Code generated meanwhile runs once per call, not per element: scalar kernels
        need not be the vectorizable ones (which cost numba more to compile)."""
        before, self.in_loops = self.in_loops, False
        try:
            yield
        finally:
            self.in_loops = before

    def kernel(self, name):
        """The alias to call the scalar kernel ``name`` by: its plain, disk-cached twin
        (kernel_calls.py), not the ``inline='always'`` kernel itself (but for the few of
        ``_INLINED_IN_LOOPS`` in loops, within a budget of sites).  Numba re-types
        and re-lowers an inlined kernel at every call site (~0.4 s each for vexp; 500
        exp took minutes), while a twin is compiled once per installation and signature
        and loaded after; numba links its LLVM bitcode into the caller, where LLVM
        inlines it (measured on loops of 10^5: gammaln, psi, erfcx, erfinv, xlogx, log1mexp
        run in the same time or faster, identical results, in half the compile CPU time)."""
        if name in _INLINED_IN_LOOPS and self.in_loops and self.inline_sites_left > 0:
            self.inline_sites_left -= 1
            return self.import_name(_KERNELS, name)
        return self.import_name(_KERNEL_CALLS, "call_" + name)

    def empty(self, shape, dtype):
        """Source of a call allocating ``np.empty(shape, dtype)`` (both given as source)
        through shared_kernels' cached ``empty``: numba's own np.empty implementation
        is typed and compiled afresh in every process, per rank and dtype (~0.1 s each,
        a handful in every logp+grad graph), where the cached one is loaded."""
        return f"{self.import_name(_SHARED, 'empty')}({shape}, {dtype})"

    def full(self, shape, value, dtype):
        """``np.full(shape, value, dtype)`` through shared_kernels (see ``empty``)."""
        return f"{self.import_name(_SHARED, 'full')}({shape}, {value}, {dtype})"

    def zeros(self, shape, dtype):
        """``np.zeros(shape, dtype)`` through shared_kernels (see ``empty``)."""
        return f"{self.import_name(_SHARED, 'zeros')}({shape}, {dtype})"

    def fresh(self, prefix):
        self._counter += 1
        return f"{prefix}_{self._counter}"

    def define(self, source, prefix="f", jit=True, inline=False):
        """Add a function definition.  ``source`` spells its name ``{name}`` (e.g.
        ``def {name}(x):``); returns the name given to it.  Identical sources are
        defined once."""
        source = textwrap.dedent(source).strip("\n")
        key = (source, jit, inline)
        if key in self._by_source:
            return self._by_source[key]
        name = self.fresh(prefix)
        body = source.replace("{name}", name)
        self.sources[name] = body
        if jit:
            deco = "@numba.njit(cache=_CACHE, error_model='numpy', inline='always')" if inline else \
                "@numba.njit(cache=_CACHE, error_model='numpy')"
            body = deco + "\n" + body
        self.definitions.append(body)
        self._by_source[key] = name
        return name

    def import_name(self, module, attribute):
        """Make ``module.attribute`` (an importable, stable object) available; returns its alias."""
        alias = f"_{attribute}"
        prev = self.imports.get(alias)
        if prev is not None and prev != (module, attribute):
            alias = self.fresh(f"_{attribute}")
        self.imports[alias] = (module, attribute)
        return alias

    def python_object(self, obj, prefix="obj"):
        """Make an arbitrary Python object a module global (disables the disk cache)."""
        self.cacheable = False
        alias = self.fresh(f"_{prefix}")
        self.objects[alias] = obj
        return alias


def literal(value, dtype):
    """Source text of a scalar of the given dtype (``np.float64(1.5)``)."""
    dtype = np.dtype(dtype).name
    v = np.asarray(value).astype(dtype).item()
    if dtype == "bool":
        return "True" if v else "False"
    if isinstance(v, float):
        if np.isnan(v):
            text = "np.nan"
        elif np.isinf(v):
            text = "np.inf" if v > 0 else "-np.inf"
        else:
            text = repr(v)
    elif isinstance(v, complex):
        text = f"complex({v.real!r}, {v.imag!r})"
    else:
        text = repr(v)
    if dtype == "float64":
        # A bare float literal is a float64 to numba, and costs no typed call to np.float64.
        return f"({text})"
    return f"np.{dtype}({text})"


def np_dtype(dtype):
    """Source text of a NumPy dtype object usable inside njit code."""
    name = np.dtype(dtype).name
    return "np.bool_" if name == "bool" else f"np.{name}"


def int64_arg(value):
    """Source of the integer ``value`` as an int64 argument of a shared (cached) kernel.

    Numba types a constant argument, or a constant in a tuple argument, as a literal
    (``Literal[int](1)``) and compiles the callee once more per value or pattern of
    constants; ``np.int64(value)`` is typed int64, so every caller shares one signature."""
    return f"np.int64({value})"


@singledispatch
def numba_funcify(op, node, ctx):
    """The name of the generated function computing ``node`` (see module docstring)."""
    from opgraph.kernel_core.backends.numba.fallback import perform_in_objmode

    return perform_in_objmode(op, node, ctx)


def has_numba_impl(op):
    return numba_funcify.dispatch(type(op)) is not numba_funcify.dispatch(object)


def load_op_implementations():
    """Import every per-family module so its ``register`` calls run."""
    import importlib

    for family in ("scalar", "elemwise", "reduction", "shape", "subtensor", "dot", "linalg",
                   "extra_ops", "blockwise", "join", "construction", "op_from_graph", "gradient_markers",
                   "random", "ifelse", "scan", "logprob", "special", "signal", "attention"):
        # Every family is part of opgraph: one that fails to import is a bug, and
        # swallowing it would send its ops to the objmode fallback without a word.
        importlib.import_module(f"opgraph.kernel_core.backends.numba.{family}")


# The public names: everything defined here (PyTensor's module re-exports them).
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and getattr(_v, "__module__", None) == __name__]

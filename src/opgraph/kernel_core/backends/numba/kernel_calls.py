"""Non-inlined twins of the scalar kernels: ``call_<name>`` is ``scalar_kernels.<name>``
compiled as an ordinary njit function.

The kernels are ``inline='always'``: numba copies and re-types their IR at every
call site, which lets loops calling ``vexp`` vectorize but costs about 0.4 s of
compile time per call site.  A graph with thousands of ``exp`` would take hours
to compile, so past a budget of inlined sites (``CodeContext.kernel``) the
generated code calls these twins instead: each is compiled once (and cached on
disk), and a call site costs what any function call costs.

Imported only by generated modules; the twins are made on first import of a name
(PEP 562), so every kernel has one without a list to keep in sync.
"""

from __future__ import annotations

import numba

from opgraph.kernel_core.backends.numba import scalar_kernels as _kernels

_PREFIX = "call_"


def __getattr__(name):
    if not name.startswith(_PREFIX):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    kernel = getattr(_kernels, name[len(_PREFIX):])   # a misspelt kernel fails loudly here
    twin = numba.njit(cache=True, error_model="numpy")(kernel.py_func)
    globals()[name] = twin
    return twin

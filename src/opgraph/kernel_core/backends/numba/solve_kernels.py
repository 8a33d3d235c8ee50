"""LAPACK's ``?gesv`` binding for Solve, called without numba's ``np.linalg.solve``.

numba's ``np.linalg.solve`` copies ``b`` into its scratch space with an array-valued
setitem, whose shape-error path formats strings: about 3 s of the first compile of a
graph with a Solve in every process (a 4 x 4 solve: 4.3 s CPU for ``function()`` and
the first call, against 1.5 s for ``inv``).  linalg.py's ``_gesv_lines`` writes the
same steps as loops: the finiteness check, Fortran-order copies of ``a`` and ``b``, the
``?gesv`` call through numba's C helper ``numba_xgesv`` (the function numba's solve
calls: SciPy's LAPACK, as every numba linear algebra kernel), and numba's errors
(``LinAlgError`` "Array must not contain infs or NaNs." / "Matrix is singular to
machine precision."), so the results and failures are those of ``np.linalg.solve``.

The binding is a module global the generated code imports: numba types it as an
external function, which the disk cache stores by symbol name.  (Only generated
code imports this module: it imports numba, which the source generators never do.)
"""

from __future__ import annotations

from numba.core import types
from numba.np.linalg import F_INT_nptype  # noqa: F401  (LAPACK's integer; the generated code's ipiv dtype)

# numba_xgesv(kind, n, nrhs, a, lda, ipiv, b, ldb) -> info: numba's C helper (the symbol its
# own solve calls), declared once with untyped pointers so that systems of several dtypes
# can share one LLVM module (one declaration per symbol name); ``kind`` picks the dtype.
gesv = types.ExternalFunction("numba_xgesv", types.intc(
    types.char, types.intp, types.intp, types.voidptr, types.intp, types.voidptr, types.voidptr, types.intp))

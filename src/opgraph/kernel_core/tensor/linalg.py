"""Linear algebra (``pt.linalg``): det, slogdet, inv, solve, solve_triangular,
cholesky, eigh, svd, qr, kron, norm, diag, trace.

Matrix-level ops are core ops with a gufunc signature; inputs with extra
leading dimensions are batched with ``Blockwise`` (dprint shows
``Blockwise{Det, (m,m)->()}``), unbatched inputs use the core op directly.
The pullbacks are written with batch-aware building blocks (matmul, swapping
the last two axes), so Blockwise uses them as they are
(``L_op_handles_batch``).

Ops read by the rewrite library: ``Det``, ``SLogDet``, ``MatrixInverse``,
``Solve``, ``SolveTriangular``, ``Cholesky``, ``Eigh``, ``SVD``, ``QR``,
``Kron``, ``ExtractDiag``, ``AllocDiag``.
"""

from __future__ import annotations

import importlib

import numpy as np

from opgraph.kernel_core.graph.basic import Apply
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.scalar.type import upcast
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.blockwise import Blockwise, apply_core
from opgraph.kernel_core.tensor.elemwise import DimShuffle
from opgraph.kernel_core.tensor.type import TensorType


def _scipy_linalg():
    # Imported on first use: scipy.linalg costs ~0.2 s and `import opgraph` must stay light.
    return importlib.import_module("scipy.linalg")

__all__ = [
    "Det", "SLogDet", "MatrixInverse", "Solve", "SolveTriangular", "Cholesky", "Eigh", "SVD", "QR",
    "Kron", "ExtractDiag", "AllocDiag", "EmbedDiag",
    "det", "slogdet", "inv", "matrix_inverse", "solve", "solve_triangular", "cholesky", "eigh", "eigvalsh",
    "svd", "qr", "kron", "norm", "diag", "diagonal", "trace", "Pinv", "pinv",
]

_FLOAT_OUT = {"float16": "float32", "float32": "float32", "float64": "float64",
              "complex64": "complex64", "complex128": "complex128"}


def _float_dtype(*dtypes):
    d = upcast(*dtypes)
    return _FLOAT_OUT.get(d, "float64")


def _fmt(shape):
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + (",)" if len(shape) == 1 else ")")


def _check_matrix(x, who, square=False):
    x = as_tensor_variable(x)
    if x.type.ndim < 2:
        raise ValueError(f"{who}: {x} must be a matrix (or a batch of matrices), got {x.type.short_str()}")
    m, n = x.type.shape[-2:]
    if square and m is not None and n is not None and m != n:
        raise ValueError(f"{who}: {x} must be square, got shape {_fmt(x.type.shape)}")
    return x


def _check_core_matrix(x, who, square=False):
    x = as_tensor_variable(x)
    if x.type.ndim != 2:
        raise TypeError(f"{who}: the core op takes a matrix, got {x} ({x.type.short_str()}); "
                        f"batched inputs go through pt.linalg functions (Blockwise)")
    return _check_matrix(x, who, square)


def _square_dim(x):
    m, n = x.type.shape[-2:]
    return m if m is not None else n


# -- batch-aware helpers used by the pullbacks ------------------------------------
def _mT(x):
    nd = x.type.ndim
    return DimShuffle(nd, list(range(nd - 2)) + [nd - 1, nd - 2])(x)


def _mm(a, b):
    from opgraph.kernel_core.tensor.dot import matmul

    return matmul(a, b)


def _pad_right(x, n):
    nd = x.type.ndim
    return DimShuffle(nd, list(range(nd)) + ["x"] * n)(x)


def _col(v):
    return _pad_right(v, 1)


def _row(v):
    nd = v.type.ndim
    return DimShuffle(nd, list(range(nd - 1)) + ["x", nd - 1])(v)


def _tril(x, k=0):
    from opgraph.kernel_core.tensor.construction import tril

    return tril(x, k)


def _triu(x, k=0):
    from opgraph.kernel_core.tensor.construction import triu

    return triu(x, k)


def _as_batch_grad(g, like):
    from opgraph.kernel_core.tensor.math import zeros_like

    return zeros_like(like) if g is None else as_tensor_variable(g)


def _is_zero(g):
    """Whether an output gradient is absent or a broadcast zero (an unused output)."""
    from opgraph.kernel_core.tensor.basic import get_underlying_scalar_constant

    if g is None:
        return True
    value = get_underlying_scalar_constant(g)
    return value is not None and value == 0


def _lower_read_grad(g, lower=True):
    """Gradient w.r.t. the entries a routine actually reads when it uses one triangle
    of a symmetric matrix: the other triangle's contribution folds onto it."""
    if lower:
        return _tril(g) + _mT(_triu(g, 1))
    return _triu(g) + _mT(_tril(g, -1))


class _CoreOp(Op):
    """A matrix-level op: batched by Blockwise, pullback already batch-aware."""

    gufunc_signature = None
    L_op_handles_batch = True


def _apply(op, *inputs):
    return apply_core(op, op.gufunc_signature, *inputs)


class _SquareToSquare(_CoreOp):
    """A core op from a square matrix to a float matrix of the same shape (inv,
    cholesky, expm); ``function_name`` is what errors call it."""

    gufunc_signature = "(m,m)->(m,m)"
    function_name = None

    def make_node(self, x):
        x = _check_core_matrix(x, self.function_name, square=True)
        n = _square_dim(x)
        return Apply(self, [x], [TensorType(_float_dtype(x.type.dtype), (n, n)).make_variable()])

    def infer_shape(self, fgraph, node, input_shapes):
        (s,) = input_shapes
        return [(s[0], s[0])]


# -- determinants and inverse ----------------------------------------------------------
class Det(_CoreOp):
    """Determinant of a square matrix."""

    __props__ = ()
    gufunc_signature = "(m,m)->()"

    def make_node(self, x):
        x = _check_core_matrix(x, "det", square=True)
        return Apply(self, [x], [TensorType(_float_dtype(x.type.dtype), ()).make_variable()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(np.linalg.det(inputs[0]), dtype=node.outputs[0].type.dtype)

    def perform_batched(self, inputs, core_ndims):
        return [np.linalg.det(inputs[0])]

    def infer_shape(self, fgraph, node, input_shapes):
        return [()]

    def L_op(self, inputs, outputs, output_grads):
        (x,), (d,), (gz,) = inputs, outputs, output_grads
        return [_pad_right(gz * d, 2) * _mT(inv(x))]


class SLogDet(_CoreOp):
    """Sign and log of the absolute determinant."""

    __props__ = ()
    gufunc_signature = "(m,m)->(),()"

    def make_node(self, x):
        x = _check_core_matrix(x, "slogdet", square=True)
        dt = _float_dtype(x.type.dtype)
        return Apply(self, [x], [TensorType(dt, ()).make_variable(), TensorType(dt, ()).make_variable()])

    def perform(self, node, inputs, output_storage):
        sign, logdet = np.linalg.slogdet(inputs[0])
        output_storage[0][0] = np.asarray(sign, dtype=node.outputs[0].type.dtype)
        output_storage[1][0] = np.asarray(logdet, dtype=node.outputs[1].type.dtype)

    def perform_batched(self, inputs, core_ndims):
        return list(np.linalg.slogdet(inputs[0]))

    def infer_shape(self, fgraph, node, input_shapes):
        return [(), ()]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        _, g_logdet = output_grads
        if _is_zero(g_logdet):
            return [None]
        return [_pad_right(as_tensor_variable(g_logdet), 2) * _mT(inv(x))]


class MatrixInverse(_SquareToSquare):
    __props__ = ()
    function_name = "inv"

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(np.linalg.inv(inputs[0]), dtype=node.outputs[0].type.dtype)

    def perform_batched(self, inputs, core_ndims):
        return [np.linalg.inv(inputs[0])]

    def L_op(self, inputs, outputs, output_grads):
        (xi,), (gz,) = outputs, output_grads
        xiT = _mT(xi)
        return [-_mm(_mm(xiT, gz), xiT)]


def det(x):
    """Determinant of (each matrix in) ``x``."""
    return _apply(Det(), _check_matrix(x, "det", square=True))


def slogdet(x):
    """(sign, log|det|) of (each matrix in) ``x``."""
    x = _check_matrix(x, "slogdet", square=True)
    if x.type.ndim == 2:
        return tuple(SLogDet()(x, return_list=True))
    return tuple(Blockwise(SLogDet()).make_node(x).outputs)


def inv(x):
    """Inverse of (each matrix in) ``x``."""
    return _apply(MatrixInverse(), _check_matrix(x, "inv", square=True))


matrix_inverse = inv


class Pinv(_CoreOp):
    """Moore-Penrose pseudo-inverse (``np.linalg.pinv``)."""

    __props__ = ("hermitian",)
    gufunc_signature = "(m,n)->(n,m)"

    def __init__(self, hermitian=False):
        self.hermitian = bool(hermitian)

    def make_node(self, x):
        x = _check_core_matrix(x, "pinv")
        m, n = x.type.shape
        return Apply(self, [x], [TensorType(_float_dtype(x.type.dtype), (n, m)).make_variable()])

    def perform(self, node, inputs, output_storage):
        out = np.linalg.pinv(inputs[0], hermitian=self.hermitian)
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].type.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        m, n = input_shapes[0]
        return [(n, m)]

    def L_op(self, inputs, outputs, output_grads):
        # d(A+) = -Z dA Z + Z Z^T dA^T (I - A Z) + (I - Z A) dA^T Z^T Z  (Z = A+, Golub & Pereyra),
        # transposed term by term for the pullback.
        (A,), (Z,), (gZ,) = inputs, outputs, output_grads
        ZT, gZT = _mT(Z), _mT(as_tensor_variable(gZ))
        AZ, ZA = _mm(A, Z), _mm(Z, A)
        term1 = -_mm(_mm(ZT, gZ), ZT)
        term2 = _mm(_mm(gZT, Z), ZT) - _mm(AZ, _mm(_mm(gZT, Z), ZT))
        term3 = _mm(_mm(ZT, Z), gZT) - _mm(_mm(_mm(ZT, Z), gZT), ZA)
        return [term1 + term2 + term3]


def pinv(x, hermitian=False):
    """Pseudo-inverse of (each matrix in) ``x``."""
    return _apply(Pinv(hermitian), _check_matrix(x, "pinv"))


# -- linear systems ----------------------------------------------------------------
_ASSUME_A = ("gen", "sym", "her", "pos")
# scipy's long names and the structured cases solve() builds from other ops.
_ASSUME_A_ALIASES = {None: "gen", "general": "gen", "symmetric": "sym", "hermitian": "her",
                     "positive definite": "pos", "diagonal": "diagonal", "tridiagonal": "tridiagonal",
                     "lower triangular": "lower triangular", "upper triangular": "upper triangular"}


def _b_ndim(b, b_ndim):
    if b_ndim is None:
        b_ndim = 1 if b.type.ndim == 1 else 2
    if b_ndim not in (1, 2):
        raise ValueError(f"b_ndim must be 1 (vector right-hand side) or 2 (matrix), got {b_ndim!r}")
    if b.type.ndim < b_ndim:
        raise ValueError(f"b_ndim={b_ndim} but b = {b} has only {b.type.ndim} dimensions")
    return b_ndim


def _check_system(A, b, b_ndim, who):
    m = _square_dim(A)
    k = b.type.shape[-b_ndim]
    if m is not None and k is not None and m != k:
        raise ValueError(f"{who}: A {A} of shape {_fmt(A.type.shape)} and b {b} of shape {_fmt(b.type.shape)} "
                         f"do not match ({m} rows vs {k})")


def _solve_out_type(A, b, b_ndim):
    dt = _float_dtype(A.type.dtype, b.type.dtype)
    m = _square_dim(A)
    shape = (m if m is not None else b.type.shape[0],) + (b.type.shape[1:] if b_ndim == 2 else ())
    return TensorType(dt, shape)


def _solve_node(op, A, b, what):
    """The Apply of a linear solve ``A x = b`` (b of ``op.b_ndim`` dimensions), checked."""
    A = _check_core_matrix(A, what, square=True)
    b = as_tensor_variable(b)
    if b.type.ndim != op.b_ndim:
        raise TypeError(f"{what}: b = {b} must have {op.b_ndim} dimensions here, got {b.type.short_str()}")
    _check_system(A, b, op.b_ndim, what)
    return Apply(op, [A, b], [_solve_out_type(A, b, op.b_ndim).make_variable()])


class Solve(_CoreOp):
    """``x`` with ``A @ x = b`` (``assume_a`` in gen, sym, her, pos)."""

    __props__ = ("assume_a", "lower", "b_ndim")

    def __init__(self, assume_a="gen", lower=False, b_ndim=2):
        if assume_a not in _ASSUME_A:
            raise ValueError(f"solve: assume_a must be one of {', '.join(_ASSUME_A)}, got {assume_a!r}")
        self.assume_a = assume_a
        self.lower = bool(lower)
        self.b_ndim = int(b_ndim)
        self.gufunc_signature = "(m,m),(m)->(m)" if b_ndim == 1 else "(m,m),(m,n)->(m,n)"

    def __str__(self):
        return f"Solve{{assume_a={self.assume_a!r}, b_ndim={self.b_ndim}}}"

    def make_node(self, A, b):
        return _solve_node(self, A, b, "solve")

    def perform(self, node, inputs, output_storage):
        A, b = inputs
        x = _scipy_linalg().solve(A, b, assume_a=self.assume_a, lower=self.lower)
        output_storage[0][0] = np.asarray(x, dtype=node.outputs[0].type.dtype)

    def perform_batched(self, inputs, core_ndims):
        if self.assume_a != "gen":
            return NotImplemented
        A, b = inputs
        if self.b_ndim == 1:
            return [np.linalg.solve(A, b[..., None])[..., 0]]
        return [np.linalg.solve(A, b)]

    def infer_shape(self, fgraph, node, input_shapes):
        As, bs = input_shapes
        return [tuple(bs)]

    def L_op(self, inputs, outputs, output_grads):
        A, b = inputs
        (x,), (gz,) = outputs, output_grads
        sym = self.assume_a != "gen"
        # A^T gb = gz; a symmetric A read from one triangle is its own transpose.
        gb = solve(A if sym else _mT(A), gz, assume_a=self.assume_a, lower=self.lower, b_ndim=self.b_ndim)
        if self.b_ndim == 1:
            gA = -(_col(gb) * _row(x))
        else:
            gA = -_mm(gb, _mT(x))
        if sym:
            gA = _lower_read_grad(gA, self.lower)
        return [gA, gb]


def solve(a, b, assume_a="gen", lower=False, b_ndim=None, check_finite=True, transposed=False):
    """Solve ``a @ x = b`` (``transposed=True``: ``a.T @ x = b``) for ``x``; ``b`` a vector or a
    matrix, leading dims batch.  ``assume_a`` as scipy: gen, sym, her, pos, diagonal,
    tridiagonal, lower triangular, upper triangular (scipy's long names accepted)."""
    a = _check_matrix(a, "solve", square=True)
    b = as_tensor_variable(b)
    b_ndim = _b_ndim(b, b_ndim)
    kind = _ASSUME_A_ALIASES.get(assume_a, assume_a)
    if kind not in _ASSUME_A and kind not in _ASSUME_A_ALIASES.values():
        names = ", ".join(repr(k) for k in list(_ASSUME_A) + [k for k in _ASSUME_A_ALIASES if k])
        raise ValueError(f"solve: assume_a must be one of {names}; got {assume_a!r}")
    if kind == "diagonal":
        # Only the diagonal is read; a transposed diagonal matrix is itself.
        d = diagonal(a, 0, a.type.ndim - 2, a.type.ndim - 1)
        return b / (d if b_ndim == 1 else _col(d))
    if kind in ("lower triangular", "upper triangular"):
        return solve_triangular(a, b, trans=int(bool(transposed)), lower=kind.startswith("lower"), b_ndim=b_ndim)
    if kind == "tridiagonal":
        # Entries off the three diagonals are not read (as LAPACK's gtsv): mask them, then solve.
        a = _tril(_triu(a, -1), 1)
        kind = "gen"
    if transposed and kind == "gen":
        a = _mT(a)
    # sym / her / pos: a.T is a (her: its conjugate, real here), so transposed changes nothing.
    op = Solve(kind, lower, b_ndim)
    return _apply(op, a, b)


def _norm_trans(trans):
    table = {0: 0, "N": 0, 1: 1, "T": 1, 2: 1, "C": 1}
    if trans not in table:
        raise ValueError(f"solve_triangular: trans must be 0/'N', 1/'T' or 2/'C', got {trans!r}")
    return table[trans]


class SolveTriangular(_CoreOp):
    """``x`` with ``A @ x = b`` (``trans=1``: ``A.T @ x = b``) for triangular ``A``."""

    __props__ = ("lower", "trans", "unit_diagonal", "b_ndim", "check_finite")

    def __init__(self, lower=False, trans=0, unit_diagonal=False, b_ndim=2, check_finite=True):
        self.lower = bool(lower)
        self.trans = _norm_trans(trans)
        self.unit_diagonal = bool(unit_diagonal)
        self.b_ndim = int(b_ndim)
        self.check_finite = bool(check_finite)
        self.gufunc_signature = "(m,m),(m)->(m)" if b_ndim == 1 else "(m,m),(m,n)->(m,n)"

    def __str__(self):
        extra = (", trans=1" if self.trans else "") + (", unit_diagonal=True" if self.unit_diagonal else "")
        return f"SolveTriangular{{lower={self.lower}{extra}}}"

    def make_node(self, A, b):
        return _solve_node(self, A, b, "solve_triangular")

    def perform(self, node, inputs, output_storage):
        A, b = inputs
        if self.check_finite and not (np.isfinite(A).all() and np.isfinite(b).all()):
            raise ValueError(NOT_FINITE_MESSAGE)
        x = _scipy_linalg().solve_triangular(A, b, trans=self.trans, lower=self.lower,
                                             unit_diagonal=self.unit_diagonal, check_finite=False)
        output_storage[0][0] = np.asarray(x, dtype=node.outputs[0].type.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[1])]

    def L_op(self, inputs, outputs, output_grads):
        A, b = inputs
        (x,), (gz,) = outputs, output_grads
        gb = solve_triangular(A, gz, trans=1 - self.trans, lower=self.lower, unit_diagonal=self.unit_diagonal,
                              b_ndim=self.b_ndim, check_finite=self.check_finite)
        if self.b_ndim == 1:
            outer_ = (lambda u, v: _col(u) * _row(v))
        else:
            outer_ = (lambda u, v: _mm(u, _mT(v)))
        gA = -outer_(gb, x) if self.trans == 0 else -outer_(x, gb)
        k = 1 if self.unit_diagonal else 0
        gA = _tril(gA, -k) if self.lower else _triu(gA, k)
        return [gA, gb]


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, b_ndim=None, check_finite=True):
    """Solve a triangular system (only the ``lower`` / upper triangle of ``a`` is read).
    ``check_finite``: raise ValueError when ``a`` or ``b`` holds an inf or nan (SciPy's check;
    False skips it and lets them propagate)."""
    a = _check_matrix(a, "solve_triangular", square=True)
    b = as_tensor_variable(b)
    b_ndim = _b_ndim(b, b_ndim)
    return _apply(SolveTriangular(lower, trans, unit_diagonal, b_ndim, check_finite), a, b)


# SciPy's words (asarray_chkfinite), prefixed with the op.
NOT_FINITE_MESSAGE = "solve_triangular: array must not contain infs or NaNs"


# -- factorizations ------------------------------------------------------------------
class Cholesky(_SquareToSquare):
    """Cholesky factor: ``L @ L.T = x`` (``lower=False``: ``U.T @ U = x``)."""

    __props__ = ("lower", "on_error")
    function_name = "cholesky"

    def __init__(self, lower=True, on_error="raise"):
        if on_error not in ("raise", "nan"):
            raise ValueError(f"cholesky: on_error must be 'raise' or 'nan', got {on_error!r}")
        self.lower = bool(lower)
        self.on_error = on_error

    def __str__(self):
        return f"Cholesky{{lower={self.lower}}}"

    def _factor(self, x):
        try:
            L = np.linalg.cholesky(x)
        except np.linalg.LinAlgError:
            if self.on_error == "nan":
                return np.full(x.shape, np.nan)
            raise np.linalg.LinAlgError("cholesky: the matrix is not positive definite") from None
        return L if self.lower else np.swapaxes(L, -1, -2).conj()

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(self._factor(inputs[0]), dtype=node.outputs[0].type.dtype)

    def perform_batched(self, inputs, core_ndims):
        if self.on_error == "nan":
            return NotImplemented
        return [self._factor(inputs[0])]

    def L_op(self, inputs, outputs, output_grads):
        # Murray (2016): A_bar = L^-T Phi(L^T L_bar) L^-1, Phi = lower triangle with half diagonal.
        (x,), (c,), (gc,) = inputs, outputs, output_grads
        L, gL = (c, gc) if self.lower else (_mT(c), _mT(gc))
        P = _mm(_mT(L), gL)
        P = _tril(P) - 0.5 * _triu(_tril(P))
        Y = solve_triangular(L, P, trans=1, lower=True)               # L^-T P
        S = _mT(solve_triangular(L, _mT(Y), trans=1, lower=True))     # (L^-T P) L^-1
        G = 0.5 * (S + _mT(S))
        # NumPy reads only the lower triangle of x.
        return [_lower_read_grad(G, lower=True)]


def cholesky(x, lower=True, on_error="raise"):
    """Cholesky factor of (each) symmetric positive-definite matrix in ``x``."""
    return _apply(Cholesky(lower, on_error), _check_matrix(x, "cholesky", square=True))


class Eigh(_CoreOp):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix (lower triangle read)."""

    __props__ = ()
    gufunc_signature = "(m,m)->(m),(m,m)"

    def make_node(self, x):
        x = _check_core_matrix(x, "eigh", square=True)
        n = _square_dim(x)
        dt = _float_dtype(x.type.dtype)
        return Apply(self, [x], [TensorType(dt if not dt.startswith("complex") else "float64", (n,)).make_variable(),
                                 TensorType(dt, (n, n)).make_variable()])

    def perform(self, node, inputs, output_storage):
        w, v = np.linalg.eigh(inputs[0])
        output_storage[0][0] = np.asarray(w, dtype=node.outputs[0].type.dtype)
        output_storage[1][0] = np.asarray(v, dtype=node.outputs[1].type.dtype)

    def perform_batched(self, inputs, core_ndims):
        return list(np.linalg.eigh(inputs[0]))

    def infer_shape(self, fgraph, node, input_shapes):
        (s,) = input_shapes
        return [(s[0],), (s[0], s[0])]

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.construction import eye
        from opgraph.kernel_core.tensor.shape import shape_i

        (x,) = inputs
        w, v = outputs
        gw, gv = output_grads
        if not _is_zero(gw):
            G = _mm(v * _row(as_tensor_variable(gw)), _mT(v))
        else:
            G = None
        if not _is_zero(gv):
            n = w.type.shape[-1] if w.type.shape[-1] is not None else shape_i(w, w.type.ndim - 1)
            I = eye(n, dtype=w.type.dtype)
            diff = _row(w) - _col(w)                       # w_j - w_i
            F = (1 - I) / (diff + I)
            Gv = _mm(_mm(v, F * _mm(_mT(v), as_tensor_variable(gv))), _mT(v))
            G = Gv if G is None else G + Gv
        if G is None:
            return [None]
        return [_lower_read_grad(G, lower=True)]


def eigh(a, UPLO="L"):
    """(eigenvalues, eigenvectors) of symmetric ``a`` (only ``UPLO='L'``: the lower triangle)."""
    if UPLO != "L":
        raise ValueError("eigh: only UPLO='L' (the lower triangle is read) is supported")
    a = _check_matrix(a, "eigh", square=True)
    if a.type.ndim == 2:
        return tuple(Eigh()(a, return_list=True))
    return tuple(Blockwise(Eigh()).make_node(a).outputs)


def eigvalsh(a, b=None, lower=True):
    """Eigenvalues of symmetric ``a``."""
    if b is not None:
        raise NotImplementedError("eigvalsh: the generalized problem (b=...) is not supported")
    return eigh(a)[0]


class SVD(_CoreOp):
    """Singular value decomposition ``x = U @ diag(s) @ Vh`` (or ``s`` alone)."""

    __props__ = ("full_matrices", "compute_uv")

    def __init__(self, full_matrices=True, compute_uv=True):
        self.full_matrices = bool(full_matrices)
        self.compute_uv = bool(compute_uv)
        if not compute_uv:
            self.gufunc_signature = "(m,n)->(k)"
        elif full_matrices:
            self.gufunc_signature = "(m,n)->(m,m),(k),(n,n)"
        else:
            self.gufunc_signature = "(m,n)->(m,k),(k),(k,n)"

    def make_node(self, x):
        x = _check_core_matrix(x, "svd")
        m, n = x.type.shape
        k = min(m, n) if m is not None and n is not None else None
        dt = _float_dtype(x.type.dtype)
        s = TensorType(dt, (k,)).make_variable()
        if not self.compute_uv:
            return Apply(self, [x], [s])
        if self.full_matrices:
            U, Vh = TensorType(dt, (m, m)), TensorType(dt, (n, n))
        else:
            U, Vh = TensorType(dt, (m, k)), TensorType(dt, (k, n))
        return Apply(self, [x], [U.make_variable(), s, Vh.make_variable()])

    def perform(self, node, inputs, output_storage):
        res = np.linalg.svd(inputs[0], full_matrices=self.full_matrices, compute_uv=self.compute_uv)
        res = (res,) if not self.compute_uv else tuple(res)
        for cell, r, o in zip(output_storage, res, node.outputs):
            cell[0] = np.asarray(r, dtype=o.type.dtype)

    def perform_batched(self, inputs, core_ndims):
        res = np.linalg.svd(inputs[0], full_matrices=self.full_matrices, compute_uv=self.compute_uv)
        return [res] if not self.compute_uv else list(res)

    def infer_shape(self, fgraph, node, input_shapes):
        from opgraph.kernel_core.tensor.math import minimum

        m, n = input_shapes[0]
        k = min(m, n) if isinstance(m, int) and isinstance(n, int) else minimum(m, n)
        if not self.compute_uv:
            return [(k,)]
        if self.full_matrices:
            return [(m, m), (k,), (n, n)]
        return [(m, k), (k,), (k, n)]

    def L_op(self, inputs, outputs, output_grads):
        """Townsend (2016), for real x = U S Vh with k = min(m, n) singular values:

            x_bar = U [J S + diag(s_bar) + S K] Vh + (I - U U^T) U_bar S^-1 Vh + U S^-1 Vh_bar (I - Vh^T Vh)
            J = F o (U^T U_bar - U_bar^T U),  K = F o (Vh Vh_bar^T - Vh_bar Vh^T),
            F_ij = 1 / (s_j^2 - s_i^2) off the diagonal, 0 on it.

        Defined for distinct non-zero singular values (like the decomposition's
        vectors themselves).  With full_matrices=True the columns of U / rows of Vh
        beyond k are an arbitrary completion that x does not determine: a matrix known
        to be non-square raises, and otherwise they contribute nothing.
        """
        (x,) = inputs
        if not self.compute_uv:
            (gs,) = output_grads
            if _is_zero(gs):
                return [None]
            U, s, Vh = svd(x, full_matrices=False, compute_uv=True)
            return [_mm(U * _row(as_tensor_variable(gs)), Vh)]
        gU, gs, gVh = output_grads
        U, s, Vh = outputs
        vectors = not (_is_zero(gU) and _is_zero(gVh))
        if self.full_matrices:
            m, n = x.type.shape[-2:]
            if vectors and m is not None and n is not None and m != n:
                raise NotImplementedError("the gradient of svd's singular vectors with full_matrices=True needs a "
                                          "square matrix; use full_matrices=False")
            from opgraph.kernel_core.tensor.shape import shape_i

            k = s.type.shape[-1] if s.type.shape[-1] is not None else shape_i(s, s.type.ndim - 1)
            U, Vh = U[..., :, :k], Vh[..., :k, :]
            if vectors:
                gU = None if _is_zero(gU) else as_tensor_variable(gU)[..., :, :k]
                gVh = None if _is_zero(gVh) else as_tensor_variable(gVh)[..., :k, :]
        if not vectors:
            return [_mm(U * _row(as_tensor_variable(gs)), Vh)]
        return [_svd_vectors_pullback(U, s, Vh, _as_batch_grad(gU, U), _as_batch_grad(gs, s),
                                      _as_batch_grad(gVh, Vh))]


def _svd_vectors_pullback(U, s, Vh, gU, gs, gVh):
    from opgraph.kernel_core.tensor.construction import eye
    from opgraph.kernel_core.tensor.shape import shape_i

    k = shape_i(s, s.type.ndim - 1)
    identity = eye(k, dtype=s.type.dtype)
    s2 = s * s
    # 1 / (s_j^2 - s_i^2) off the diagonal; the diagonal's denominator is made 1, then masked.
    F = (1 - identity) / (_row(s2) - _col(s2) + identity)
    UtgU = _mm(_mT(U), gU)
    VhgV = _mm(Vh, _mT(gVh))
    J = F * (UtgU - _mT(UtgU))
    K = F * (VhgV - _mT(VhgV))
    core = J * _row(s) + identity * _row(gs) + _col(s) * K
    inv_s = 1 / s
    # Components of U_bar outside U's column space, and of Vh_bar outside Vh's row space
    # (zero when U, resp. Vh, is square).
    u_rest = (gU - _mm(U, UtgU)) * _row(inv_s)
    vh_rest = _col(inv_s) * (gVh - _mm(_mT(VhgV), Vh))
    return _mm(_mm(U, core) + u_rest, Vh) + _mm(U, vh_rest)


def svd(a, full_matrices=True, compute_uv=True):
    """``(U, s, Vh)`` (NumPy order) or, with ``compute_uv=False``, the singular values."""
    a = _check_matrix(a, "svd")
    op = SVD(full_matrices, compute_uv)
    if a.type.ndim == 2:
        outs = op(a, return_list=True)
    else:
        outs = Blockwise(op).make_node(a).outputs
    return tuple(outs) if compute_uv else outs[0]


class QR(_CoreOp):
    """QR decomposition; ``mode`` is 'reduced', 'complete' or 'r'."""

    __props__ = ("mode",)

    def __init__(self, mode="reduced"):
        if mode not in ("reduced", "complete", "r"):
            raise ValueError(f"qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
        self.mode = mode
        self.gufunc_signature = {"reduced": "(m,n)->(m,k),(k,n)", "complete": "(m,n)->(m,m),(m,n)",
                                 "r": "(m,n)->(k,n)"}[mode]

    def __str__(self):
        return f"QR{{mode={self.mode!r}}}"

    def make_node(self, x):
        x = _check_core_matrix(x, "qr")
        m, n = x.type.shape
        k = min(m, n) if m is not None and n is not None else None
        dt = _float_dtype(x.type.dtype)
        if self.mode == "reduced":
            outs = [TensorType(dt, (m, k)), TensorType(dt, (k, n))]
        elif self.mode == "complete":
            outs = [TensorType(dt, (m, m)), TensorType(dt, (m, n))]
        else:
            outs = [TensorType(dt, (k, n))]
        return Apply(self, [x], [t.make_variable() for t in outs])

    def perform(self, node, inputs, output_storage):
        res = np.linalg.qr(inputs[0], mode=self.mode)
        res = (res,) if self.mode == "r" else tuple(res)
        for cell, r, o in zip(output_storage, res, node.outputs):
            cell[0] = np.asarray(r, dtype=o.type.dtype)

    def perform_batched(self, inputs, core_ndims):
        res = np.linalg.qr(inputs[0], mode=self.mode)
        return [res] if self.mode == "r" else list(res)

    def infer_shape(self, fgraph, node, input_shapes):
        from opgraph.kernel_core.tensor.math import minimum

        m, n = input_shapes[0]
        k = min(m, n) if isinstance(m, int) and isinstance(n, int) else minimum(m, n)
        if self.mode == "reduced":
            return [(m, k), (k, n)]
        if self.mode == "complete":
            return [(m, m), (m, n)]
        return [(k, n)]

    def L_op(self, inputs, outputs, output_grads):
        # Reduced QR with m >= n (R square):  M = R gR^T - gQ^T Q,
        # A_bar = (gQ + Q copyltu(M)) R^-T, copyltu mirrors the lower triangle.
        if self.mode != "reduced":
            raise NotImplementedError("the gradient of qr is implemented for mode='reduced' only")
        (x,) = inputs
        m, n = x.type.shape[-2:]
        if m is not None and n is not None and m < n:
            raise NotImplementedError("the gradient of qr needs a tall or square matrix (m >= n)")
        Q, R = outputs
        gQ = _as_batch_grad(output_grads[0], Q)
        gR = _as_batch_grad(output_grads[1], R)
        M = _mm(R, _mT(gR)) - _mm(_mT(gQ), Q)
        copyltu = _tril(M) + _mT(_tril(M, -1))
        B = gQ + _mm(Q, copyltu)
        return [_mT(solve_triangular(R, _mT(B), lower=False))]


def qr(a, mode="reduced"):
    """``(Q, R)`` (or ``R`` for mode='r') of (each matrix in) ``a``."""
    a = _check_matrix(a, "qr")
    op = QR(mode)
    outs = op(a, return_list=True) if a.type.ndim == 2 else Blockwise(op).make_node(a).outputs
    return outs[0] if mode == "r" else tuple(outs)


# -- Kronecker product -------------------------------------------------------------------
class Kron(Op):
    """Kronecker product of two tensors of the same rank (NumPy ``kron``)."""

    __props__ = ()

    def make_node(self, a, b):
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        if a.type.ndim != b.type.ndim or a.type.ndim == 0:
            raise TypeError(f"Kron takes two tensors of the same rank >= 1, got {a.type.short_str()} and "
                            f"{b.type.short_str()} (pt.linalg.kron pads the smaller one)")
        shape = tuple(None if p is None or q is None else p * q for p, q in zip(a.type.shape, b.type.shape))
        return Apply(self, [a, b], [TensorType(upcast(a.type.dtype, b.type.dtype), shape).make_variable()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(np.kron(*inputs), dtype=node.outputs[0].type.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        from opgraph.kernel_core.tensor.math import mul

        out = []
        for p, q in zip(*input_shapes):
            out.append(p * q if isinstance(p, int) and isinstance(q, int) else mul(p, q))
        return [tuple(out)]

    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.reduction import sum as reduce_sum
        from opgraph.kernel_core.tensor.shape import reshape, shape_i

        a, b = inputs
        (gz,) = output_grads
        nd = a.type.ndim

        def dim(x, d):
            return x.type.shape[d] if x.type.shape[d] is not None else shape_i(x, d)

        # out[i0*p0 + j0, ...] = a[i0, ...] * b[j0, ...]: view gz as (a0, b0, a1, b1, ...).
        g4 = reshape(gz, [d for k in range(nd) for d in (dim(a, k), dim(b, k))])
        a_exp = DimShuffle(nd, [x for k in range(nd) for x in (k, "x")])(a)
        b_exp = DimShuffle(nd, [x for k in range(nd) for x in ("x", k)])(b)
        ga = reduce_sum(g4 * b_exp, axis=tuple(range(1, 2 * nd, 2)))
        gb = reduce_sum(g4 * a_exp, axis=tuple(range(0, 2 * nd, 2)))
        return [ga, gb]


def kron(a, b):
    """Kronecker product (the lower-rank input gets leading length-1 axes, like NumPy)."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.type.ndim == 0 or b.type.ndim == 0:
        from opgraph.kernel_core.tensor.math import mul

        return mul(a, b)
    nd = max(a.type.ndim, b.type.ndim)
    if a.type.ndim < nd:
        a = DimShuffle(a.type.ndim, ["x"] * (nd - a.type.ndim) + list(range(a.type.ndim)))(a)
    if b.type.ndim < nd:
        b = DimShuffle(b.type.ndim, ["x"] * (nd - b.type.ndim) + list(range(b.type.ndim)))(b)
    return Kron()(a, b)


# -- diagonals ------------------------------------------------------------------------
def _diag_len(n1, n2, offset):
    if n1 is None or n2 is None:
        return None
    return max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))


class ExtractDiag(Op):
    """The diagonal ``offset`` of axes ``axis1``/``axis2`` (moved to the last axis), like np.diagonal."""

    __props__ = ("offset", "axis1", "axis2")

    def __init__(self, offset=0, axis1=0, axis2=1):
        self.offset, self.axis1, self.axis2 = int(offset), int(axis1), int(axis2)
        if self.axis1 == self.axis2:
            raise ValueError("diagonal: axis1 and axis2 must differ")

    def make_node(self, x):
        x = as_tensor_variable(x)
        nd = x.type.ndim
        if nd < 2 or not (0 <= self.axis1 < nd and 0 <= self.axis2 < nd):
            raise ValueError(f"diagonal: axes ({self.axis1}, {self.axis2}) are invalid for {x} ({x.type.short_str()})")
        rest = tuple(s for d, s in enumerate(x.type.shape) if d not in (self.axis1, self.axis2))
        length = _diag_len(x.type.shape[self.axis1], x.type.shape[self.axis2], self.offset)
        return Apply(self, [x], [TensorType(x.type.dtype, rest + (length,)).make_variable()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.diagonal(inputs[0], self.offset, self.axis1, self.axis2).copy()

    def infer_shape(self, fgraph, node, input_shapes):
        from opgraph.kernel_core.tensor import math as tm

        (s,) = input_shapes
        rest = tuple(v for d, v in enumerate(s) if d not in (self.axis1, self.axis2))
        static = node.outputs[0].type.shape[-1]
        if static is not None:
            return [rest + (static,)]
        n1, n2, k = s[self.axis1], s[self.axis2], self.offset
        length = tm.minimum(n1, tm.sub(n2, k)) if k >= 0 else tm.minimum(tm.add(n1, k), n2)
        return [rest + (tm.maximum(length, 0),)]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        return [EmbedDiag(self.offset, self.axis1, self.axis2)(x, output_grads[0])]


class EmbedDiag(Op):
    """Zeros shaped like ``template`` with ``v`` on its diagonal (ExtractDiag's pullback)."""

    __props__ = ("offset", "axis1", "axis2")

    def __init__(self, offset=0, axis1=0, axis2=1):
        self.offset, self.axis1, self.axis2 = int(offset), int(axis1), int(axis2)

    def make_node(self, template, v):
        template = as_tensor_variable(template)
        v = as_tensor_variable(v)
        dt = upcast(template.type.dtype, v.type.dtype)
        return Apply(self, [template, v], [TensorType(dt, template.type.shape).make_variable()])

    def perform(self, node, inputs, output_storage):
        template, v = inputs
        out = np.zeros(template.shape, dtype=node.outputs[0].type.dtype)
        # np.diagonal is read-only: write through fancy indices on a moved-axes view.
        view = np.moveaxis(out, (self.axis1, self.axis2), (-2, -1))
        k = self.offset
        length = v.shape[-1]
        rows = np.arange(length) + max(0, -k)
        cols = np.arange(length) + max(0, k)
        view[..., rows, cols] = v
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [tuple(input_shapes[0])]

    def L_op(self, inputs, outputs, output_grads):
        return [None, ExtractDiag(self.offset, self.axis1, self.axis2)(output_grads[0])]


class AllocDiag(Op):
    """A square matrix with vector ``v`` on diagonal ``offset`` (np.diag of a vector)."""

    __props__ = ("offset",)

    def __init__(self, offset=0):
        self.offset = int(offset)

    def make_node(self, v):
        v = as_tensor_variable(v)
        if v.type.ndim != 1:
            raise TypeError(f"AllocDiag takes a vector, got {v} ({v.type.short_str()})")
        n = v.type.shape[0]
        m = None if n is None else n + abs(self.offset)
        return Apply(self, [v], [TensorType(v.type.dtype, (m, m)).make_variable()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.diag(inputs[0], self.offset)

    def infer_shape(self, fgraph, node, input_shapes):
        from opgraph.kernel_core.tensor.math import add

        (n,) = input_shapes[0]
        m = n + abs(self.offset) if isinstance(n, int) else add(n, abs(self.offset))
        return [(m, m)]

    def L_op(self, inputs, outputs, output_grads):
        return [ExtractDiag(self.offset)(output_grads[0])]


def diag(v, k=0):
    """NumPy ``diag``: a vector becomes a diagonal matrix, a matrix gives its diagonal."""
    v = as_tensor_variable(v)
    if v.type.ndim == 1:
        return AllocDiag(k)(v)
    if v.type.ndim == 2:
        return ExtractDiag(k)(v)
    raise ValueError(f"diag: {v} must be a vector or a matrix, got {v.type.short_str()}")


def diagonal(a, offset=0, axis1=0, axis2=1):
    """NumPy ``diagonal``."""
    a = as_tensor_variable(a)
    nd = a.type.ndim
    return ExtractDiag(offset, axis1 % max(nd, 1), axis2 % max(nd, 1))(a)


def trace(x, offset=0, axis1=0, axis2=1):
    """Sum along a diagonal (NumPy ``trace``)."""
    from opgraph.kernel_core.tensor.reduction import sum as reduce_sum

    x = as_tensor_variable(x)
    if x.type.ndim < 2:
        raise ValueError(f"trace: {x} must have at least 2 dimensions, got {x.type.short_str()}")
    d = diagonal(x, offset, axis1, axis2)
    return reduce_sum(d, axis=-1)


# -- norms ------------------------------------------------------------------------------
_INF = float("inf")


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector / matrix norms with NumPy's ``ord`` and ``axis`` conventions."""
    from opgraph.kernel_core.tensor import math as tm
    from opgraph.kernel_core.tensor import reduction as red

    x = as_tensor_variable(x)
    nd = x.type.ndim
    if not x.type.dtype.startswith(("float", "complex")):
        x = tm.cast(x, "float64")
    if axis is None:
        if ord is None:
            out = tm.sqrt(red.sum(tm.sqr(tm.abs(x))))
            return _keep(out, tuple(range(nd)), nd, keepdims)
        # A batch of matrices (..., m, n) with ord given: one matrix norm per matrix, as
        # NumPy's norm(x, ord, axis=(-2, -1)).
        axis = (0,) if nd == 1 else (nd - 2, nd - 1)
    elif isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    axis = tuple(int(a) % nd if -nd <= a < nd else _bad_axis(a, x) for a in axis)
    if len(set(axis)) != len(axis):
        raise ValueError(f"norm: repeated axis in {axis}")
    if len(axis) == 1:
        a = axis
        if ord is None or ord == 2:
            out = tm.sqrt(red.sum(tm.sqr(tm.abs(x)), axis=a))
        elif ord == _INF:
            out = red.max(tm.abs(x), axis=a)
        elif ord == -_INF:
            out = red.min(tm.abs(x), axis=a)
        elif ord == 0:
            out = red.sum(tm.cast(tm.neq(x, 0), x.type.dtype), axis=a)
        elif ord == 1:
            out = red.sum(tm.abs(x), axis=a)
        elif isinstance(ord, str):
            raise ValueError(f"norm: ord={ord!r} is a matrix norm; vectors take None, inf, -inf, 0 or a number")
        else:
            out = tm.pow(red.sum(tm.pow(tm.abs(x), ord), axis=a), 1.0 / ord)
        return _keep(out, a, nd, keepdims)
    if len(axis) != 2:
        raise ValueError(f"norm: axis must name 1 or 2 axes, got {axis}")
    r, c = axis
    if ord is None or ord == "fro":
        out = tm.sqrt(red.sum(tm.sqr(tm.abs(x)), axis=axis))
    elif ord in ("nuc", 2, -2):
        rest = [d for d in range(nd) if d not in axis]
        moved = DimShuffle(nd, rest + [r, c])(x) if rest + [r, c] != list(range(nd)) else x
        s = svd(moved, compute_uv=False)
        out = {"nuc": lambda: red.sum(s, axis=-1), 2: lambda: red.max(s, axis=-1),
               -2: lambda: red.min(s, axis=-1)}[ord]()
    elif ord in (1, -1):
        col_sums = red.sum(tm.abs(x), axis=r, keepdims=True)
        out = (red.max if ord == 1 else red.min)(col_sums, axis=axis)
    elif ord in (_INF, -_INF):
        row_sums = red.sum(tm.abs(x), axis=c, keepdims=True)
        out = (red.max if ord == _INF else red.min)(row_sums, axis=axis)
    else:
        raise ValueError(f"norm: invalid matrix norm ord={ord!r}; use None, 'fro', 'nuc', 1, -1, 2, -2, inf or -inf")
    return _keep(out, axis, nd, keepdims)


def _bad_axis(a, x):
    raise ValueError(f"norm: axis {a} is out of bounds for {x} ({x.type.short_str()})")


def _keep(out, axes, nd, keepdims):
    if not keepdims:
        return out
    order, it = [], iter(range(out.type.ndim))
    for d in range(nd):
        order.append("x" if d in axes else next(it))
    return DimShuffle(out.type.ndim, order)(out)


# Families in their own files, re-exported here so ``pt.linalg`` holds every linear-algebra name.
from opgraph.kernel_core.tensor import linalg_derived as _derived  # noqa: E402
from opgraph.kernel_core.tensor import linalg_expm as _expm  # noqa: E402
from opgraph.kernel_core.tensor import linalg_lu as _lu  # noqa: E402
from opgraph.kernel_core.tensor.linalg_derived import *  # noqa: E402,F401,F403
from opgraph.kernel_core.tensor.linalg_expm import *  # noqa: E402,F401,F403
from opgraph.kernel_core.tensor.linalg_lu import *  # noqa: E402,F401,F403

__all__ += _derived.__all__ + _expm.__all__ + _lu.__all__

"""Linear algebra as njit code: numba's ``np.linalg`` where it exists, loops otherwise.

- det, slogdet, inv, solve (all ``assume_a``), cholesky, eigh, svd, qr
  (reduced / r): numba's LAPACK-backed ``np.linalg``.  Routines that read one
  triangle (solve with sym/her/pos, cholesky, eigh) get the matrix symmetrised
  from that triangle first, so the result never depends on what numba's
  LAPACK call happens to read.
- solve_triangular: substitution loops (numba has no triangular solver).
- kron, ExtractDiag, EmbedDiag, AllocDiag: generated loops.
- QR with mode='complete' is the one op left in objmode (``fallback.py``):
  numba's ``np.linalg.qr`` only returns the reduced factorisation, and the
  extra columns of a complete Q are LAPACK's particular choice.
"""

from __future__ import annotations

from opgraph.kernel_core.backends.numba.assign import assign_lines
from opgraph.kernel_core.backends.numba.dispatch import np_dtype, numba_funcify
from opgraph.kernel_core.backends.numba.views import permuted_view
from opgraph.kernel_core.tensor.linalg import (
    QR,
    SVD,
    AllocDiag,
    Cholesky,
    Det,
    EmbedDiag,
    Eigh,
    ExtractDiag,
    Kron,
    MatrixInverse,
    SLogDet,
    Solve,
    NOT_FINITE_MESSAGE,
    SolveTriangular,
)


def _as_float(name, var, out_dtype):
    """A contiguous operand of the output dtype (numba's LAPACK wants equal float dtypes)."""
    if var.type.dtype == out_dtype:
        return f"np.ascontiguousarray({name})"
    return f"{name}.astype({np_dtype(out_dtype)})"


def _square_check(name, who):
    return [f"    if {name}.shape[0] != {name}.shape[1]:",
            f"        raise ValueError('{who}: the matrix must be square')"]


def _symmetrize(src, dst, lower, conj):
    """Lines making ``dst`` the symmetric (hermitian) matrix held by one triangle of ``src``."""
    tri = "lower" if lower else "upper"
    c = ".conjugate()" if conj else ""
    return [f"    {dst} = {src}.copy()  # symmetric from the {tri} triangle",
            f"    for r in range({dst}.shape[0]):",
            f"        for c in range(r + 1, {dst}.shape[1]):",
            f"            {dst}[r, c] = {dst}[c, r]{c}" if lower else f"            {dst}[c, r] = {dst}[r, c]{c}"]


def _is_complex(dtype):
    return dtype.startswith("complex")


@numba_funcify.register(Det)
def _funcify_det(op, node, ctx):
    dt = node.outputs[0].type.dtype
    src = ["def {name}(x):"] + _square_check("x", "det") + [
        f"    return np.asarray(np.linalg.det({_as_float('x', node.inputs[0], dt)}))"]
    return ctx.define("\n".join(src) + "\n", prefix="det")


@numba_funcify.register(SLogDet)
def _funcify_slogdet(op, node, ctx):
    dt = node.outputs[0].type.dtype
    src = ["def {name}(x):"] + _square_check("x", "slogdet") + [
        f"    sign, logdet = np.linalg.slogdet({_as_float('x', node.inputs[0], dt)})",
        f"    return np.asarray({np_dtype(dt)}(sign)), np.asarray({np_dtype(node.outputs[1].type.dtype)}(logdet))"]
    return ctx.define("\n".join(src) + "\n", prefix="slogdet")


@numba_funcify.register(MatrixInverse)
def _funcify_inv(op, node, ctx):
    dt = node.outputs[0].type.dtype
    src = ["def {name}(x):"] + _square_check("x", "inv") + [
        f"    return np.linalg.inv({_as_float('x', node.inputs[0], dt)})"]
    return ctx.define("\n".join(src) + "\n", prefix="inv")


# LAPACK's type letter per dtype (numba's ``kind`` argument).
_GESV_KINDS = {"float32": "s", "float64": "d", "complex64": "c", "complex128": "z"}


def _gesv_lines(ctx, a, b, b_ndim, dtype, out, indent="    "):
    """Statements setting ``out`` to the solution of ``a @ out = b`` with loops and one
    LAPACK call (solve_kernels.py says why): ``a`` (n, n) and ``b`` ((n,) when ``b_ndim``
    is 1, else (n, k)) are names of arrays of ``dtype`` (float32 / float64 / complex64 /
    complex128) with matching shapes."""
    gesv = ctx.import_name("opgraph.kernel_core.backends.numba.solve_kernels", "gesv")
    ipiv = ctx.import_name("opgraph.kernel_core.backends.numba.solve_kernels", "F_INT_nptype")
    err = ctx.import_name("numpy.linalg", "LinAlgError")
    p = indent
    lines = [f"{p}n_ = {a}.shape[0]",
             f"{p}k_ = 1" if b_ndim == 1 else f"{p}k_ = {b}.shape[1]",
             f"{p}for i_ in range(n_):",
             f"{p}    for j_ in range(n_):",
             f"{p}        if not np.isfinite({a}[i_, j_]):",
             f"{p}            raise {err}('Array must not contain infs or NaNs.')",
             f"{p}    for j_ in range(k_):",
             f"{p}        if not np.isfinite({b}[i_]{'' if b_ndim == 1 else '[j_]'}):",
             f"{p}            raise {err}('Array must not contain infs or NaNs.')",
             # ?gesv overwrites both operands: Fortran-order copies (a transposed C array).
             f"{p}af_ = np.empty((n_, n_), dtype=np.{dtype}).T"]
    lines += [p + ln for ln in assign_lines("af_", a, 2, tag="ga_")]
    if b_ndim == 1:
        lines += [f"{p}{out} = {b}.copy()"]   # a contiguous vector is an (n, 1) Fortran matrix
    else:
        lines += [f"{p}{out} = np.empty((k_, n_), dtype=np.{dtype}).T"]
        lines += [p + ln for ln in assign_lines(out, b, 2, tag="gb_")]
    lines += [f"{p}if n_ > 0:",
              f"{p}    ipiv_ = np.empty(n_, dtype={ipiv})",
              f"{p}    info_ = {gesv}({ord(_GESV_KINDS[dtype])}, n_, k_, af_.ctypes, n_, ipiv_.ctypes, "
              f"{out}.ctypes, n_)",
              f"{p}    if info_ != 0:",
              f"{p}        raise {err}('Matrix is singular to machine precision.')",
              # the copies must live until the call returns (numba frees by liveness)
              f"{p}    ipiv_[0] = ipiv_[0] + 0 * af_.size"]
    return lines


@numba_funcify.register(Solve)
def _funcify_solve(op, node, ctx):
    A, b = node.inputs
    dt = node.outputs[0].type.dtype
    lines = ["def {name}(A, b):"] + _square_check("A", "solve") + [
        "    if b.shape[0] != A.shape[0]:",
        "        raise ValueError('solve: A and b have incompatible shapes')",
        f"    a = {_as_float('A', A, dt)}",
        f"    bb = {_as_float('b', b, dt)}"]
    system = "a"
    if op.assume_a != "gen":
        lines += _symmetrize("a", "s", op.lower, conj=op.assume_a == "her" or _is_complex(dt))
        if op.assume_a == "pos":
            lines.append("    np.linalg.cholesky(s)  # raises when s is not positive definite, like scipy")
        system = "s"
    # LAPACK's gesv as np.linalg.solve calls it, without numba's solve (_gesv_lines)
    lines += _gesv_lines(ctx, system, "bb", b.type.ndim, dt, "x") + ["    return x"]
    return ctx.define("\n".join(lines) + "\n", prefix="solve")


@numba_funcify.register(SolveTriangular)
def _funcify_solve_triangular(op, node, ctx):
    A, b = node.inputs
    dt = node.outputs[0].type.dtype
    err = ctx.import_name("numpy.linalg", "LinAlgError")
    # Solving with A.T and a lower A is solving with an upper matrix: pick the effective triangle.
    eff_lower = op.lower != bool(op.trans)
    elem = "a[i, k]" if not op.trans else "a[k, i]"
    diag = "a[i, i]"
    order = "range(n)" if eff_lower else "range(n - 1, -1, -1)"
    inner = "range(i)" if eff_lower else "range(i + 1, n)"
    lines = ["def {name}(A, b):"] + _square_check("A", "solve_triangular") + [
        "    if b.shape[0] != A.shape[0]:",
        "        raise ValueError('solve_triangular: A and b have incompatible shapes')"]
    if op.check_finite:
        lines += ["    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b))):",
                  f"        raise ValueError({NOT_FINITE_MESSAGE!r})"]
    lines += [
        f"    a = {_as_float('A', A, dt)}",
        f"    x = b.astype({np_dtype(dt)})",
        "    n = a.shape[0]"]
    if not op.unit_diagonal:
        lines += ["    for i in range(n):",
                  "        if a[i, i] == 0:",
                  f"            raise {err}('solve_triangular: singular matrix')"]
    # Row updates of a matrix b are written as loops over its columns: ``x[i] -= f * x[k]``
    # on rows would be numba's array-valued setitem, whose shape-error path formats strings
    # (seconds of a cold compile; assign.py).
    if b.type.ndim == 1:
        lines += [f"    for i in {order}:",
                  f"        for k in {inner}:",
                  f"            x[i] -= {elem} * x[k]"]
        if not op.unit_diagonal:
            lines.append(f"        x[i] /= {diag}")
    else:
        lines += [f"    for i in {order}:",
                  f"        for k in {inner}:",
                  f"            f = {elem}",
                  "            for c in range(x.shape[1]):",
                  "                x[i, c] -= f * x[k, c]"]
        if not op.unit_diagonal:
            lines += [f"        d = {diag}",
                      "        for c in range(x.shape[1]):",
                      "            x[i, c] /= d"]
    lines.append("    return x")
    return ctx.define("\n".join(lines) + "\n", prefix="solve_triangular")


@numba_funcify.register(Cholesky)
def _funcify_cholesky(op, node, ctx):
    dt = node.outputs[0].type.dtype
    x = node.inputs[0]
    lines = ["def {name}(x):"] + _square_check("x", "cholesky") + [f"    a = {_as_float('x', x, dt)}"]
    lines += _symmetrize("a", "s", True, _is_complex(dt))
    if op.on_error == "nan":
        lines += ["    try:",
                  "        L = np.linalg.cholesky(s)",
                  "    except Exception:",
                  f"        return np.full(s.shape, np.nan, dtype={np_dtype(dt)})"]
    else:
        lines.append("    L = np.linalg.cholesky(s)")
    if op.lower:
        lines.append("    return L")
    else:
        lines.append("    return np.ascontiguousarray(L.T)" if not _is_complex(dt)
                     else "    return np.ascontiguousarray(L.T).conjugate()")
    return ctx.define("\n".join(lines) + "\n", prefix="cholesky")


@numba_funcify.register(Eigh)
def _funcify_eigh(op, node, ctx):
    dt = node.outputs[1].type.dtype
    lines = ["def {name}(x):"] + _square_check("x", "eigh") + [f"    a = {_as_float('x', node.inputs[0], dt)}"]
    lines += _symmetrize("a", "s", True, _is_complex(dt))
    lines += ["    w, v = np.linalg.eigh(s)",
              f"    return w.astype({np_dtype(node.outputs[0].type.dtype)}), v"]
    return ctx.define("\n".join(lines) + "\n", prefix="eigh")


@numba_funcify.register(SVD)
def _funcify_svd(op, node, ctx):
    dt = node.outputs[-1].type.dtype if op.compute_uv else node.outputs[0].type.dtype
    full = 1 if op.full_matrices else 0
    lines = ["def {name}(x):",
             f"    u, s, vh = np.linalg.svd({_as_float('x', node.inputs[0], dt)}, full_matrices={bool(full)})"]
    s_dt = np_dtype(node.outputs[1 if op.compute_uv else 0].type.dtype)
    lines.append(f"    return u, s.astype({s_dt}), vh" if op.compute_uv else f"    return s.astype({s_dt})")
    return ctx.define("\n".join(lines) + "\n", prefix="svd")


@numba_funcify.register(QR)
def _funcify_qr(op, node, ctx):
    if op.mode == "complete":
        from opgraph.kernel_core.backends.numba.fallback import perform_in_objmode

        return perform_in_objmode(op, node, ctx)
    dt = node.outputs[0].type.dtype
    lines = ["def {name}(x):", f"    q, r = np.linalg.qr({_as_float('x', node.inputs[0], dt)})"]
    lines.append("    return q, r" if op.mode == "reduced" else "    return r")
    return ctx.define("\n".join(lines) + "\n", prefix="qr")


@numba_funcify.register(Kron)
def _funcify_kron(op, node, ctx):
    nd = node.inputs[0].type.ndim
    dt = np_dtype(node.outputs[0].type.dtype)
    shape = "(" + "".join(f"a.shape[{d}] * b.shape[{d}], " for d in range(nd)) + ")"
    lines = ["def {name}(a, b):", f"    out = np.empty({shape}, dtype={dt})"]
    # Scalar loops over a's and b's indices, not a block assignment ``out[block] = a[i] * b``:
    # numba compiles an array-valued setitem with a shape-error path that formats strings
    # (seconds of a cold compile; assign.py).
    for d in range(nd):
        lines.append("    " * (d + 1) + f"for i{d} in range(a.shape[{d}]):")
    for d in range(nd):
        lines.append("    " * (nd + d + 1) + f"for j{d} in range(b.shape[{d}]):")
    pad = "    " * (2 * nd + 1)
    at = ", ".join(f"i{d} * b.shape[{d}] + j{d}" for d in range(nd))
    ai = ", ".join(f"i{d}" for d in range(nd))
    bj = ", ".join(f"j{d}" for d in range(nd))
    lines.append(f"{pad}out[{at}] = a[{ai}] * b[{bj}]")
    lines.append("    return out")
    return ctx.define("\n".join(lines) + "\n", prefix="kron")


def _moved_axes(ndim, axis1, axis2):
    """The permutation putting axis1, axis2 last (np.diagonal's layout)."""
    return [d for d in range(ndim) if d not in (axis1, axis2)] + [axis1, axis2]


@numba_funcify.register(ExtractDiag)
def _funcify_extract_diag(op, node, ctx):
    nd = node.inputs[0].type.ndim
    perm = _moved_axes(nd, op.axis1, op.axis2)
    k = op.offset
    rest = "".join(f"x.shape[{p}], " for p in perm[:-2])
    lines = ["def {name}(x):",
             f"    xp = np.ascontiguousarray({permuted_view('x', perm)})",
             "    n1 = xp.shape[-2]",
             "    n2 = xp.shape[-1]",
             "    x3 = xp.reshape((-1, n1, n2))" if nd > 2 else "    x3 = xp.reshape((1, n1, n2))",
             f"    length = max(0, min(n1, n2 - {k}) if {k} >= 0 else min(n1 + {k}, n2))",
             f"    out = np.empty((x3.shape[0], length), dtype={np_dtype(node.outputs[0].type.dtype)})",
             "    for b in range(x3.shape[0]):",
             "        for t in range(length):",
             f"            out[b, t] = x3[b, t + {max(0, -k)}, t + {max(0, k)}]",
             f"    return out.reshape(({rest}length, ))"]
    return ctx.define("\n".join(lines) + "\n", prefix="extract_diag")


@numba_funcify.register(EmbedDiag)
def _funcify_embed_diag(op, node, ctx):
    nd = node.inputs[0].type.ndim
    perm = _moved_axes(nd, op.axis1, op.axis2)
    inverse = [perm.index(d) for d in range(nd)]
    k = op.offset
    shape = "".join(f"template.shape[{p}], " for p in perm)
    lines = ["def {name}(template, v):",
             f"    outp = np.zeros(({shape}), dtype={np_dtype(node.outputs[0].type.dtype)})",
             "    o3 = outp.reshape((-1, outp.shape[-2], outp.shape[-1]))",
             "    vb = np.ascontiguousarray(np.broadcast_to(v, outp.shape[:-2] + (v.shape[-1],)))",
             "    v2 = vb.reshape((-1, v.shape[-1]))",
             "    for b in range(o3.shape[0]):",
             "        for t in range(v2.shape[1]):",
             f"            o3[b, t + {max(0, -k)}, t + {max(0, k)}] = v2[b, t]",
             f"    return np.ascontiguousarray({permuted_view('outp', inverse)})"]
    return ctx.define("\n".join(lines) + "\n", prefix="embed_diag")


@numba_funcify.register(AllocDiag)
def _funcify_alloc_diag(op, node, ctx):
    k = op.offset
    lines = ["def {name}(v):",
             f"    m = v.shape[0] + {abs(k)}",
             f"    out = np.zeros((m, m), dtype={np_dtype(node.outputs[0].type.dtype)})",
             "    for t in range(v.shape[0]):",
             f"        out[t + {max(0, -k)}, t + {max(0, k)}] = v[t]",
             "    return out"]
    return ctx.define("\n".join(lines) + "\n", prefix="alloc_diag")


# -- LU, pivots, pseudo-inverse, matrix exponential ---------------------------------------
from opgraph.kernel_core.tensor.linalg import Pinv  # noqa: E402
from opgraph.kernel_core.tensor.linalg_expm import Expm  # noqa: E402
from opgraph.kernel_core.tensor.linalg_lu import LU, LUFactor, PivotToPermutation  # noqa: E402


def _lu_elimination_lines(dt):
    """Lines factoring ``w`` (a copy of ``a``) in place, LAPACK getrf style: partial pivoting on
    the largest magnitude (first one on ties), ``perm`` and ``piv`` recording the row swaps."""
    return [
        "    m = a.shape[0]",
        "    n = a.shape[1]",
        "    k = min(m, n)",
        f"    w = a.astype({dt})",
        "    perm = np.arange(m)",
        "    piv = np.empty(k, dtype=np.int32)",
        "    for j in range(k):",
        "        p = j",
        "        best = abs(w[j, j])",
        "        for i in range(j + 1, m):",
        "            v = abs(w[i, j])",
        "            if v > best:",
        "                best = v",
        "                p = i",
        "        piv[j] = p",
        "        if p != j:",
        "            for c in range(n):",
        "                t = w[j, c]",
        "                w[j, c] = w[p, c]",
        "                w[p, c] = t",
        "            t2 = perm[j]",
        "            perm[j] = perm[p]",
        "            perm[p] = t2",
        "        d = w[j, j]",
        "        if d != 0:",
        "            for i in range(j + 1, m):",
        "                w[i, j] /= d",
        "                f = w[i, j]",
        "                for c in range(j + 1, n):",
        "                    w[i, c] -= f * w[j, c]",
    ]


@numba_funcify.register(LUFactor)
def _funcify_lu_factor(op, node, ctx):
    dt = np_dtype(node.outputs[0].type.dtype)
    lines = ["def {name}(a):"] + _lu_elimination_lines(dt) + ["    return w, piv"]
    return ctx.define("\n".join(lines) + "\n", prefix="lu_factor")


@numba_funcify.register(LU)
def _funcify_lu(op, node, ctx):
    dt = np_dtype(node.outputs[-1].type.dtype)
    lines = ["def {name}(a):"] + _lu_elimination_lines(dt) + [
        f"    L = np.zeros((m, k), dtype={dt})",
        f"    U = np.zeros((k, n), dtype={dt})",
        "    for i in range(m):",
        "        for c in range(min(i, k)):",
        "            L[i, c] = w[i, c]",
        "        if i < k:",
        "            L[i, i] = 1.0",
        "    for r in range(k):",
        "        for c in range(r, n):",
        "            U[r, c] = w[r, c]",
    ]
    # a[perm] = L @ U, so a = P @ L @ U with P[perm[i], i] = 1, and L[p] with p = perm's inverse.
    if op.permute_l:
        lines += [f"    PL = np.empty((m, k), dtype={dt})",
                  "    for i in range(m):",   # a loop copy, not numba's row setitem (assign.py)
                  *("        " + ln for ln in assign_lines("PL[perm[i]]", "L[i]", 1, tag="pl_")),
                  "    return PL, U"]
    elif op.p_indices:
        lines += ["    p = np.empty(m, dtype=np.int64)",
                  "    for i in range(m):",
                  "        p[perm[i]] = i",
                  "    return p, L, U"]
    else:
        lines += [f"    P = np.zeros((m, m), dtype={dt})",
                  "    for i in range(m):",
                  "        P[perm[i], i] = 1.0",
                  "    return P, L, U"]
    return ctx.define("\n".join(lines) + "\n", prefix="lu")


@numba_funcify.register(PivotToPermutation)
def _funcify_pivot_to_permutation(op, node, ctx):
    lines = ["def {name}(piv):",
             "    n = piv.shape[0]",
             "    perm = np.arange(n)",
             "    for i in range(n):",
             "        k = piv[i]",
             "        if k < 0 or k >= n:",
             "            raise IndexError('pivot_to_permutation: a pivot is out of range')",
             "        t = perm[i]",
             "        perm[i] = perm[k]",
             "        perm[k] = t"]
    if op.inverse:
        lines += ["    inv = np.empty(n, dtype=np.int64)",
                  "    for i in range(n):",
                  "        inv[perm[i]] = i",
                  "    return inv"]
    else:
        lines.append("    return perm")
    return ctx.define("\n".join(lines) + "\n", prefix="pivot_to_perm")


@numba_funcify.register(Pinv)
def _funcify_pinv(op, node, ctx):
    dt = node.outputs[0].type.dtype
    # numba's pinv has no ``hermitian`` flag; the SVD route gives the same matrix.
    src = ["def {name}(x):", f"    return np.linalg.pinv({_as_float('x', node.inputs[0], dt)})"]
    return ctx.define("\n".join(src) + "\n", prefix="pinv")


# Degree-13 Pade approximant with scaling and squaring (Higham 2005): its coefficients and
# the 1-norm up to which no scaling is needed.
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


@numba_funcify.register(Expm)
def _funcify_expm(op, node, ctx):
    dt = node.outputs[0].type.dtype
    b = _PADE13
    lines = ["def {name}(x):"] + _square_check("x", "expm") + [
        "    n = x.shape[0]",
        "    a = np.empty((n, n), dtype=np.float64)  # C-contiguous, so '@' takes the BLAS path",
        # Element loops, not ``a[:, :] = x``: numba's array-valued slice setitem costs
        # ~2 s CPU to compile cold (its error path formats shapes with str; assign.py).
        "    for r in range(n):",
        "        for c in range(n):",
        "            a[r, c] = x[r, c]",
        "    if n == 0:",
        f"        return np.empty((0, 0), dtype={np_dtype(dt)})",
        "    norm1 = 0.0",
        "    for c in range(n):",
        "        col = 0.0",
        "        for r in range(n):",
        "            col += abs(a[r, c])",
        "        norm1 = max(norm1, col)",
        "    if not np.isfinite(norm1):",
        f"        return np.full((n, n), np.nan, dtype={np_dtype(dt)})",
        "    s = 0",
        f"    if norm1 > {_THETA13!r}:",
        f"        s = int(np.ceil(np.log2(norm1 / {_THETA13!r})))",
        "        a = a / (2.0 ** s)",
        "    ident = np.eye(n)",
        "    a2 = a @ a",
        "    a4 = a2 @ a2",
        "    a6 = a4 @ a2",
        f"    u = a @ (a6 @ ({b[13]!r} * a6 + {b[11]!r} * a4 + {b[9]!r} * a2)"
        f" + {b[7]!r} * a6 + {b[5]!r} * a4 + {b[3]!r} * a2 + {b[1]!r} * ident)",
        f"    v = a6 @ ({b[12]!r} * a6 + {b[10]!r} * a4 + {b[8]!r} * a2)"
        f" + {b[6]!r} * a6 + {b[4]!r} * a4 + {b[2]!r} * a2 + {b[0]!r} * ident",
        "    vmu = v - u",
        "    vpu = v + u",
        *_gesv_lines(ctx, "vmu", "vpu", 2, "float64", "rf"),
        "    r = np.ascontiguousarray(rf)  # (gesv leaves it in Fortran order; the squarings want C)",
        "    for _ in range(s):",
        "        r = r @ r",
        f"    return r.astype({np_dtype(dt)})",
    ]
    return ctx.define("\n".join(lines) + "\n", prefix="expm")

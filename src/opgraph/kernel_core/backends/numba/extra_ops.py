"""Repeat, TakeAlongAxis, AddAlongAxis, Sort, ArgSort, CumOp, Searchsorted and Unique as
generated njit code.

Every op works along one axis; the array is viewed as ``(outer, n, inner)``
(a C-contiguous copy reshaped), so one small loop nest serves every ndim and
axis and stays cheap to compile.
"""

from __future__ import annotations

from opgraph.kernel_core.backends.numba.dispatch import np_dtype, numba_funcify
from opgraph.kernel_core.backends.numba.views import permuted_view
from opgraph.kernel_core.tensor.extra_ops import (
    AddAlongAxis, ArgSortOp, CumOp, RepeatOp, SearchsortedOp, SortOp, TakeAlongAxis, Unique,
)


# np.sort / np.argsort through kernels compiled once per installation (sort_kernels.py).
_SORT_KERNELS = "opgraph.kernel_core.backends.numba.sort_kernels"


def as_3d(src, dst, axis, ndim, pad="    "):
    """Lines viewing array ``src`` as ``dst`` of shape (outer, n, inner) around ``axis``."""
    outer = " * ".join(f"{src}.shape[{d}]" for d in range(axis)) or "1"
    inner = " * ".join(f"{src}.shape[{d}]" for d in range(axis + 1, ndim)) or "1"
    return [f"{pad}{dst} = np.ascontiguousarray({src}).reshape(({outer}, {src}.shape[{axis}], {inner}))"]


def _shape_with(src, axis, ndim, length):
    return "(" + "".join(f"{length}, " if d == axis else f"{src}.shape[{d}], " for d in range(ndim)) + ")"


@numba_funcify.register(RepeatOp)
def _funcify_repeat(op, node, ctx):
    x, r = node.inputs
    nd, a = x.type.ndim, op.axis
    lines = ["def {name}(x, r):"] + as_3d("x", "x3", a, nd)
    lines.append("    n = x3.shape[1]")
    lines.append("    rr = np.empty(n, dtype=np.int64)")
    if r.type.ndim == 0:
        lines.append("    rr[:] = np.int64(r[()])")
    else:
        lines += ["    if r.shape[0] != n:",
                  "        raise ValueError('repeat: the number of repeats does not match the length of the axis')",
                  "    for j in range(n):",
                  "        rr[j] = r[j]"]
    lines += ["    total = 0",
              "    for j in range(n):",
              "        if rr[j] < 0:",
              "            raise ValueError('repeat: negative repeats')",
              "        total += rr[j]",
              f"    out3 = np.empty((x3.shape[0], total, x3.shape[2]), dtype={np_dtype(node.outputs[0].type.dtype)})",
              "    pos = 0",
              "    for j in range(n):",
              "        for t in range(rr[j]):",
              # Element loops, not ``out3[:, pos, :] = x3[:, j, :]``: numba compiles an
              # array-valued slice setitem with a str-formatting error path, ~2 s CPU
              # cold per rank pair (assign.py).
              "            for o in range(x3.shape[0]):",
              "                for i in range(x3.shape[2]):",
              "                    out3[o, pos, i] = x3[o, j, i]",
              "            pos += 1",
              f"    return out3.reshape({_shape_with('x', a, nd, 'total')})"]
    return ctx.define("\n".join(lines) + "\n", prefix="repeat")


def _check_same_other_dims(a, b, axis, ndim, what):
    lines = []
    for d in range(ndim):
        if d != axis:
            lines += [f"    if {a}.shape[{d}] != {b}.shape[{d}]:",
                      f"        raise ValueError('{what}: shapes differ outside the axis')"]
    return lines


def _loop_nest(dims, body, pad="    "):
    """Lines running ``body`` (lines) inside ``for i{d} in range({dims[d]})`` loops."""
    lines = []
    for d, n in enumerate(dims):
        lines.append(f"{pad}for i{d} in range({n}):")
        pad += "    "
    return lines + [pad + b for b in body]


def _index_along_axis(index, what):
    """Lines reading ``j`` from ``index``: negative values count from the end (``n``), and
    an index outside the axis raises IndexError naming ``what``."""
    return [f"j = {index}", "if j < 0:", "    j += n", "if j < 0 or j >= n:",
            f"    raise IndexError('{what}: index out of bounds')"]


def _index(names):
    return "[" + ", ".join(names) + "]" if names else "[()]"


# TakeAlongAxis and AddAlongAxis are loop nests over the indices' shape, reading
# broadcast operands with a 0/1 factor per axis, not ``np.broadcast_shapes`` /
# ``np.broadcast_to`` + contiguous copies: those are about 20 numba overloads to type
# and compile per rank in every process (issue 18), and the copies cost per call.
@numba_funcify.register(TakeAlongAxis)
def _funcify_take_along_axis(op, node, ctx):
    nd, a = node.inputs[0].type.ndim, op.axis
    # Like NumPy, the dims other than ``axis`` broadcast between x and the indices.
    lines = ["def {name}(x, idx):"]
    dims = []
    for d in range(nd):
        if d == a:
            dims.append(f"idx.shape[{d}]")
            continue
        lines += [f"    if x.shape[{d}] != idx.shape[{d}] and x.shape[{d}] != 1 and idx.shape[{d}] != 1:",
                  "        raise ValueError('take_along_axis: x and the indices do not broadcast')",
                  f"    n{d} = idx.shape[{d}] if x.shape[{d}] == 1 else x.shape[{d}]",
                  f"    bx{d} = 0 if x.shape[{d}] == 1 else 1",
                  f"    bi{d} = 0 if idx.shape[{d}] == 1 else 1"]
        dims.append(f"n{d}")
    lines += [f"    out = np.empty(({''.join(f'{n}, ' for n in dims)}), dtype={np_dtype(node.outputs[0].type.dtype)})",
              f"    n = x.shape[{a}]"]
    ii = [f"i{d}" if d == a else f"i{d} * bi{d}" for d in range(nd)]
    xi = ["j" if d == a else f"i{d} * bx{d}" for d in range(nd)]
    lines += _loop_nest(dims, _index_along_axis(f"idx{_index(ii)}", "take_along_axis") + [f"out{_index([f'i{d}' for d in range(nd)])} = x{_index(xi)}"])
    lines.append("    return out")
    return ctx.define("\n".join(lines) + "\n", prefix="take_along_axis")


@numba_funcify.register(AddAlongAxis)
def _funcify_add_along_axis(op, node, ctx):
    nd, a = node.inputs[0].type.ndim, op.axis
    gnd = node.inputs[1].type.ndim
    off = nd - gnd   # g broadcasts to the indices' shape, trailing axes aligned
    dt = np_dtype(node.outputs[0].type.dtype)
    lines = ["def {name}(x, g, idx):"] + _check_same_other_dims("x", "idx", a, nd, "add_along_axis")
    for e in range(gnd):
        lines += [f"    if g.shape[{e}] != idx.shape[{e + off}] and g.shape[{e}] != 1:",
                  "        raise ValueError('add_along_axis: the gradient does not broadcast to the indices')",
                  f"    bg{e} = 0 if g.shape[{e}] == 1 else 1"]
    lines += [f"    out = np.zeros(x.shape, dtype={dt})", f"    n = x.shape[{a}]"]
    dims = [f"idx.shape[{d}]" for d in range(nd)]
    gi = [f"i{e + off} * bg{e}" for e in range(gnd)]
    oi = ["j" if d == a else f"i{d}" for d in range(nd)]
    lines += _loop_nest(dims, _index_along_axis(f"idx{_index([f'i{d}' for d in range(nd)])}", "add_along_axis") + [f"out{_index(oi)} += g{_index(gi)}"])
    lines.append("    return out")
    return ctx.define("\n".join(lines) + "\n", prefix="add_along_axis")


def _along_axis(node, axis, row_stmt, out_dtype, prefix, ctx):
    """Apply ``row_stmt`` (reads ``row``, writes ``res``) to every 1-d lane along ``axis``
    (axis None: the flattened array)."""
    x = node.inputs[0]
    nd = x.type.ndim
    dt = np_dtype(out_dtype)
    if axis is None:
        lines = ["def {name}(x):", "    x3 = np.ascontiguousarray(x).reshape((1, -1, 1))"]
        final = "out3.reshape(-1)"
    else:
        lines = ["def {name}(x):"] + as_3d("x", "x3", axis, nd)
        final = "out3.reshape(x.shape)"
    lines += [f"    out3 = np.empty(x3.shape, dtype={dt})",
              "    for o in range(x3.shape[0]):",
              "        for i in range(x3.shape[2]):",
              "            row = x3[o, :, i].copy()"]
    lines += ["            " + s for s in row_stmt]
    # An element loop, not ``out3[o, :, i] = res`` (numba's slice setitem: see repeat).
    lines += ["            for q in range(res.shape[0]):",
              "                out3[o, q, i] = res[q]", f"    return {final}"]
    return ctx.define("\n".join(lines) + "\n", prefix=prefix)


@numba_funcify.register(SortOp)
def _funcify_sort(op, node, ctx):
    fn = ctx.import_name(_SORT_KERNELS, "sort1d")
    return _along_axis(node, op.axis, [f"res = {fn}(row)"], node.outputs[0].type.dtype, "sort", ctx)


@numba_funcify.register(ArgSortOp)
def _funcify_argsort(op, node, ctx):
    # mergesort is stable: ties keep their order, like the Python mode's kind="stable".
    fn = ctx.import_name(_SORT_KERNELS, "argsort1d")
    return _along_axis(node, op.axis, [f"res = {fn}(row)"], "int64", "argsort", ctx)


@numba_funcify.register(CumOp)
def _funcify_cumop(op, node, ctx):
    dt = np_dtype(node.outputs[0].type.dtype)
    sym = "+" if op.mode == "add" else "*"
    stmt = [f"res = np.empty(row.shape[0], dtype={dt})",
            f"acc = {dt}({0 if op.mode == 'add' else 1})",
            "for j in range(row.shape[0]):",
            f"    acc = {dt}(acc {sym} {dt}(row[j]))",
            "    res[j] = acc"]
    return _along_axis(node, op.axis, stmt, node.outputs[0].type.dtype, "cum" + op.mode, ctx)


# NumPy's order: NaN sorts after every number (and equals itself for unique).
_NAN_HELPERS = """
    def lt(a, b):
        return a < b or (b != b and a == a)

    def same(a, b):
        return a == b or (a != a and b != b)
"""


@numba_funcify.register(SearchsortedOp)
def _funcify_searchsorted(op, node, ctx):
    has_sorter = len(node.inputs) == 3
    key = "x[sorter[mid]]" if has_sorter else "x[mid]"
    # left: first i with not x[i] < val; right: first i with val < x[i].
    test = f"lt({key}, val)" if op.side == "left" else f"not lt(val, {key})"
    src = f"""
def {{name}}(x, v{', sorter' if has_sorter else ''}):
{_NAN_HELPERS}
    vf = np.ascontiguousarray(v).reshape(v.size)
    out = np.empty(v.size, dtype=np.int64)
    n = x.shape[0]
{{sorter_check}}    for t in range(v.size):
        val = vf[t]
        lo = 0
        hi = n
        while lo < hi:
            mid = (lo + hi) // 2
            if {test}:
                lo = mid + 1
            else:
                hi = mid
        out[t] = lo
    return out.reshape(v.shape)
"""
    # numba does not bound-check: a bad sorter is refused here, as NumPy does.
    check = ("    if sorter.shape[0] != n:\n"
             "        raise ValueError('searchsorted: sorter and x differ in length')\n"
             "    for t in range(n):\n"
             "        if sorter[t] < 0 or sorter[t] >= n:\n"
             "            raise ValueError('searchsorted: sorter index out of range')\n") if has_sorter else ""
    return ctx.define(src.replace("{sorter_check}", check), prefix="searchsorted")


@numba_funcify.register(Unique)
def _funcify_unique(op, node, ctx):
    x = node.inputs[0]
    nd = x.type.ndim
    dt = np_dtype(x.type.dtype)
    argsort = ctx.import_name(_SORT_KERNELS, "argsort1d")
    wanted = ["vals"] + [name for flag, name in ((op.return_index, "first"), (op.return_inverse, "inv"),
                                                 (op.return_counts, "counts")) if flag]
    if op.axis is None:
        # Stable sort, then one pass grouping equal neighbours: the first of a group has the
        # smallest index (return_index), every member's group is its inverse.
        body = f"""
    flat = np.ascontiguousarray(x).reshape(x.size)
    n = flat.size
    perm = {argsort}(flat)
    uvals = np.empty(n, dtype={dt})
    ufirst = np.empty(n, dtype=np.int64)
    ucounts = np.zeros(n, dtype=np.int64)
    uinv = np.empty(n, dtype=np.int64)
    k = -1
    for t in range(n):
        j = perm[t]
        if k < 0 or not same(flat[j], uvals[k]):
            k += 1
            uvals[k] = flat[j]
            ufirst[k] = j
        ucounts[k] += 1
        uinv[j] = k
    m = k + 1
    vals = uvals[:m].copy()
    inv = uinv.reshape(x.shape)
"""
    else:
        a = op.axis
        perm = [a] + [d for d in range(nd) if d != a]
        inv_perm = [perm.index(d) for d in range(nd)]
        rest = " * ".join(f"xt.shape[{d}]" for d in range(1, nd)) or "1"
        out_shape = "(m, " + "".join(f"xt.shape[{d}], " for d in range(1, nd)) + ")"
        # Rows (slices along axis) sorted lexicographically: stable sorts by each column,
        # last column first (a radix sort), then equal neighbours grouped.
        body = f"""
    xt = np.ascontiguousarray({permuted_view("x", perm)})
    n = xt.shape[0]
    w = {rest}
    x2 = xt.reshape((n, w))
    order = np.arange(n)
    for c in range(w - 1, -1, -1):
        keys = np.empty(n, dtype={dt})
        for t in range(n):
            keys[t] = x2[order[t], c]
        order = order[{argsort}(keys)]
    ufirst = np.empty(n, dtype=np.int64)
    ucounts = np.zeros(n, dtype=np.int64)
    inv = np.empty(n, dtype=np.int64)
    k = -1
    for t in range(n):
        j = order[t]
        new = k < 0
        if not new:
            r = ufirst[k]
            for c in range(w):
                if not same(x2[j, c], x2[r, c]):
                    new = True
                    break
        if new:
            k += 1
            ufirst[k] = j
        ucounts[k] += 1
        inv[j] = k
    m = k + 1
    rows = np.empty((m, w), dtype={dt})
    for t in range(m):
        for c in range(w):
            rows[t, c] = x2[ufirst[t], c]
    rows3 = rows.reshape({out_shape})
    vals = np.ascontiguousarray({permuted_view("rows3", inv_perm)})
"""
    tail = "\n    first = ufirst[:m].copy()\n    counts = ucounts[:m].copy()\n"
    ret = wanted[0] if len(wanted) == 1 else "(" + ", ".join(wanted) + ")"
    src = "def {name}(x):" + _NAN_HELPERS + body + tail + f"    return {ret}\n"
    return ctx.define(src, prefix="unique")

"""Repeat, TakeAlongAxis, AddAlongAxis, Sort, ArgSort, CumOp, Searchsorted and Unique as
generated njit code.

Every op works along one axis; the array is viewed as ``(outer, n, inner)``
(a C-contiguous copy reshaped), so one small loop nest serves every ndim and
axis and stays cheap to compile.
"""

from __future__ import annotations

from opgraph.kernel_core.backends.numba.dispatch import np_dtype, numba_funcify
from opgraph.kernel_core.tensor.extra_ops import (
    AddAlongAxis, ArgSortOp, CumOp, RepeatOp, SearchsortedOp, SortOp, TakeAlongAxis, Unique,
)


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
              "            out3[:, pos, :] = x3[:, j, :]",
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


@numba_funcify.register(TakeAlongAxis)
def _funcify_take_along_axis(op, node, ctx):
    nd, a = node.inputs[0].type.ndim, op.axis
    # Like NumPy, the dims other than ``axis`` broadcast between x and the indices.
    lines = ["def {name}(x, idx):",
             f"    bs = np.broadcast_shapes(x.shape[:{a}] + (1,) + x.shape[{a + 1}:], "
             f"idx.shape[:{a}] + (1,) + idx.shape[{a + 1}:])",
             f"    xb = np.broadcast_to(x, bs[:{a}] + (x.shape[{a}],) + bs[{a + 1}:])",
             f"    ib = np.broadcast_to(idx, bs[:{a}] + (idx.shape[{a}],) + bs[{a + 1}:])"]
    lines += as_3d("xb", "x3", a, nd) + as_3d("ib", "i3", a, nd)
    lines += [f"    out3 = np.empty(i3.shape, dtype={np_dtype(node.outputs[0].type.dtype)})",
              "    n = x3.shape[1]",
              "    for o in range(i3.shape[0]):",
              "        for t in range(i3.shape[1]):",
              "            for i in range(i3.shape[2]):",
              "                j = i3[o, t, i]",
              "                if j < 0:",
              "                    j += n",
              "                if j < 0 or j >= n:",
              "                    raise IndexError('take_along_axis: index out of bounds')",
              "                out3[o, t, i] = x3[o, j, i]",
              "    return out3.reshape(ib.shape)"]
    return ctx.define("\n".join(lines) + "\n", prefix="take_along_axis")


@numba_funcify.register(AddAlongAxis)
def _funcify_add_along_axis(op, node, ctx):
    nd, a = node.inputs[0].type.ndim, op.axis
    dt = np_dtype(node.outputs[0].type.dtype)
    lines = ["def {name}(x, g, idx):"] + _check_same_other_dims("x", "idx", a, nd, "add_along_axis")
    lines += ["    gb = np.broadcast_to(g, idx.shape)"]
    lines += as_3d("gb", "g3", a, nd) + as_3d("idx", "i3", a, nd)
    lines += [f"    out = np.zeros(x.shape, dtype={dt})"] + as_3d("out", "o3", a, nd)
    lines += ["    n = o3.shape[1]",
              "    for o in range(i3.shape[0]):",
              "        for t in range(i3.shape[1]):",
              "            for i in range(i3.shape[2]):",
              "                j = i3[o, t, i]",
              "                if j < 0:",
              "                    j += n",
              "                if j < 0 or j >= n:",
              "                    raise IndexError('add_along_axis: index out of bounds')",
              "                o3[o, j, i] += g3[o, t, i]",
              "    return out"]
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
    lines += ["            out3[o, :, i] = res", f"    return {final}"]
    return ctx.define("\n".join(lines) + "\n", prefix=prefix)


@numba_funcify.register(SortOp)
def _funcify_sort(op, node, ctx):
    return _along_axis(node, op.axis, ["res = np.sort(row)"], node.outputs[0].type.dtype, "sort", ctx)


@numba_funcify.register(ArgSortOp)
def _funcify_argsort(op, node, ctx):
    # mergesort is stable: ties keep their order, like the Python mode's kind="stable".
    return _along_axis(node, op.axis, ["res = np.argsort(row, kind='mergesort')"], "int64", "argsort", ctx)


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
    wanted = ["vals"] + [name for flag, name in ((op.return_index, "first"), (op.return_inverse, "inv"),
                                                 (op.return_counts, "counts")) if flag]
    if op.axis is None:
        # Stable sort, then one pass grouping equal neighbours: the first of a group has the
        # smallest index (return_index), every member's group is its inverse.
        body = """
    flat = np.ascontiguousarray(x).reshape(x.size)
    n = flat.size
    perm = np.argsort(flat, kind='mergesort')
    uvals = np.empty(n, dtype=%s)
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
""" % dt
    else:
        a = op.axis
        perm = [a] + [d for d in range(nd) if d != a]
        inv_perm = [perm.index(d) for d in range(nd)]
        rest = " * ".join(f"xt.shape[{d}]" for d in range(1, nd)) or "1"
        out_shape = "(m, " + "".join(f"xt.shape[{d}], " for d in range(1, nd)) + ")"
        # Rows (slices along axis) sorted lexicographically: stable sorts by each column,
        # last column first (a radix sort), then equal neighbours grouped.
        body = f"""
    xt = np.ascontiguousarray(np.transpose(x, {tuple(perm)!r}))
    n = xt.shape[0]
    w = {rest}
    x2 = xt.reshape((n, w))
    order = np.arange(n)
    for c in range(w - 1, -1, -1):
        keys = np.empty(n, dtype={dt})
        for t in range(n):
            keys[t] = x2[order[t], c]
        order = order[np.argsort(keys, kind='mergesort')]
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
        rows[t] = x2[ufirst[t]]
    vals = np.ascontiguousarray(np.transpose(rows.reshape({out_shape}), {tuple(inv_perm)!r}))
"""
    tail = "\n    first = ufirst[:m].copy()\n    counts = ucounts[:m].copy()\n"
    ret = wanted[0] if len(wanted) == 1 else "(" + ", ".join(wanted) + ")"
    src = "def {name}(x):" + _NAN_HELPERS + body + tail + f"    return {ret}\n"
    return ctx.define(src, prefix="unique")

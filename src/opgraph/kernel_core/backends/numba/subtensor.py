"""Indexing: Subtensor / IncSubtensor (basic) and the advanced ops, as generated njit code.

Basic indexing is numba's own (ints and slices with run-time bounds), plus an
explicit bounds check for integer entries: numba does not check bounds, the
Python mode raises IndexError.

Advanced indexing (integer arrays, boolean masks, mixed with slices) is one
generated loop:

1. the slices are applied first, as a view ``v`` of ``x``;
2. masks become integer arrays (``np.nonzero``), all index arrays are
   broadcast together and flattened (``nb`` selections);
3. the loop fixes the advanced axes of ``v`` at each selection and copies (or
   sets / increments) the remaining sub-array.

The output is built in a "middle" layout where the ``nb`` selections are one
axis, then reshaped to NumPy's layout (the broadcast index shape replaces
that axis).  Sequential increments make repeated indices accumulate, like
``np.add.at``; sets let the last write win, like NumPy.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.backends.numba.assign import define_assign
from opgraph.kernel_core.backends.numba.dispatch import np_dtype, numba_funcify
from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.scalar.type import ScalarType
from opgraph.kernel_core.tensor.subtensor import (
    AdvancedIncSubtensor,
    AdvancedIncSubtensor1,
    AdvancedSubtensor,
    AdvancedSubtensor1,
    IdxSlice,
    IncSubtensor,
    Subtensor,
)
from opgraph.kernel_core.tensor.type import TensorType


def _unsigned(t):
    return getattr(t, "dtype", "").startswith("uint")


_ERRORS = "opgraph.kernel_core.backends.numba.kernel_errors"


def _index_error(ctx):
    """The alias of kernel_errors.IndexError, raised as ``(index, axis, size)``: NumPy's
    message, formatted in Python (``str`` of a number in njit code costs numba ~2 s to
    compile)."""
    return ctx.import_name(_ERRORS, "IndexError")


def _unsigned_check(value, size, axis, pad, err):
    """Bounds check of an unsigned index: compared as unsigned (never wrapped negative;
    numba would compare uint64 with int64 as float64), the message naming the value."""
    return [f"{pad}if np.uint64({value}) >= np.uint64({size}):",
            f"{pad}    raise {err}({value}, {axis}, {size})"]


# -- basic -------------------------------------------------------------------------
def _constant_index(var):
    """The value of an index input that is a constant integer, else None."""
    if isinstance(var, Constant) and np.ndim(var.data) == 0 and np.issubdtype(np.asarray(var.data).dtype, np.integer):
        return int(var.data)
    return None


def _basic_index(idx_list, array, first_param, err, static_shape=None, index_inputs=()):
    """(index text, bounds-check lines) of a basic idx_list; params p<k> from ``first_param``;
    ``err``: the IndexError to raise (``_index_error``).

    ``static_shape`` (the indexed array's type shape) and ``index_inputs`` (the index
    variables, p<k> at ``index_inputs[k - first_param]``): a constant index within a
    statically known length needs no run-time test (``x[0]`` of a ``(2,)`` vector).
    Each test is a raise site with run-time values, one of the costlier things for
    numba to compile.

    An unsigned integer entry is checked as unsigned and used as ``q<k> = int64(p<k>)``
    (a new name: numba would unify a re-assigned uint64 / int64 variable as float64)."""
    parts, checks, k = [], [], first_param
    for axis, e in enumerate(idx_list):
        if isinstance(e, IdxSlice):
            bounds = []
            for p in e:
                if p is None:
                    bounds.append("")
                else:
                    bounds.append(f"p{k}")
                    k += 1
            text = ":".join(bounds)
            parts.append(text if text != "::" else ":")
        elif _unsigned(e):
            checks += _unsigned_check(f"p{k}", f"{array}.shape[{axis}]", axis, "    ", err)
            checks.append(f"    q{k} = np.int64(p{k})")
            parts.append(f"q{k}")
            k += 1
        else:
            j = k - first_param
            value = _constant_index(index_inputs[j]) if j < len(index_inputs) else None
            size = static_shape[axis] if static_shape is not None and axis < len(static_shape) else None
            if value is None or size is None or not -size <= value < size:
                checks += [f"    if p{k} < -{array}.shape[{axis}] or p{k} >= {array}.shape[{axis}]:",
                           f"        raise {err}(p{k}, {axis}, {array}.shape[{axis}])"]
            parts.append(f"p{k}")
            k += 1
    return ", ".join(parts), checks, k


def _params(n):
    return "".join(f", p{i}" for i in range(n))


@numba_funcify.register(Subtensor)
def _funcify_subtensor(op, node, ctx):
    n_idx = len(node.inputs) - 1
    if not op.idx_list:
        return ctx.define("def {name}(x):\n    return x\n", prefix="subtensor")
    index, checks, _ = _basic_index(op.idx_list, "x", 0, _index_error(ctx), node.inputs[0].type.shape,
                                    node.inputs[1:])
    expr = f"x[{index}]"
    if node.outputs[0].type.ndim == 0:
        expr = f"np.asarray({expr})"   # every axis indexed by an int: numba gives a scalar
    lines = [f"def {{name}}(x{_params(n_idx)}):"] + checks + [f"    return {expr}"]
    return ctx.define("\n".join(lines) + "\n", prefix="subtensor")


@numba_funcify.register(IncSubtensor)
def _funcify_inc_subtensor(op, node, ctx):
    n_idx = len(node.inputs) - 2
    index, checks, _ = _basic_index(op.idx_list, "out", 0, _index_error(ctx), node.inputs[0].type.shape,
                                    node.inputs[2:])
    y_type = node.inputs[1].type
    target_ndim = node.outputs[0].type.ndim - _n_int_entries(op.idx_list)
    lines = [f"def {{name}}(x, y{_params(n_idx)}):",
             "    out = x" if op.inplace else "    out = x.copy()"]
    lines += checks
    if target_ndim == 0:
        yv = "y[()]" if y_type.ndim == 0 else "y"
        lines.append(f"    out[{index or '()'}] {'=' if op.set_instead_of_inc else '+='} {yv}")
    else:
        # Loops, not ``out[index] = y`` (numba's array setitem costs ~4 s to compile: assign.py).
        assign = define_assign(ctx, target_ndim, y_type.ndim, inc=not op.set_instead_of_inc,
                               src_shape=y_type.shape)
        lines.append(f"    {assign}(out[{index}], y)" if index else f"    {assign}(out, y)")
    lines.append("    return out")
    return ctx.define("\n".join(lines) + "\n", prefix="incsubtensor")


def _n_int_entries(idx_list):
    return sum(1 for e in idx_list if not isinstance(e, IdxSlice))


# -- advanced ---------------------------------------------------------------------
def _broadcast_indices(ctx, arrays):
    """Lines computing ``ishape`` / ``nb`` (NumPy's broadcast of the index arrays, flattened
    to ``nb`` selections) and, per array, the expression of its index at selection ``b``.

    ``arrays``: (text, ndim, dtype, is_number) per index array.  No np.broadcast_shapes /
    np.broadcast_to / reshape (each costs numba ~0.4-1 s to compile per function): the
    shape is computed per axis; one 1-D array (the usual ``x[iv]``) is read in place,
    several 1-D arrays through a 0/1 multiplier (length-1 broadcasting), higher ranks are
    copied into a flat array by a loop nest."""
    R = max((nd for _, nd, _, _ in arrays), default=0)
    shaped = [a for a in arrays if a[1] > 0]
    lines = []
    if len(shaped) == 1:
        text, nd = shaped[0][:2]
        lines += [f"    s{e + R - nd} = {text}.shape[{e}]" for e in range(nd)]
    else:
        lines += [f"    s{d} = 1" for d in range(R)]
        for text, nd, _, _ in shaped:
            for e in range(nd):
                d = e + R - nd
                lines += [f"    if {text}.shape[{e}] != 1:",
                          f"        if s{d} != 1 and s{d} != {text}.shape[{e}]:",
                          "            raise IndexError('shape mismatch: indexing arrays could not be broadcast "
                          "together')",
                          f"        s{d} = {text}.shape[{e}]"]
    lines.append(f"    ishape = ({''.join(f's{d}, ' for d in range(R))})")
    lines.append(f"    nb = {' * '.join(f's{d}' for d in range(R)) or '1'}")
    raw = []
    for i, (text, nd, dtype, is_number) in enumerate(arrays):
        if is_number:
            raw.append(text)
        elif nd == 0:
            raw.append(f"{text}[()]")
        elif len(shaped) == 1 and nd == 1:
            raw.append(f"{text}[b]")
        elif R == 1:
            lines.append(f"    m{i} = 1 if {text}.shape[0] == s0 else 0")
            raw.append(f"{text}[b * m{i}]")
        else:
            lines.append(f"    f{i} = np.empty(nb, dtype={dtype})")
            lines += [f"    m{i}_{e} = 1 if {text}.shape[{e}] == s{e + R - nd} else 0" for e in range(nd)]
            lines.append("    c = 0")
            pad = "    "
            for d in range(R):
                lines.append(f"{pad}for g{d} in range(s{d}):")
                pad += "    "
            idx = ", ".join(f"g{e + R - nd} * m{i}_{e}" for e in range(nd))
            lines += [f"{pad}f{i}[c] = {text}[{idx}]", f"{pad}c += 1"]
            raw.append(f"f{i}[b]")
    return lines, raw, R


def _advanced_plan(ctx, idx_list, x_ndim, first_param):
    """Source lines computing ``v``, the selections' indices and the layouts.

    Returns (lines, (adv_axes, unsigned, raw), mid_index_for_b, final_shape_text,
    mid_shape_text, gather_index, next_param, R); adv_axes are the axes of ``v`` fixed per
    selection, indices ``j<k>``; ``unsigned`` says which index arrays are of an unsigned
    dtype, ``raw`` gives each one's index at selection ``b``; R is the rank of the
    broadcast index shape (1: the final layout is the middle one, no reshape).
    """
    lines, view_parts, k, axis = [], [], first_param, 0
    arrays = []                 # (text, ndim, dtype, is_number) of each integer index array
    unsigned = []               # per array: of an unsigned dtype
    adv_axes = []               # axis of v each array indexes
    kinds = []                  # per entry: ("basic", v_axis) or ("adv",)
    for e in idx_list:
        if isinstance(e, IdxSlice):
            bounds = []
            for p in e:
                if p is None:
                    bounds.append("")
                else:
                    bounds.append(f"p{k}")
                    k += 1
            view_parts.append(":".join(bounds))
            kinds.append(("basic", axis))
            axis += 1
        elif isinstance(e, TensorType) and e.dtype == "bool":
            if e.ndim == 0:
                raise NotImplementedError("0-d boolean index")
            for d in range(e.ndim):
                lines += [f"    if p{k}.shape[{d}] != x.shape[{axis + d}]:",
                          f"        raise IndexError('boolean index does not match the indexed axis {axis + d}')"]
            lines.append(f"    nz{k} = np.nonzero(p{k})")
            for d in range(e.ndim):
                arrays.append((f"nz{k}[{d}]", 1, "np.int64", False))
                unsigned.append(False)
                adv_axes.append(axis + d)
                view_parts.append(":")
            kinds.append(("adv",))
            axis += e.ndim
            k += 1
        else:
            arrays.append((f"p{k}", 0 if isinstance(e, ScalarType) else e.ndim, np_dtype(e.dtype),
                           isinstance(e, ScalarType)))
            unsigned.append(_unsigned(e))
            adv_axes.append(axis)
            view_parts.append(":")
            kinds.append(("adv",))
            axis += 1
            k += 1
    n_rest = x_ndim - axis
    lines.append(f"    v = x[{', '.join(view_parts)}]" if any(p != ":" for p in view_parts) else "    v = x")
    index_lines, raw, R = _broadcast_indices(ctx, arrays)
    lines += index_lines
    adv_pos = [i for i, kd in enumerate(kinds) if kd[0] == "adv"]
    adjacent = adv_pos == list(range(adv_pos[0], adv_pos[-1] + 1))
    basic_axes = [kd[1] for kd in kinds if kd[0] == "basic"]
    rest_axes = list(range(axis, x_ndim))
    if adjacent:
        before = [kd[1] for i, kd in enumerate(kinds) if kd[0] == "basic" and i < adv_pos[0]]
        after = [kd[1] for i, kd in enumerate(kinds) if kd[0] == "basic" and i > adv_pos[0]]
    else:
        before, after = [], basic_axes
    dims = lambda axes: "".join(f"v.shape[{a}], " for a in axes)  # noqa: E731
    final = f"({dims(before)}) + ishape + ({dims(after + rest_axes)})"
    mid = f"({dims(before)}nb, {dims(after + rest_axes)})"
    mid_index = ", ".join([":"] * len(before) + ["b"] + [":"] * (len(after) + n_rest))
    gather = []
    for a in range(x_ndim):
        gather.append(f"j{adv_axes.index(a)}" if a in adv_axes else ":")
    # numba indexing wants no trailing full slices only when the result is a scalar; keep them otherwise.
    return (lines, (adv_axes, unsigned, raw), mid_index, final, mid, ", ".join(gather), k, R,
            len(before) + len(after) + n_rest)


def _load_indices(axes, pad, err):
    adv_axes, unsigned, raw = axes
    lines = []
    for i, a in enumerate(adv_axes):
        if unsigned[i]:
            lines += [f"{pad}u{i} = {raw[i]}"] + _unsigned_check(f"u{i}", f"v.shape[{a}]", a, pad, err)
            lines.append(f"{pad}j{i} = np.int64(u{i})")
            continue
        lines += [f"{pad}r{i} = {raw[i]}",
                  f"{pad}j{i} = r{i}",
                  f"{pad}if j{i} < 0:",
                  f"{pad}    j{i} += v.shape[{a}]",
                  f"{pad}if j{i} < 0 or j{i} >= v.shape[{a}]:",
                  f"{pad}    raise {err}(r{i}, {a}, v.shape[{a}])"]
    return lines


def _copy_rest(ctx, adv_axes, x_ndim, dst, src, inc=False):
    """The line copying (or adding) the sub-array ``src`` of one selection into ``dst``
    (equal shapes by construction); a scalar store when every axis is selected."""
    n_rest = x_ndim - len(adv_axes[0])
    if n_rest == 0:
        return f"        {dst} {'+=' if inc else '='} {src}"
    # Loops, not an array setitem (numba's costs ~4 s to compile: assign.py).
    return f"        {define_assign(ctx, n_rest, n_rest, inc=inc, check=False)}({dst}, {src})"


def advanced_get_source(ctx, idx_list, x_ndim, out_dtype, n_params):
    plan, adv_axes, mid_index, final, mid, gather, _, R, _ = _advanced_plan(ctx, idx_list, x_ndim, 0)
    lines = [f"def {{name}}(x{_params(n_params)}):"] + plan
    lines.append(f"    out = np.empty({mid}, dtype={np_dtype(out_dtype)})")
    lines.append("    for b in range(nb):")
    lines += _load_indices(adv_axes, "        ", _index_error(ctx))
    lines.append(_copy_rest(ctx, adv_axes, x_ndim, f"out[{mid_index}]", f"v[{gather}]"))
    lines.append("    return out" if R == 1 else f"    return out.reshape({final})")
    return "\n".join(lines) + "\n"


def advanced_inc_source(ctx, idx_list, x_ndim, y_type, n_params, inplace, set_instead_of_inc):
    plan, adv_axes, mid_index, final, mid, gather, _, R, n_other = _advanced_plan(ctx, idx_list, x_ndim, 0)
    lines = [f"def {{name}}(x0, y{_params(n_params)}):",
             "    x = x0" if inplace else "    x = x0.copy()"] + plan
    # y broadcast to the selection's shape by a loop (assign.py), in the middle layout.
    fill = define_assign(ctx, n_other + R, y_type.ndim, src_shape=y_type.shape)
    ydt = np_dtype(y_type.dtype)
    if R == 1:
        lines += [f"    yb = np.empty({mid}, dtype={ydt})", f"    {fill}(yb, y)"]
    else:
        lines += [f"    ybf = np.empty({final}, dtype={ydt})", f"    {fill}(ybf, y)",
                  f"    yb = ybf.reshape({mid})"]
    lines.append("    for b in range(nb):")
    lines += _load_indices(adv_axes, "        ", _index_error(ctx))
    lines.append(_copy_rest(ctx, adv_axes, x_ndim, f"v[{gather}]", f"yb[{mid_index}]",
                            inc=not set_instead_of_inc))
    lines.append("    return x")
    return "\n".join(lines) + "\n"


@numba_funcify.register(AdvancedSubtensor)
def _funcify_advanced_subtensor(op, node, ctx):
    src = advanced_get_source(ctx, op.idx_list, node.inputs[0].type.ndim, node.outputs[0].type.dtype,
                              len(node.inputs) - 1)
    return ctx.define(src, prefix="advanced_subtensor")


@numba_funcify.register(AdvancedSubtensor1)
def _funcify_advanced_subtensor1(op, node, ctx):
    src = advanced_get_source(ctx, (node.inputs[1].type,), node.inputs[0].type.ndim, node.outputs[0].type.dtype, 1)
    return ctx.define(src, prefix="advanced_subtensor1")


@numba_funcify.register(AdvancedIncSubtensor)
def _funcify_advanced_inc_subtensor(op, node, ctx):
    src = advanced_inc_source(ctx, op.idx_list, node.inputs[0].type.ndim, node.inputs[1].type,
                              len(node.inputs) - 2, op.inplace, op.set_instead_of_inc)
    return ctx.define(src, prefix="advanced_incsubtensor")


@numba_funcify.register(AdvancedIncSubtensor1)
def _funcify_advanced_inc_subtensor1(op, node, ctx):
    src = advanced_inc_source(ctx, (node.inputs[2].type,), node.inputs[0].type.ndim, node.inputs[1].type, 1,
                              op.inplace, op.set_instead_of_inc)
    return ctx.define(src, prefix="advanced_incsubtensor1")

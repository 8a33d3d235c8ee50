"""Alloc, AllocEmpty, ARange and Eye as generated njit code."""

from __future__ import annotations

from opgraph.kernel_core.backends.numba.assign import define_assign
from opgraph.kernel_core.backends.numba.dispatch import np_dtype, numba_funcify
from opgraph.kernel_core.tensor.construction import ARange, Alloc, AllocEmpty, Eye


def scalar_item(var, name):
    """Source text of the scalar value of a 0-d tensor or ScalarType input."""
    return f"{name}[()]" if hasattr(var.type, "shape") else name


def _shape_tuple(vars_, names):
    return "(" + "".join(f"np.int64({scalar_item(v, n)}), " for v, n in zip(vars_, names)) + ")"


@numba_funcify.register(Alloc)
def _funcify_alloc(op, node, ctx):
    value, *dims = node.inputs
    names = [f"s{i}" for i in range(len(dims))]
    dt = np_dtype(node.outputs[0].type.dtype)
    lines = [f"def {{name}}(value{''.join(', ' + n for n in names)}):",
             f"    shape = {_shape_tuple(dims, names)}"]
    # The broadcast check NumPy's broadcast_to makes (numba's setitem would not name the problem).
    off = len(dims) - value.type.ndim
    for d in range(value.type.ndim):
        lines += [f"    if value.shape[{d}] != 1 and value.shape[{d}] != shape[{d + off}]:",
                  "        raise ValueError('Alloc: the value cannot be broadcast to the requested shape')"]
    lines.append(f"    out = np.empty(shape, dtype={dt})")
    if value.type.ndim == 0:
        lines.append("    out[...] = value[()]")
    else:
        # Loops, not ``out[...] = value`` (numba's array setitem costs ~4 s to compile: assign.py).
        assign = define_assign(ctx, len(dims), value.type.ndim, src_shape=value.type.shape)
        lines.append(f"    {assign}(out, value)")
    lines.append("    return out")
    return ctx.define("\n".join(lines) + "\n", prefix="alloc")


@numba_funcify.register(AllocEmpty)
def _funcify_alloc_empty(op, node, ctx):
    names = [f"s{i}" for i in range(len(node.inputs))]
    src = (f"def {{name}}({', '.join(names)}):\n"
           f"    return np.empty({_shape_tuple(node.inputs, names)}, dtype={np_dtype(op.dtype)})\n")
    return ctx.define(src, prefix="alloc_empty")


@numba_funcify.register(ARange)
def _funcify_arange(op, node, ctx):
    a, b, s = (scalar_item(v, n) for v, n in zip(node.inputs, ("start", "stop", "step")))
    dt = np_dtype(op.dtype)
    # NumPy's length rule: ceil((stop - start) / step) in double precision, at least 0.
    src = f"""
def {{name}}(start, stop, step):
    a = {a}
    st = {s}
    if st == 0:
        raise ValueError('arange: step must not be 0')
    n = int(np.ceil((np.float64({b}) - np.float64(a)) / np.float64(st)))
    if n < 0:
        n = 0
    out = np.empty(n, dtype={dt})
    for i in range(n):
        out[i] = a + i * st
    return out
"""
    return ctx.define(src, prefix="arange")


@numba_funcify.register(Eye)
def _funcify_eye(op, node, ctx):
    n, m, k = (scalar_item(v, x) for v, x in zip(node.inputs, ("n", "m", "k")))
    src = f"""
def {{name}}(n, m, k):
    rows = np.int64({n})
    cols = np.int64({m})
    off = np.int64({k})
    out = np.zeros((rows, cols), dtype={np_dtype(op.dtype)})
    for i in range(max(0, -off), min(rows, cols - off)):
        out[i, i + off] = 1
    return out
"""
    return ctx.define(src, prefix="eye")

"""Assigning an array into a (sub)array as generated loops, not numba's slice setitem.

numba 0.68 compiles an array-valued setitem (``out[1:] = y``, ``v[...] = w``) with
its shape-mismatch error path, whose message formats both shapes with ``str``:
~4 s CPU per function, cold, against ~0.1 s for the same copy written as a loop
nest (measured one function per fresh process; benchmarks/RESULTS.md, "Compile
latency of error paths").  ``define_assign`` writes that loop nest:
``{name}(dst, src)`` does ``dst[...] = src`` (or ``+=``) with NumPy's broadcasting
of ``src`` (trailing axes aligned, length-1 axes repeated) and raises NumPy's
message (``kernel_errors.ValueError``: "could not broadcast input array from shape
(3,) into shape (2, 2)") when the shapes do not agree.

``src`` must not overlap ``dst`` in memory (the loops read ``src`` while writing
``dst``): callers pass a fresh or copied ``dst``, or an inplace one, which the
destroy handler grants only when no other input of the node views it.

Pure Python source generation (never imports numba).
"""

from __future__ import annotations

_ERRORS = "opgraph.kernel_core.backends.numba.kernel_errors"


def define_assign(ctx, dst_ndim, src_ndim, inc=False, src_shape=None, check=True):
    """Define ``{name}(dst, src)`` in ``ctx``; returns its name.

    ``dst_ndim`` / ``src_ndim``: the ranks (``src_ndim <= dst_ndim``; a 0-d ``src``
    is a 0-d array).  ``src_shape``: ``src``'s static shape (a 1 there needs no
    run-time test).  ``check=False`` when the caller guarantees equal shapes (no
    broadcasting, no test)."""
    if src_ndim > dst_ndim:
        raise NotImplementedError(f"define_assign: a {src_ndim}-d value cannot be assigned into a {dst_ndim}-d array")
    off = dst_ndim - src_ndim
    static = tuple(src_shape) if src_shape is not None else (None,) * src_ndim
    lines = ["def {name}(dst, src):"]
    src_idx = []
    if check:
        err = ctx.import_name(_ERRORS, "ValueError")
        for e in range(src_ndim):
            d = e + off
            if static[e] == 1:
                src_idx.append("0")
                continue
            lines += [f"    if src.shape[{e}] != dst.shape[{d}] and src.shape[{e}] != 1:",
                      f"        raise {err}(src.shape, dst.shape)",
                      f"    b{e} = 1 if src.shape[{e}] == dst.shape[{d}] else 0"]
            src_idx.append(f"j{d} * b{e}")
    else:
        src_idx = [f"j{e + off}" for e in range(src_ndim)]
    pad = "    "
    for d in range(dst_ndim):
        lines.append(f"{pad}for j{d} in range(dst.shape[{d}]):")
        pad += "    "
    dst_item = f"dst[{', '.join(f'j{d}' for d in range(dst_ndim))}]" if dst_ndim else "dst[()]"
    src_item = f"src[{', '.join(src_idx)}]" if src_ndim else "src[()]"
    lines.append(f"{pad}{dst_item} {'+=' if inc else '='} {src_item}")
    return ctx.define("\n".join(lines) + "\n", prefix="add_into" if inc else "assign")

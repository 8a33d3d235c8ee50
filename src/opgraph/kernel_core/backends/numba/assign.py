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

``assign_lines`` writes the same loop nest as statements, for callers that inline it
(Scan's loop copies its rows so: no dispatcher per copy).

``src`` must not overlap ``dst`` in memory (the loops read ``src`` while writing
``dst``): callers pass a fresh or copied ``dst``, or an inplace one, which the
destroy handler grants only when no other input of the node views it.

Pure Python source generation (never imports numba).
"""

from __future__ import annotations

_ERRORS = "opgraph.kernel_core.backends.numba.kernel_errors"


def assign_lines(dst, src, ndim, src_ndim=None, tag="", inc=False, broadcast_error=None, src_shape=None,
                 message=None):
    """Statements doing ``dst[...] = src`` (or ``+=``) as a loop nest; ``dst`` / ``src`` are
    expressions (one that is not a plain name is bound to ``{tag}d`` / ``{tag}s`` first).

    ``ndim`` / ``src_ndim``: the ranks (``src_ndim`` defaults to ``ndim``; a 0-d ``src``
    is a 0-d array).  ``tag`` prefixes the local names, so several copies fit in one
    function (Scan's loop inlines its row copies: a jitted function each would be one
    more numba dispatcher to compile).  The shapes:

    * ``broadcast_error``: the name of an error class: NumPy's broadcasting of ``src``
      (trailing axes aligned, length-1 axes repeated), ``raise {broadcast_error}(src.shape,
      dst.shape)`` when they do not agree; ``src_shape``, ``src``'s static shape (a 1
      there needs no run-time test);
    * else ``message``: equal shapes, ``raise ValueError(message)`` otherwise;
    * else none: the caller guarantees the shapes agree."""
    src_ndim = ndim if src_ndim is None else src_ndim
    if ndim == 0:
        return [f"{dst}[()] {'+=' if inc else '='} {src}[()]"]
    out = []
    d, s = dst, src
    if not dst.isidentifier():
        d = f"{tag}d"
        out.append(f"{d} = {dst}")
    if not src.isidentifier():
        s = f"{tag}s"
        out.append(f"{s} = {src}")
    off = ndim - src_ndim
    src_idx = [f"{tag}j{e + off}" for e in range(src_ndim)]
    if broadcast_error is not None:
        static = tuple(src_shape) if src_shape is not None else (None,) * src_ndim
        for e in range(src_ndim):
            if static[e] == 1:
                src_idx[e] = "0"
                continue
            out += [f"if {s}.shape[{e}] != {d}.shape[{e + off}] and {s}.shape[{e}] != 1:",
                    f"    raise {broadcast_error}({s}.shape, {d}.shape)",
                    f"{tag}b{e} = 1 if {s}.shape[{e}] == {d}.shape[{e + off}] else 0"]
            src_idx[e] = f"{tag}j{e + off} * {tag}b{e}"
    elif message is not None:
        out.append(f"if {s}.shape != {d}.shape: raise ValueError({str(message)!r})")
    pad = ""
    for j in range(ndim):
        out.append(f"{pad}for {tag}j{j} in range({d}.shape[{j}]):")
        pad += "    "
    dst_item = f"{d}[{', '.join(f'{tag}j{j}' for j in range(ndim))}]"
    src_item = f"{s}[{', '.join(src_idx)}]" if src_ndim else f"{s}[()]"
    out.append(f"{pad}{dst_item} {'+=' if inc else '='} {src_item}")
    return out


def define_assign(ctx, dst_ndim, src_ndim, inc=False, src_shape=None, check=True):
    """Define ``{name}(dst, src)`` in ``ctx``; returns its name.

    ``dst_ndim`` / ``src_ndim``: the ranks (``src_ndim <= dst_ndim``; a 0-d ``src``
    is a 0-d array).  ``src_shape``: ``src``'s static shape (a 1 there needs no
    run-time test).  ``check=False`` when the caller guarantees equal shapes (no
    broadcasting, no test)."""
    if src_ndim > dst_ndim:
        raise NotImplementedError(f"define_assign: a {src_ndim}-d value cannot be assigned into a {dst_ndim}-d array")
    err = ctx.import_name(_ERRORS, "ValueError") if check else None
    body = assign_lines("dst", "src", dst_ndim, src_ndim, inc=inc, broadcast_error=err, src_shape=src_shape)
    source = "def {name}(dst, src):\n" + "".join(f"    {ln}\n" for ln in body)
    return ctx.define(source, prefix="add_into" if inc else "assign")

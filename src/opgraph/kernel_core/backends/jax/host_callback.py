"""``host_callback``: ``jax.pure_callback`` whose 64-bit results survive float64 being off.

The JAX linker traces and runs a compiled function inside ``jax.enable_x64(True)``, a
*thread-local* setting.  XLA's CPU runtime runs a larger computation on one of its own
threads, and there JAX's wrapper of a pure callback canonicalizes the callback's result
under the *global* config: with ``jax_enable_x64`` off (JAX's default) a float64 result
becomes float32 and the call fails with "Incorrect output dtype ... Expected: float64,
Actual: float32"; the callback's float64 *arguments* are likewise put on the device as
float32 before it sees them (small inputs run on the calling thread, so it showed only
for some input lengths).  Here every 64-bit argument and result (float64, int64, uint64)
crosses the callback boundary as its bits, uint32 words in a trailing axis of 2
(canonical in either setting; ``lax.bitcast_convert_type`` inside the compiled
function, a NumPy view on the host): no conversion of the values, whatever thread
runs the callback.
"""

from __future__ import annotations

import jax
import numpy as np

__all__ = ["host_callback"]


def _wide(dtype):
    dtype = np.dtype(dtype)
    return dtype.itemsize == 8 and dtype.kind in "fiu"


def _from_bits(words, dtype):
    """uint32 words (trailing axis of 2) -> the 64-bit array they are the bits of."""
    words = np.ascontiguousarray(words, dtype=np.uint32)
    return words.view(dtype).reshape(words.shape[:-1])


def host_callback(host, result_shape_dtypes, *args, **kwargs):
    """``jax.pure_callback(host, result_shape_dtypes, *args, **kwargs)``, ``result_shape_dtypes``
    one ``jax.ShapeDtypeStruct`` or a tuple of them, with 64-bit arguments and results passed as
    their bits (``host`` sees and returns the 64-bit arrays)."""
    single = isinstance(result_shape_dtypes, jax.ShapeDtypeStruct)
    structs = (result_shape_dtypes,) if single else tuple(result_shape_dtypes)
    wide = [_wide(s.dtype) for s in structs]
    wire = tuple(jax.ShapeDtypeStruct(tuple(s.shape) + (2,), np.uint32) if w else s
                 for s, w in zip(structs, wide))

    sent_args, wide_args = [], []
    for a in args:
        w = _wide(getattr(a, "dtype", np.uint8))
        wide_args.append(np.dtype(a.dtype) if w else None)
        sent_args.append(jax.lax.bitcast_convert_type(a, np.uint32) if w else a)

    def on_host(*values):
        values = [v if d is None else _from_bits(v, d) for v, d in zip(values, wide_args)]
        outs = host(*values)
        outs = (outs,) if single else tuple(outs)
        if len(outs) != len(structs):
            raise RuntimeError(f"host callback {getattr(host, '__name__', host)!r} returned {len(outs)} "
                               f"results, expected {len(structs)}")
        sent = []
        for out, s, w in zip(outs, structs, wide):
            if w:
                a = np.asarray(out, dtype=s.dtype)   # (ascontiguousarray makes a 0-d result 1-d)
                out = np.ascontiguousarray(a.reshape(-1)).view(np.uint32).reshape(a.shape + (2,))
            sent.append(out)
        return tuple(sent)

    results = jax.pure_callback(on_host, wire, *sent_args, **kwargs)
    results = [jax.lax.bitcast_convert_type(r, s.dtype) if w else r
               for r, s, w in zip(results, structs, wide)]
    return results[0] if single else tuple(results)

"""FusedAttention and FusedAttentionGrad: thin generated wrappers around the compiled
kernels of ``attention_kernels.py`` (blocked online softmax, BLAS block products,
threads over blocks, dropout from a counter-based hash).

The kernels are ordinary cached ``njit`` functions, so every graph with fused attention
shares one compilation per dtype and mask dtype (no mask is a 1 x 1 float mask of kind
0).  The arithmetic is ``perform``'s (``attention_forward`` / ``attention_backward`` in
``tensor/nnet/attention_fused.py``).
"""

from __future__ import annotations

from opgraph.kernel_core.backends.numba.dispatch import int64_arg, np_dtype, numba_funcify
from opgraph.kernel_core.tensor.nnet.attention_fused import BLOCK_K, BLOCK_Q, FusedAttention, FusedAttentionGrad

_KERNELS = "opgraph.kernel_core.backends.numba.attention_kernels"
_KIND = {None: 0, "add": 1, "bool": 2}


def _as(name, var, out_dtype):
    """Source of ``name`` as a C-contiguous array of the output dtype (no copy when it is one)."""
    arr = f"np.ascontiguousarray({name})"
    return arr if var.type.dtype == out_dtype else f"{arr}.astype({np_dtype(out_dtype)})"


def _wrapper(op, node, ctx, kernel, rest):
    dtype = node.outputs[0].type.dtype
    dt = np_dtype(dtype)
    fn = ctx.import_name(_KERNELS, kernel)
    q, k, v, scale, mask, seed, extra = op.split_inputs(node.inputs)
    args = ["q", "k", "v", "scale"] + (["mask"] if mask is not None else []) + \
        (["seed"] if seed is not None else []) + rest
    mask_src = "np.ascontiguousarray(mask)" if mask is not None else f"np.zeros((1, 1), dtype={dt})"
    if mask is not None and op.mask_kind == "add":
        mask_src = _as("mask", mask, dtype)
    seed_src = "np.int64(seed[()])" if seed is not None else "np.int64(0)"
    conv = [_as(n, var, dtype) for n, var in zip(("q", "k", "v"), (q, k, v))]
    call_rest = [(_as(n, var, dtype) if n == "gout" else f"np.ascontiguousarray({n})")
                 for n, var in zip(rest, extra)]
    lines = [f"def {{name}}({', '.join(args)}):",
             f"    return {fn}({', '.join(conv)}, float(scale[()]), {mask_src}, {int64_arg(_KIND[op.mask_kind])}, "
             f"{op.dropout_p!r}, {seed_src}, "
             f"{', '.join(call_rest + [int64_arg(BLOCK_Q), int64_arg(BLOCK_K)])})"]
    return lines


@numba_funcify.register(FusedAttention)
def _funcify_fused_attention(op, node, ctx):
    lines = _wrapper(op, node, ctx, "forward", [])
    src = "\n".join(lines).replace(", )", ")") + "\n"
    return ctx.define(src, prefix="fused_attention")


@numba_funcify.register(FusedAttentionGrad)
def _funcify_fused_attention_grad(op, node, ctx):
    dt = np_dtype(node.outputs[0].type.dtype)
    lines = _wrapper(op, node, ctx, "backward", ["out", "lse", "gout", "glse"])
    lines[-1] = lines[-1].replace("    return ", "    dq, dk, dv, dscale = ")
    lines.append(f"    return dq, dk, dv, np.asarray({dt}(dscale))")
    return ctx.define("\n".join(lines) + "\n", prefix="fused_attention_grad")

"""Blockwise: without batch dimensions it is its core op; otherwise a loop over the batch.

The batched loop handles matmul-like cores (every core op whose implementation
we have), broadcasting batch dims that are statically 1.  Batch dims of
unknown length that are 1 at run time are not broadcast (PyTensor's rule).
"""

from __future__ import annotations

from opgraph.kernel_core.backends.numba.dispatch import np_dtype, numba_funcify
from opgraph.kernel_core.tensor.blockwise import Blockwise


@numba_funcify.register(Blockwise)
def _funcify_blockwise(op, node, ctx):
    core_node = op.make_node  # noqa: F841 (documentation: the core node is rebuilt below)
    core_types = [type(i.type)(i.type.dtype, i.type.shape[i.type.ndim - len(s):])
                  for i, s in zip(node.inputs, op.inputs_sig)]
    core = op._core_node(core_types)
    core_fn = numba_funcify(op.core_op, core, ctx)
    nb = node.outputs[0].type.ndim - len(op.outputs_sig[0])
    if nb == 0:
        return core_fn
    if len(node.outputs) != 1 or nb != 1:
        from opgraph.kernel_core.backends.numba.fallback import perform_in_objmode

        return perform_in_objmode(op, node, ctx)
    # One batch dimension, one output: loop and stack.
    args = [f"x{i}" for i in range(len(node.inputs))]
    lines = [f"def {{name}}({', '.join(args)}):"]
    batched = [i for i, (v, s) in enumerate(zip(node.inputs, op.inputs_sig)) if v.type.ndim > len(s)]
    lines.append(f"    n = x{batched[0]}.shape[0]")
    for i in batched:
        if node.inputs[i].type.shape[0] == 1:
            continue
        lines.append(f"    if x{i}.shape[0] != n and n != 1:")
        lines.append("        raise ValueError('Blockwise: batch shapes do not match')")
        lines.append(f"    n = max(n, x{i}.shape[0])")

    def item(i, b):
        if i not in batched:
            return f"x{i}"
        if node.inputs[i].type.shape[0] == 1:
            return f"x{i}[0]"
        return f"x{i}[{b}]"

    lines.append(f"    first = {core_fn}({', '.join(item(i, 0) for i in range(len(args)))})")
    lines.append(f"    out = np.empty((n,) + first.shape, dtype={np_dtype(node.outputs[0].type.dtype)})")
    lines.append("    out[0] = first")
    lines.append("    for b in range(1, n):")
    lines.append(f"        out[b] = {core_fn}({', '.join(item(i, 'b') for i in range(len(args)))})")
    lines.append("    return out")
    return ctx.define("\n".join(lines) + "\n", prefix="blockwise")

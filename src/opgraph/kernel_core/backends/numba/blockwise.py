"""Blockwise: without batch dimensions it is its core op; otherwise a loop over the batch.

Any number of batch dimensions and outputs.  The batch shape is the broadcast
of the inputs' batch shapes (missing leading dims count as 1).  Like the
Python mode (and PyTensor), a batch dim of length 1 only broadcasts when it is
statically 1; a run-time 1 against a longer dim is an error.

The loop walks the flattened batch, unravels the batch index, calls the core
op's njit function on each input's core slice and writes each output's core
result into its slot.  An empty batch is an error here (the core output
shapes would need the core op's shape inference at run time).
"""

from __future__ import annotations

from opgraph.kernel_core.backends.numba.assign import define_assign
from opgraph.kernel_core.backends.numba.dispatch import np_dtype, numba_funcify
from opgraph.kernel_core.tensor.blockwise import Blockwise


def _core_types(op, node):
    return [type(i.type)(i.type.dtype, i.type.shape[i.type.ndim - len(s):])
            for i, s in zip(node.inputs, op.inputs_sig)]


@numba_funcify.register(Blockwise)
def _funcify_blockwise(op, node, ctx):
    core = op._core_node(_core_types(op, node))
    core_fn = numba_funcify(op.core_op, core, ctx)
    nb = node.outputs[0].type.ndim - len(op.outputs_sig[0])
    if nb == 0:
        return core_fn
    n_in, n_out = len(node.inputs), len(node.outputs)
    args = [f"x{i}" for i in range(n_in)]
    lines = [f"def {{name}}({', '.join(args)}):"]
    # Batch length per output batch dim: n<d>; per input dim a 0/1 stride flag s<i>_<d>.
    in_batch = [v.type.ndim - len(s) for v, s in zip(node.inputs, op.inputs_sig)]
    for d in range(nb):
        lines.append(f"    n{d} = 1")
        for i, v in enumerate(node.inputs):
            k = d - (nb - in_batch[i])
            if k < 0 or v.type.shape[k] == 1:
                continue
            lines += [f"    if x{i}.shape[{k}] != 1 and n{d} != 1 and x{i}.shape[{k}] != n{d}:",
                      "        raise ValueError('Blockwise: batch shapes do not broadcast')",
                      f"    if x{i}.shape[{k}] != 1:",
                      f"        n{d} = x{i}.shape[{k}]"]
        for i, v in enumerate(node.inputs):
            k = d - (nb - in_batch[i])
            if k < 0 or v.type.shape[k] == 1:
                continue
            lines += [f"    if x{i}.shape[{k}] == 1 and n{d} != 1:",
                      f"        raise ValueError('Blockwise: an input has run-time length 1 in batch dimension {d} "
                      "but is not declared broadcastable')"]
    total = " * ".join(f"n{d}" for d in range(nb))
    lines += [f"    total = {total}",
              "    if total == 0:",
              "        raise ValueError('Blockwise: empty batches are not supported by the Numba backend')"]

    def item(i, idx):
        k0 = nb - in_batch[i]
        parts = []
        for d in range(k0, nb):
            parts.append("0" if node.inputs[i].type.shape[d - k0] == 1 else idx[d])
        if not parts:
            return f"x{i}"
        if not op.inputs_sig[i]:
            # Indexing every axis gives a number; core functions take 0-d arrays.
            return f"np.asarray(x{i}[{', '.join(parts)}])"
        return f"x{i}[{', '.join(parts)}]"

    def unravel(pad):
        out = [f"{pad}rem = b"]
        for d in reversed(range(nb)):
            out += [f"{pad}b{d} = rem % n{d}", f"{pad}rem //= n{d}"]
        return out

    idx = [f"b{d}" for d in range(nb)]
    call = f"{core_fn}({', '.join(item(i, idx) for i in range(n_in))})"
    res = [f"r{o}" for o in range(n_out)]
    core_ndims = [len(s) for s in op.outputs_sig]
    batch_shape = "".join(f"n{d}, " for d in range(nb))
    out_idx = ", ".join(idx)

    # Core results of one or more dims are copied by assign.py's loops, not numba's array
    # setitem (its str()-formatted shape-mismatch path: ~2 s CPU of a cold compile).
    assigns = [define_assign(ctx, d, d) if d else None for d in core_ndims]

    def store(pad):
        out = []
        for o in range(n_out):
            if core_ndims[o]:
                out.append(f"{pad}{assigns[o]}(out{o}[{out_idx}], r{o})")
            else:
                out.append(f"{pad}out{o}[{out_idx}] = r{o}[()]")
        return out

    lines += ["    b = 0"] + unravel("    ")
    lines.append(f"    {', '.join(res)}{',' if n_out == 1 else ''} = ({call}{',' if n_out == 1 else ''})")
    for o in range(n_out):
        dt = np_dtype(node.outputs[o].type.dtype)
        lines.append(f"    out{o} = np.empty(({batch_shape}) + r{o}.shape, dtype={dt})")
    lines += store("    ")
    lines.append("    for b in range(1, total):")
    lines += unravel("        ")
    lines.append(f"        {', '.join(res)}{',' if n_out == 1 else ''} = ({call}{',' if n_out == 1 else ''})")
    lines += store("        ")
    rets = [f"out{o}" for o in range(n_out)]
    lines.append("    return " + (rets[0] if n_out == 1 else "(" + ", ".join(rets) + ")"))
    return ctx.define("\n".join(lines) + "\n", prefix="blockwise")

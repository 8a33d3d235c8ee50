"""Blockwise: a core op applied gufunc-style over leading batch dimensions.

``Blockwise(Dot(), "(m,k),(k,n)->(m,n)")`` takes inputs whose trailing
dimensions are the core op's and whose leading (batch) dimensions broadcast
like NumPy (missing leading dimensions count as 1).  dprint shows
``Blockwise{dot, (m,k),(k,n)->(m,n)}``.

Core ops may define ``perform_batched(inputs) -> list of arrays`` when their
NumPy implementation already handles leading batch dims (matmul, linalg);
otherwise ``perform`` loops over the batch calling the core op's ``perform``.
"""

from __future__ import annotations

import re

import numpy as np

from opgraph.kernel_core.graph.basic import Apply, Variable
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.graph.traversal import io_toposort
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.elemwise import DimShuffle, Elemwise
from opgraph.kernel_core.tensor.type import TensorType, broadcast_static_shapes

__all__ = ["Blockwise", "parse_signature", "apply_core", "sum_to_broadcast"]

_ARG = r"\((?:\w+(?:,\w+)*)?\)"
_SIG = re.compile(rf"^{_ARG}(?:,{_ARG})*->{_ARG}(?:,{_ARG})*$")


def parse_signature(signature):
    """``"(m,k),(k,n)->(m,n)"`` -> ([("m","k"), ("k","n")], [("m","n")])."""
    sig = signature.replace(" ", "")
    if not _SIG.match(sig):
        raise ValueError(f"invalid gufunc signature {signature!r}; expected e.g. '(m,k),(k,n)->(m,n)'")
    ins, outs = sig.split("->")

    def args(part):
        return [tuple(d for d in a.split(",") if d) for a in re.findall(r"\(([^)]*)\)", part)]

    return args(ins), args(outs)


def signature_from_ndims(in_ndims, out_ndims):
    """A signature with distinct dim names, for core ops without one."""
    def args(prefix, ndims):
        return ",".join("(" + ",".join(f"{prefix}{i}{j}" for j in range(n)) + ")" for i, n in enumerate(ndims))

    return f"{args('i', in_ndims)}->{args('o', out_ndims)}"


def core_signature(op, node):
    """The gufunc signature to batch ``node``: the op's own when it has one, else generic names."""
    if hasattr(op, "signature_for"):
        return op.signature_for(node)
    signature = getattr(op, "gufunc_signature", None)
    if signature is not None:
        return signature
    return signature_from_ndims([i.type.ndim for i in node.inputs], [o.type.ndim for o in node.outputs])


def sum_to_broadcast(g, x):
    """Sum ``g`` over the axes ``x`` was broadcast along (leading extra axes and
    static length-1 axes of ``x``), so the result has ``x``'s rank and shape."""
    from opgraph.kernel_core.tensor.reduction import sum as reduce_sum

    g = as_tensor_variable(g)
    extra = g.type.ndim - x.type.ndim
    if extra > 0:
        g = reduce_sum(g, axis=tuple(range(extra)))
    elif extra < 0:
        g = DimShuffle(g.type.ndim, ["x"] * -extra + list(range(g.type.ndim)))(g)
    axes = tuple(d for d, (xs, gs) in enumerate(zip(x.type.shape, g.type.shape)) if xs == 1 and gs != 1)
    if axes:
        g = reduce_sum(g, axis=axes, keepdims=True)
    if g.type.dtype != x.type.dtype and x.type.dtype.startswith(("float", "complex")):
        from opgraph.kernel_core.tensor.math import cast

        g = cast(g, x.type.dtype)
    return g


class Blockwise(Op):
    """Batch ``core_op`` over leading dimensions, following ``signature``."""

    __props__ = ("core_op", "signature")

    def __init__(self, core_op, signature=None):
        if not isinstance(core_op, Op):
            raise TypeError(f"Blockwise needs an Op, got {core_op!r}")
        if isinstance(core_op, Blockwise):
            raise TypeError("Blockwise of a Blockwise: batch the core op directly")
        signature = signature or getattr(core_op, "gufunc_signature", None)
        if signature is None:
            raise ValueError(f"Blockwise({core_op}) needs a signature such as '(m,k),(k,n)->(m,n)'")
        self.core_op = core_op
        self.signature = signature
        self.inputs_sig, self.outputs_sig = parse_signature(signature)
        self._core_nodes = {}

    def __str__(self):
        return f"Blockwise{{{self.core_op}, {self.signature}}}"

    @property
    def destroy_map(self):
        return {}

    # -- typing -------------------------------------------------------------
    def _core_node(self, core_types):
        key = tuple(core_types)
        node = self._core_nodes.get(key)
        if node is None:
            node = self.core_op.make_node(*[t.make_variable() for t in core_types])
            self._core_nodes[key] = node
        return node

    def _batch_ndim(self, inputs):
        return max((i.type.ndim - len(s) for i, s in zip(inputs, self.inputs_sig)), default=0)

    def make_node(self, *inputs):
        if len(inputs) != len(self.inputs_sig):
            raise TypeError(f"{self} takes {len(self.inputs_sig)} inputs, got {len(inputs)}")
        inputs = [as_tensor_variable(i) for i in inputs]
        sizes = {}
        for pos, (inp, sig) in enumerate(zip(inputs, self.inputs_sig)):
            if inp.type.ndim < len(sig):
                raise ValueError(f"{self}: input {pos} ({inp}, {inp.type.short_str()}) needs at least "
                                 f"{len(sig)} dimensions for its core signature {'(' + ','.join(sig) + ')'}")
            for name, s in zip(sig, inp.type.shape[inp.type.ndim - len(sig):]):
                if s is None:
                    continue
                if sizes.setdefault(name, s) != s:
                    raise ValueError(f"{self}: core dimension {name!r} is {sizes[name]} in one input and {s} "
                                     f"in {inp} ({inp.type.short_str()})")
        core_types = [TensorType(i.type.dtype, i.type.shape[i.type.ndim - len(s):]) for i, s in zip(inputs, self.inputs_sig)]
        core_node = self._core_node(core_types)
        for o in core_node.outputs:
            if not isinstance(o.type, TensorType):
                raise TypeError(f"{self}: the core op's output {o} is a {o.type}, not a tensor: "
                                "only tensor outputs can be batched")
        batch_shapes = [i.type.shape[: i.type.ndim - len(s)] for i, s in zip(inputs, self.inputs_sig)]
        batch = broadcast_static_shapes(batch_shapes, names=[str(i) for i in inputs])
        outputs = [TensorType(o.type.dtype, batch + o.type.shape).make_variable() for o in core_node.outputs]
        return Apply(self, inputs, outputs)

    # -- evaluation -----------------------------------------------------------
    def perform(self, node, inputs, output_storage):
        nb = len(node.outputs[0].type.shape) - len(self.outputs_sig[0])
        batch_parts = [x.shape[: x.ndim - len(s)] for x, s in zip(inputs, self.inputs_sig)]
        try:
            batch = np.broadcast_shapes(*batch_parts)
        except ValueError:
            raise ValueError(f"{self}: batch shapes {', '.join(map(str, batch_parts))} do not broadcast") from None
        # Like PyTensor, a length-1 batch dim only broadcasts when it is static.
        for x, var, s in zip(inputs, node.inputs, self.inputs_sig):
            off = nb - (x.ndim - len(s))
            for d, n in enumerate(x.shape[: x.ndim - len(s)]):
                if n == 1 and batch[off + d] != 1 and var.type.shape[d] != 1:
                    raise ValueError(f"{self}: input {var} has runtime length 1 in batch dimension {d} but is "
                                     f"not declared broadcastable (shape {var.type.shape}); use "
                                     f"specify_broadcastable or give it the full length")
        inputs = [np.broadcast_to(x, batch + x.shape[x.ndim - len(s):]) for x, s in zip(inputs, self.inputs_sig)]
        batched = getattr(self.core_op, "perform_batched", None)
        results = NotImplemented
        if batched is not None:
            results = batched(inputs, [len(s) for s in self.inputs_sig])
        if results is NotImplemented:
            results = self._loop(node, inputs, batch)
        for storage, value, out in zip(output_storage, results, node.outputs):
            storage[0] = np.asarray(value, dtype=out.type.dtype)

    def _loop(self, node, inputs, batch):
        core_types = [TensorType(i.type.dtype, i.type.shape[i.type.ndim - len(s):]) for i, s in zip(node.inputs, self.inputs_sig)]
        core_node = self._core_node(core_types)
        results = None
        for idx in np.ndindex(*batch):
            cells = [[None] for _ in core_node.outputs]
            self.core_op.perform(core_node, [x[idx] for x in inputs], cells)
            if results is None:
                results = [np.empty(batch + np.shape(c[0]), dtype=o.type.dtype) for c, o in zip(cells, node.outputs)]
            for r, c in zip(results, cells):
                r[idx] = c[0]
        if results is None:  # empty batch: the core op never ran, ask its infer_shape
            core_shapes = [tuple(int(d) for d in x.shape[x.ndim - len(s):]) for x, s in zip(inputs, self.inputs_sig)]
            try:
                out_shapes = self.core_op.infer_shape(None, core_node, core_shapes)
            except NotImplementedError:
                out_shapes = [o.type.shape for o in core_node.outputs]
            results = []
            for o, shp in zip(core_node.outputs, out_shapes):
                core_shape = tuple(0 if d is None else int(d) if isinstance(d, (int, np.integer)) else int(d.eval())
                                   for d in shp)
                results.append(np.empty(batch + core_shape, dtype=o.type.dtype))
        return results

    def infer_shape(self, fgraph, node, input_shapes):
        nb = self._batch_ndim(node.inputs)
        batch = []
        for d in range(nb):
            static = node.outputs[0].type.shape[d]
            if static is not None:
                batch.append(static)
                continue
            cand = None
            for inp, shp, sig in zip(node.inputs, input_shapes, self.inputs_sig):
                k = d - (nb - (inp.type.ndim - len(sig)))
                if k >= 0 and inp.type.shape[k] != 1:
                    cand = shp[k]
                    break
            batch.append(1 if cand is None else cand)
        core_types = [TensorType(i.type.dtype, i.type.shape[i.type.ndim - len(s):]) for i, s in zip(node.inputs, self.inputs_sig)]
        core_node = self._core_node(core_types)
        core_shapes = [tuple(shp[len(shp) - len(s):]) for shp, s in zip(input_shapes, self.inputs_sig)]
        out_core = self.core_op.infer_shape(fgraph, core_node, core_shapes)
        return [tuple(batch) + tuple(oc) for oc in out_core]

    # -- gradient -------------------------------------------------------------
    def L_op(self, inputs, outputs, output_grads):
        from opgraph.kernel_core.tensor.math import zeros_like

        if getattr(self.core_op, "L_op_handles_batch", False):
            # The core pullback is written with batch-aware ops: use it directly.
            grads = self.core_op.L_op(list(inputs), list(outputs), list(output_grads))
            return [None if g is None else sum_to_broadcast(g, inp) for inp, g in zip(inputs, grads)]
        core_in = [TensorType(i.type.dtype, i.type.shape[i.type.ndim - len(s):]).make_variable()
                   for i, s in zip(inputs, self.inputs_sig)]
        core_node = self.core_op.make_node(*core_in)
        core_og = [o.type.make_variable() for o in core_node.outputs]
        core_grads = self.core_op.L_op(core_in, core_node.outputs, core_og)
        output_grads = [zeros_like(o) if g is None else g for o, g in zip(outputs, output_grads)]
        mapping = dict(zip(core_in, inputs))
        mapping.update(zip(core_node.outputs, outputs))
        mapping.update(zip(core_og, output_grads))
        wanted = [g for g in core_grads if g is not None]
        try:
            batched = batch_graph(wanted, mapping)
        except NotImplementedError:
            # A node of the core pullback cannot be batched on its own (one with a
            # scalar-typed output fed by batched values): batch the whole pullback.
            batched = self._batched_pullback(core_in, core_og, core_grads, list(inputs), output_grads)
        result, it = [], iter(batched)
        for inp, g in zip(inputs, core_grads):
            result.append(None if g is None else sum_to_broadcast(next(it), inp))
        return result

    def _batched_pullback(self, core_in, core_og, core_grads, inputs, output_grads):
        """The core pullback as one OpFromGraph, batched by a Blockwise of it."""
        from opgraph.kernel_core.compile.builders import OpFromGraph

        def sig(dims):
            return "(" + ",".join(dims) + ")"

        wanted = [(g, s) for g, s in zip(core_grads, self.inputs_sig) if g is not None]
        pullback = OpFromGraph(core_in + core_og, [g for g, _ in wanted], name=f"pullback of {self.core_op}")
        signature = (",".join(sig(s) for s in self.inputs_sig + self.outputs_sig) + "->"
                     + ",".join(sig(s) for _, s in wanted))
        outs = Blockwise(pullback, signature)(*inputs, *output_grads)
        return outs if isinstance(outs, (list, tuple)) else [outs]


def apply_core(core_op, signature, *inputs):
    """``core_op(*inputs)`` when inputs have exactly the core ranks, else its Blockwise."""
    inputs = [as_tensor_variable(i) for i in inputs]
    ins, _ = parse_signature(signature)
    if all(i.type.ndim == len(s) for i, s in zip(inputs, ins)):
        return core_op(*inputs)
    return Blockwise(core_op, signature)(*inputs)


def batch_graph(outputs, mapping):
    """Rebuild the graph of ``outputs`` with core variables replaced by batched ones.

    ``mapping`` sends core variables to variables with extra leading (batch)
    dimensions.  Elemwise broadcasts on its own, DimShuffle gets the batch axes
    prepended, basic indexing gets leading full slices, anything else becomes a
    Blockwise over its node.
    """
    from opgraph.kernel_core.tensor.shape import Shape, Shape_i, shape
    from opgraph.kernel_core.tensor.subtensor import IdxSlice, IncSubtensor, Subtensor

    memo = dict(mapping)
    for node in io_toposort(list(mapping), outputs):
        new_inputs = [memo.get(i, i) for i in node.inputs]
        if all(n is o for n, o in zip(new_inputs, node.inputs)):
            continue
        op = node.op
        extra = max((n.type.ndim - o.type.ndim for n, o in zip(new_inputs, node.inputs)), default=0)
        if extra == 0 and all(n.type == o.type for n, o in zip(new_inputs, node.inputs)):
            # Inputs rebuilt but not batched (a core length, say): the same node on them.
            new_outs = op.make_node(*new_inputs).outputs
        elif isinstance(op, Elemwise):
            new_outs = op.make_node(*new_inputs).outputs
        elif isinstance(op, DimShuffle):
            (x,) = new_inputs
            nb = x.type.ndim - op.input_ndim
            order = list(range(nb)) + [d if d == "x" else d + nb for d in op.new_order]
            new_outs = [DimShuffle(x.type.ndim, order)(x)]
        elif isinstance(op, Subtensor):
            nb = new_inputs[0].type.ndim - node.inputs[0].type.ndim
            new_outs = [Subtensor((IdxSlice(),) * nb + op.idx_list)(*new_inputs)]
        elif isinstance(op, IncSubtensor):
            x, y, *idx = new_inputs
            nb = x.type.ndim - node.inputs[0].type.ndim
            if nb < extra:
                x = _pad_left(x, extra - nb)
                nb = extra
            new_outs = [IncSubtensor((IdxSlice(),) * nb + op.idx_list, op.inplace, op.set_instead_of_inc)(x, y, *idx)]
        elif isinstance(op, Blockwise):
            new_outs = op.make_node(*new_inputs).outputs
        elif isinstance(op, (Shape, Shape_i)):
            # The core dims have the same lengths in every batch element.
            (x,) = new_inputs
            nb = x.type.ndim - node.inputs[0].type.ndim
            new_outs = [Shape_i(op.i + nb)(x)] if isinstance(op, Shape_i) else [shape(x)[nb:]]
        else:
            if not all(isinstance(v.type, TensorType) for v in list(new_inputs) + node.outputs):
                raise NotImplementedError(f"cannot batch {op}: it has non-tensor inputs or outputs")
            new_outs = Blockwise(op, core_signature(op, node)).make_node(*new_inputs).outputs
        memo.update(zip(node.outputs, new_outs))
    return [memo.get(o, o) for o in outputs]


def _pad_left(x, n):
    return DimShuffle(x.type.ndim, ["x"] * n + list(range(x.type.ndim)))(x)


def _is_variable(x):
    return isinstance(x, Variable)

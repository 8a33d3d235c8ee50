"""Rewrites of random variables.

* ``random_make_inplace`` (``inplace`` phase): an RV node may advance its
  generator in place (``d={0: [0]}``) when nothing else reads the generator
  -- the common case of a shared generator updated by the node's ``next_rng``
  (updated shared generators are mutable, see ``function_type.py``).  Without
  it every draw copies the generator first.
* ``subtensor_rv_lift`` / ``dimshuffle_rv_lift`` (``canonicalize``): index or
  reorder the *parameters* instead of the draw, for RVs whose every
  parameter is a scalar per draw (signature ``(),...->()``): the draws of
  the result have the same distribution, and only the needed values are
  drawn (``normal(mu, sigma, size=(100,))[:3]`` draws 3).  Applied only when
  the draw has no other client (else the values seen elsewhere would no longer
  be the same draws).
* ``unused_rv_draw`` (``canonicalize``): an RV whose draw nobody reads does not
  run; its ``next_rng`` becomes its ``rng`` (the generator is not advanced).
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.rewriting.db import graph_rewriter, node_rewriter, register_rewrite
from opgraph.kernel_core.rewriting.inplace import destroy_first_input_where_safe
from opgraph.kernel_core.tensor.elemwise import DimShuffle
from opgraph.kernel_core.tensor.random.op import RandomVariable, static_size
from opgraph.kernel_core.tensor.subtensor import Subtensor, getitem, indices_from_node


@graph_rewriter(name="random_make_inplace")
def random_make_inplace(fgraph):
    """Let RV nodes advance their generator in place when the destroy handler allows it."""
    # (The generator is input 0 and output 0: same type.)
    destroy_first_input_where_safe(fgraph, RandomVariable, lambda op: op.clone(inplace=True),
                                   "random_make_inplace")


def _scalar_rv(node):
    op = node.op
    return isinstance(op, RandomVariable) and op.ndim_supp == 0 and not any(op.ndims_params)


def _only_client(fgraph, var, node):
    clients = fgraph.clients.get(var, [])
    return len(clients) == 1 and clients[0][0] is node


def _static_entries(entries):
    """The index as Python ints / slices when every part is a constant, else None."""
    out = []
    for e in entries:
        if isinstance(e, slice):
            parts = []
            for p in (e.start, e.stop, e.step):
                if p is None or (isinstance(p, Constant) and p.data is None):
                    parts.append(None)
                elif isinstance(p, Constant):
                    parts.append(int(p.data))
                else:
                    return None
            out.append(slice(*parts))
        elif isinstance(e, Constant):
            out.append(int(e.data))
        else:
            return None
    return tuple(out)


def _full(e):
    return isinstance(e, slice) and e.start is None and e.stop is None and e.step is None


def _lifted_rv(fgraph, node):
    """The scalar-parameter RV node whose draw ``node`` (an index or dimshuffle of
    it) is the only reader of, or None: the lifts rewrite such nodes only."""
    draw = node.inputs[0]
    rv_node = draw.owner
    if rv_node is None or draw.index != 1 or not _scalar_rv(rv_node) or not _only_client(fgraph, draw, node):
        return None
    return rv_node


def _redrawn(node, rv_node, rng, size, params):
    """The replacements of a lift: ``node``'s value drawn directly with the moved
    parameters and size, and the RV's next rng; None when the rank would change."""
    next_rng, new_draw = rv_node.op.make_node(rng, size, *params).outputs
    if new_draw.type.ndim != node.outputs[0].type.ndim:
        return None
    return {node.outputs[0]: new_draw, rv_node.outputs[0]: next_rng}


@node_rewriter([Subtensor])
def subtensor_rv_lift(fgraph, node):
    """rv(params, size)[idx] -> rv(params[idx], size') : draw only the indexed values."""
    from opgraph.kernel_core.tensor.construction import empty
    from opgraph.kernel_core.tensor.shape import shape

    rv_node = _lifted_rv(fgraph, node)
    if rv_node is None:
        return None
    draw = rv_node.outputs[1]
    entries = list(indices_from_node(node))
    if not entries or any(not isinstance(e, slice) and getattr(e.type, "ndim", 0) != 0 for e in entries):
        return None
    rng, size, *params = rv_node.inputs
    out_shape = draw.type.shape
    new_params = []
    for p in params:
        own = []
        for axis, e in enumerate(entries):
            ps = p.type.shape[axis]
            if ps == 1 and out_shape[axis] != 1:
                own.append(slice(None) if isinstance(e, slice) else 0)
            elif _full(e) or (ps is not None and ps == out_shape[axis]):
                own.append(e)
            else:
                return None   # a dim that may broadcast at run time: indexing it is not safe
        new_params.append(getitem(p, tuple(own)) if not all(_full(e) for e in own) else p)
    if size.type.shape[0]:
        known = static_size(size)
        py_entries = _static_entries(entries)
        if None not in known and py_entries is not None:
            new_size = np.empty(known, dtype="int8")[py_entries].shape
        else:
            # The shape of the index applied to the old size (computed, never allocated).
            dims = [size[i] for i in range(size.type.shape[0])]
            new_size = shape(getitem(empty(dims, dtype="int8"), tuple(entries)))
    else:
        new_size = None
    return _redrawn(node, rv_node, rng, new_size, new_params)


@node_rewriter([DimShuffle])
def dimshuffle_rv_lift(fgraph, node):
    """rv(params, size).dimshuffle(order) -> rv(params.dimshuffle(order), size reordered)."""
    from opgraph.kernel_core.tensor.basic import as_tensor_variable

    rv_node = _lifted_rv(fgraph, node)
    if rv_node is None:
        return None
    draw = rv_node.outputs[1]
    op = node.op
    rng, size, *params = rv_node.inputs
    kept = [d for d in op.new_order if d != "x"]
    dropped = [d for d in range(draw.type.ndim) if d not in kept]
    for p in params:
        if any(p.type.shape[d] != 1 for d in dropped):
            return None
    new_params = [DimShuffle(p.type.ndim, op.new_order)(p) for p in params]
    if size.type.shape[0]:
        known = static_size(size)
        if None not in known:
            new_size = tuple(1 if d == "x" else known[d] for d in op.new_order)
        else:
            new_size = as_tensor_variable([1 if d == "x" else size[d] for d in op.new_order])
    else:
        new_size = None
    return _redrawn(node, rv_node, rng, new_size, new_params)


@node_rewriter([RandomVariable])
def unused_rv_draw(fgraph, node):
    """An RV whose draw is unused: its next_rng is its rng (nothing is drawn)."""
    if fgraph.clients.get(node.outputs[1]):
        return None
    if not fgraph.clients.get(node.outputs[0]):
        return None
    return {node.outputs[0]: node.inputs[0]}


register_rewrite(random_make_inplace, "inplace", "fast_run", "random", name="random_make_inplace")
register_rewrite(subtensor_rv_lift, "canonicalize", "random", "subtensor_lift")
register_rewrite(dimshuffle_rv_lift, "canonicalize", "random")
register_rewrite(unused_rv_draw, "canonicalize", "random", "useless")

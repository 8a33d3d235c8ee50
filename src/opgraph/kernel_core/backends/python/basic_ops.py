"""Generated-Python rules for reductions, shapes, shape checks and Dot: ``perform``'s NumPy calls, inline."""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.backends.python.dispatch import (ERRSTATE_ANY, ERRSTATE_CALLER, Kernel, perform_kernel,
                                                          python_funcify)
from opgraph.kernel_core.tensor.dot import Dot
from opgraph.kernel_core.tensor.reduction import CAReduce
from opgraph.kernel_core.tensor.shape import Shape, ShapeAgreement, Shape_i


@python_funcify.register(CAReduce)
def careduce_kernel(op, node, names):
    if type(op).perform is not CAReduce.perform:   # a subclass computing otherwise
        return perform_kernel(op, node, names)
    (x,), (out,) = names.inputs, names.outputs
    reduce, axis = names.alias("reduce"), names.alias("axis")
    dtype = node.outputs[0].type.dtype
    needs = {reduce: op.np_reduce, axis: op._np_axis(), "_np_asarray": np.asarray}
    lines = [f"{out} = _np_asarray({reduce}(_np_asarray({x}), {axis}, {dtype!r}), dtype={dtype!r})"]
    return Kernel(lines, needs, ERRSTATE_CALLER)


def _shape_lines(op, node, names, cls, index):
    """``shape(x)`` (``index`` "") or one entry of it (``index`` "[i]"), as int64."""
    if type(op).perform is not cls.perform:   # a subclass computing otherwise
        return perform_kernel(op, node, names)
    (x,), (out,) = names.inputs, names.outputs
    return Kernel([f"{out} = _np_asarray(_np_shape({x}){index}, dtype='int64')"],
                  {"_np_asarray": np.asarray, "_np_shape": np.shape}, ERRSTATE_ANY)


@python_funcify.register(Shape)
def shape_kernel(op, node, names):
    return _shape_lines(op, node, names, Shape, "")


@python_funcify.register(Shape_i)
def shape_i_kernel(op, node, names):
    return _shape_lines(op, node, names, Shape_i, f"[{op.i}]")


@python_funcify.register(Dot)
def dot_kernel(op, node, names):
    if type(op).perform is not Dot.perform:   # a subclass computing otherwise
        return perform_kernel(op, node, names)
    (x, y), (out,) = names.inputs, names.outputs
    perform, node_alias = names.alias("perform"), names.alias("node")
    dtype = node.outputs[0].type.dtype
    # Misaligned shapes: perform raises its own message.
    lines = [f"if {x}.shape[-1] != {y}.shape[0]: {perform}({node_alias}, [{x}, {y}], [[None]])",
             f"{out} = _np_asarray(_np_dot({x}, {y}), dtype={dtype!r})"]
    return Kernel(lines, {perform: op.perform, node_alias: node, "_np_asarray": np.asarray,
                          "_np_dot": np.dot}, ERRSTATE_CALLER)


@python_funcify.register(ShapeAgreement)
def shape_agreement_kernel(op, node, names):
    if type(op).perform is not ShapeAgreement.perform:   # a subclass computing otherwise
        return perform_kernel(op, node, names)
    (x, *entries), (out,) = names.inputs, names.outputs
    raise_mismatch, node_alias = names.alias("raise_mismatch"), names.alias("node")
    # The comparison inline; on a mismatch perform raises its own message.
    mismatch = " or ".join(f"{x}.shape[{d}] != {e}" for d, e in zip(op.dims, entries)) or "False"
    lines = [f"if {mismatch}: {raise_mismatch}({node_alias}, [{', '.join(names.inputs)}], [[None]])",
             f"{out} = {x}"]
    return Kernel(lines, {raise_mismatch: op.perform, node_alias: node}, ERRSTATE_ANY)

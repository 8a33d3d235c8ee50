"""Op: the definition of a computation; ``Apply`` is its application.

The protocol (every hook but ``make_node`` optional):

``__props__``      fields that define equality and hashing (merge needs them)
``make_node``      check / convert inputs, infer output types, return an Apply
``perform``        NumPy implementation: ``perform(node, inputs, output_storage)``
                   where ``output_storage[i]`` is a one-element list to fill
``L_op``           pullback: ``L_op(inputs, outputs, output_grads)`` returns one
                   gradient per input (a Variable, or None when disconnected).
                   Ops written PyTensor's way may define instead, in order of
                   preference: ``pullback(inputs, outputs, output_grads)``
                   (PyTensor 3's name, same arguments), ``L_op`` itself, or the
                   older ``grad(inputs, output_grads)``; ``grad`` / ``Lop`` use
                   whichever the Op defines.
``infer_shape``    ``infer_shape(fgraph, node, input_shapes)`` returns one tuple
                   of scalar shape variables per output
``vectorize_node`` batched node when inputs gain leading dims
``__str__``        the name dprint shows
``destroy_map``    {output index: [input index]} for ops that overwrite inputs
``view_map``       {output index: [input index]} for ops returning views
"""

from __future__ import annotations


class Op:
    __props__: tuple = ()
    destroy_map: dict = {}
    view_map: dict = {}
    default_output = None

    # -- identity ---------------------------------------------------------
    def _props(self):
        return tuple(getattr(self, p) for p in self.__props__)

    def _props_dict(self):
        return {p: getattr(self, p) for p in self.__props__}

    def __eq__(self, other):
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self):
        return hash((type(self), self._props()))

    def __str__(self):
        if not self.__props__:
            return type(self).__name__
        args = ", ".join(f"{p}={getattr(self, p)!r}" for p in self.__props__)
        return f"{type(self).__name__}{{{args}}}"

    def __repr__(self):
        return str(self)

    # -- protocol ---------------------------------------------------------
    def make_node(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__}.make_node")

    def __call__(self, *inputs, name=None, return_list=False, **kwargs):
        node = self.make_node(*inputs, **kwargs)
        outputs = node.outputs
        if name is not None:
            if len(outputs) == 1:
                outputs[0].name = name
            else:
                for i, o in enumerate(outputs):
                    o.name = f"{name}.{i}"
        if return_list:
            return list(outputs)
        if self.default_output is not None:
            return outputs[self.default_output]
        if len(outputs) == 1:
            return outputs[0]
        return list(outputs)

    def perform(self, node, inputs, output_storage):
        raise NotImplementedError(f"{self} has no Python implementation (perform)")

    def L_op(self, inputs, outputs, output_grads):
        # Subclasses override L_op, or define PyTensor's other names for it.
        if callable(getattr(self, "pullback", None)):
            return self.pullback(inputs, outputs, output_grads)
        if callable(getattr(self, "grad", None)):
            return self.grad(inputs, output_grads)
        raise NotImplementedError(f"{self} does not define a gradient (pullback, L_op or grad)")

    def infer_shape(self, fgraph, node, input_shapes):
        raise NotImplementedError(f"{self} does not define infer_shape")

    def do_constant_folding(self, fgraph, node):
        """Whether constant folding may evaluate this node."""
        return True

    def inner_graphs(self):
        """Ops with inner graphs (Composite, ...) return (inputs, outputs)."""
        return None


# The public names: everything defined here (PyTensor's module re-exports them).
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and getattr(_v, "__module__", None) == __name__]

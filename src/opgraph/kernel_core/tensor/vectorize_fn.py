"""``pt.vectorize(fn, signature=None)``: NumPy's ``np.vectorize`` for graph-building functions.

``fn`` is written for core inputs (scalars, or the core ranks a gufunc
``signature`` such as ``"(m,k),(k)->(m)"`` names); the returned function
accepts inputs with extra leading batch dims.  It calls ``fn`` once on core
placeholders and batches the resulting graph with ``vectorize_graph``.
"""

from __future__ import annotations

import functools

__all__ = ["vectorize"]


def vectorize(fn, signature=None):
    """A version of ``fn`` that maps over leading (batch) dims of its tensor inputs."""
    if not callable(fn):
        raise TypeError(f"vectorize expects a function, got {type(fn).__name__}")
    if signature is not None:
        from opgraph.kernel_core.tensor.blockwise import parse_signature

        in_sig, out_sig = parse_signature(signature)
    else:
        in_sig = out_sig = None

    @functools.wraps(fn)
    def vectorized(*args):
        from opgraph.kernel_core.tensor.basic import as_tensor_variable
        from opgraph.kernel_core.tensor.type import TensorType
        from opgraph.kernel_core.vectorize import vectorize_graph

        inputs = [as_tensor_variable(a) for a in args]
        core_ndims = [0] * len(inputs) if in_sig is None else [len(s) for s in in_sig]
        if len(core_ndims) != len(inputs):
            raise TypeError(f"vectorize({getattr(fn, '__name__', fn)}): the signature {signature!r} has "
                            f"{len(core_ndims)} inputs, got {len(inputs)} arguments")
        core_inputs = []
        for i, (inp, nd) in enumerate(zip(inputs, core_ndims)):
            if inp.type.ndim < nd:
                raise ValueError(f"vectorize: argument {i} ({inp}, {inp.type.short_str()}) needs at least "
                                 f"{nd} dimensions for the signature {signature!r}")
            core_shape = inp.type.shape[inp.type.ndim - nd:]
            core_inputs.append(TensorType(inp.type.dtype, core_shape).make_variable(name=inp.name))
        outputs = fn(*core_inputs)
        multiple = isinstance(outputs, (list, tuple))
        outs = [as_tensor_variable(o) for o in (outputs if multiple else [outputs])]
        if out_sig is not None:
            if len(out_sig) != len(outs):
                raise ValueError(f"vectorize: the signature {signature!r} has {len(out_sig)} outputs, "
                                 f"the function returned {len(outs)}")
            for o, s in zip(outs, out_sig):
                if o.type.ndim != len(s):
                    raise ValueError(f"vectorize: an output of {getattr(fn, '__name__', fn)} has "
                                     f"{o.type.ndim} dimensions, the signature says {len(s)}")
        batched = vectorize_graph(outs, dict(zip(core_inputs, inputs)))
        return type(outputs)(batched) if multiple else batched[0]

    return vectorized

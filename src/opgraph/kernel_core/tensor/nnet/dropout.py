"""Inverted dropout: ``x * mask`` with ``mask = bernoulli(1 - p) / (1 - p)`` drawn per element.

The mask is a random-variable draw in the outer graph (its generator update is the
user's: a ``RandomStream``, or the draw's own shared generator whose
``default_update`` advances it); the product is one ``Dropout`` node (an inline
OpFromGraph), which the ``inference`` rewrites replace by ``x`` -- the draw is left
without clients, so neither it nor its generator update reaches an inference function.
"""

from __future__ import annotations

import numbers

from opgraph.kernel_core.compile.builders import OpFromGraph
from opgraph.kernel_core.graph.basic import Variable
from opgraph.kernel_core.tensor import math as tm
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.shape import shape


class Dropout(OpFromGraph):
    """``x * mask`` (the mask already scaled by ``1 / (1 - p)``); ``p`` is shown by dprint."""

    def __init__(self, x, mask, p):
        x_in, m_in = x.type.make_variable(), mask.type.make_variable()
        super().__init__([x_in, m_in], [x_in * m_in], inline=True)
        self.p = p

    def __str__(self):
        return f"Dropout{{p={self.p}}}"


def _draw(rng, keep, size):
    from opgraph.kernel_core.tensor.random import basic as rv
    from opgraph.kernel_core.tensor.random.utils import RandomStream

    if rng is None:
        return rv.bernoulli(keep, size=size)   # its own shared generator, updated by default
    if isinstance(rng, RandomStream):
        return rng.bernoulli(keep, size=size)
    if isinstance(rng, Variable):
        return rv.bernoulli(keep, size=size, rng=rng)
    raise TypeError(f"dropout: rng must be None, a RandomStream or a generator variable, got {type(rng).__name__}")


def dropout(x, p, rng=None, training=True):
    """Zero each element of ``x`` with probability ``p`` and scale the others by
    ``1 / (1 - p)`` (inverted dropout, so inference is the identity).

    ``rng``: a ``RandomStream`` (its updates advance it), a generator variable (then
    advancing it is the caller's: pass the updates), or None (a fresh shared generator
    whose ``default_update`` advances it on each call).  ``training=False`` returns ``x``.
    """
    x = as_tensor_variable(x)
    if not isinstance(p, numbers.Real) or isinstance(p, bool):
        raise TypeError(f"dropout: p must be a number in [0, 1), got {p!r}")
    if not 0 <= p < 1:
        raise ValueError(f"dropout: p must be in [0, 1), got {p}")
    if not x.type.dtype.startswith("float"):
        raise TypeError(f"dropout: {x} has dtype {x.type.dtype}; dropout needs a float tensor")
    if not training or p == 0:
        return x
    keep = 1.0 - p
    mask = tm.cast(_draw(rng, keep, shape(x)), x.type.dtype) * tm.cast(1.0 / keep, x.type.dtype)
    return Dropout(x, mask, p)(x, mask)

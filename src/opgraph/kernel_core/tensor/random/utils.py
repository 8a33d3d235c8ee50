"""``RandomStream``: a seeded factory of random variables (PyTensor's ``RandomStream``).

Each draw gets a shared generator of its own, spawned from one
``np.random.SeedSequence(seed)`` (independent streams, reproducible from the
seed alone); its ``default_update`` is the draw's ``next_rng``.
``srng.seed(s)`` reseeds every generator the stream made, in creation order.
"""

from __future__ import annotations

import numpy as np

from opgraph.kernel_core.tensor.random.type import shared_rng

__all__ = ["RandomStream"]


class RandomStream:
    def __init__(self, seed=None, namespace=None):
        self.default_instance_seed = seed
        self.state_updates = []          # (shared generator, next_rng) per draw
        self.gen_seedseq = np.random.SeedSequence(seed)
        self.namespace = namespace

    def seed(self, seed=None):
        """Reseed every generator made so far (as a new stream with this seed would make them)."""
        if seed is None:
            seed = self.default_instance_seed
        self.gen_seedseq = np.random.SeedSequence(seed)
        for rng, _ in self.state_updates:
            child = self.gen_seedseq.spawn(1)[0]
            rng.set_value(np.random.default_rng(child), borrow=True)

    def updates(self):
        return list(self.state_updates)

    def gen(self, dist, *args, **kwargs):
        """A draw of ``dist`` (a distribution function of ``basic.py``) with a new generator."""
        if "rng" in kwargs:
            raise TypeError("RandomStream: do not pass rng=; the stream makes the generator")
        rng = shared_rng(self.gen_seedseq.spawn(1)[0])
        next_rng, draw = dist(*args, rng=rng, return_next_rng=True, **kwargs)
        rng.default_update = next_rng
        self.state_updates.append((rng, next_rng))
        return draw

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        from opgraph.kernel_core.tensor.random import basic

        dist = basic.DISTRIBUTIONS.get(name)
        if dist is None:
            raise AttributeError(f"RandomStream has no distribution {name!r}")

        def method(*args, **kwargs):
            return self.gen(dist, *args, **kwargs)

        method.__name__ = name
        method.__doc__ = dist.__doc__
        return method



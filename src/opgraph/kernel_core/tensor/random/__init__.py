"""Random variables: generator types, the ``RandomVariable`` op, the distributions and
``RandomStream`` (``opgraph.tensor.random`` re-exports them)."""

from opgraph.kernel_core.tensor.random import basic, op, type, utils  # noqa: F401
from opgraph.kernel_core.tensor.random.basic import *  # noqa: F401,F403
from opgraph.kernel_core.tensor.random.op import RandomVariable  # noqa: F401
from opgraph.kernel_core.tensor.random.type import (  # noqa: F401
    RandomGeneratorConstant, RandomGeneratorSharedVariable, RandomGeneratorType, RandomGeneratorVariable,
    random_generator_type, shared_rng,
)
from opgraph.kernel_core.tensor.random.utils import RandomStream  # noqa: F401

__all__ = (list(basic.__all__) + ["RandomVariable", "RandomGeneratorType", "RandomGeneratorVariable",
                                   "RandomGeneratorConstant", "RandomGeneratorSharedVariable",
                                   "random_generator_type", "shared_rng", "RandomStream"])

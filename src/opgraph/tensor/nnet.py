"""``opgraph.tensor.nnet`` (``pt.nnet``): layers (relu, gelu, dropout, batch_norm,
layer_norm, scaled_dot_product_attention) from the engine, and ``to_inference``,
the training -> inference rewrite of a graph built with them."""

from importlib import import_module

from opgraph._pytensor_api import missing_names

_engine = import_module("opgraph.kernel_core.tensor.nnet")
from opgraph.kernel_core.tensor.nnet import *  # noqa: F401,F403,E402
from opgraph.kernel_core.rewriting.inference import to_inference  # noqa: F401,E402

__all__ = [*_engine.__all__, "to_inference"]
__getattr__ = missing_names(__name__)

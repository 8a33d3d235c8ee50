"""``opgraph.tensor.nnet`` (``pt.nnet``): layers (relu, gelu, dropout, batch_norm,
layer_norm, scaled_dot_product_attention) from the engine, and ``to_inference``,
the training -> inference rewrite of a graph built with them; ``fuse_attention`` (fuse the
attention chains of a graph, e.g. before ``grad``) and ``fused_attention`` (the fused op)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names

_engine = import_module("opgraph.kernel_core.tensor.nnet")
from opgraph.kernel_core.tensor.nnet import *  # noqa: F401,F403,E402
from opgraph.kernel_core.rewriting.inference import to_inference  # noqa: F401,E402
from opgraph.kernel_core.rewriting.attention import fuse_attention  # noqa: F401,E402
from opgraph.kernel_core.tensor.nnet.attention_fused import fused_attention  # noqa: F401,E402

__all__ = [*_engine.__all__, "to_inference", "fuse_attention", "fused_attention"]
__getattr__ = missing_names(__name__)

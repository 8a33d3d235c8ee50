"""``pt.nnet``-style layers: activations, dropout, batch / layer normalization and
scaled dot-product attention, built from existing ops (so gradients, vectorization
and both backends come for free).

The two layers that behave differently in training and in inference, ``dropout``
and ``batch_norm``, are inline ``OpFromGraph`` nodes (``Dropout``, ``BatchNorm``):
one node each in the user's graph, so the ``inference`` rewrites
(``rewriting/inference.py``, ``to_inference``) can find and replace them, and
inlined into plain ops by the first rewrite phase of any compilation.
"""

from opgraph.kernel_core.tensor.nnet.activations import gelu, relu
from opgraph.kernel_core.tensor.nnet.attention import scaled_dot_product_attention
from opgraph.kernel_core.tensor.nnet.dropout import Dropout, dropout
from opgraph.kernel_core.tensor.nnet.normalization import BatchNorm, batch_norm, layer_norm

__all__ = ["relu", "gelu", "dropout", "Dropout", "batch_norm", "BatchNorm", "layer_norm",
           "scaled_dot_product_attention"]

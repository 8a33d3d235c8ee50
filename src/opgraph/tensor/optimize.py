"""``opgraph.tensor.optimize``: importable, so PyTensor code fails on the name it uses, with a
message saying the feature is not implemented in opgraph yet."""

from opgraph._pytensor_api import unbuilt_feature

__all__ = []
__getattr__ = unbuilt_feature(__name__)

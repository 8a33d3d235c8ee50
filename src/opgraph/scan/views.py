"""``opgraph.scan.views``: map / reduce / foldl / foldr (PyTensor's ``pytensor.scan.views``)."""

from opgraph.kernel_core.scan.views import foldl, foldr, map, reduce  # noqa: F401

__all__ = ["map", "reduce", "foldl", "foldr"]

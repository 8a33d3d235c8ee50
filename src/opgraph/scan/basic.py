"""``opgraph.scan.basic``: ``scan`` (PyTensor's ``pytensor.scan.basic.scan``)."""

from opgraph.kernel_core.scan.builder import scan  # noqa: F401

__all__ = ["scan"]

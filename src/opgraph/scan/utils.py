"""``opgraph.scan.utils``: ``until`` (PyTensor's ``pytensor.scan.utils.until``)."""

from opgraph.kernel_core.scan.utils import until  # noqa: F401

__all__ = ["until"]

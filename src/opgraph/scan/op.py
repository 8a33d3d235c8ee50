"""``opgraph.scan.op``: the ``Scan`` op (PyTensor's ``pytensor.scan.op.Scan``)."""

from opgraph.kernel_core.scan.op import Scan  # noqa: F401

__all__ = ["Scan"]

"""Signal processing (``pt.signal``): 1-d convolution."""

from opgraph.kernel_core.tensor.signal.conv import Convolve1d, convolve1d

__all__ = ["convolve1d", "Convolve1d"]

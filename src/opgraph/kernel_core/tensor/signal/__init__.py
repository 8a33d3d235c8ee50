"""Signal processing (``pt.signal``): 1-d and 2-d convolution."""

from opgraph.kernel_core.tensor.signal.conv import Convolve1d, convolve1d
from opgraph.kernel_core.tensor.signal.conv2d import Convolve2d, convolve2d
from opgraph.kernel_core.tensor.signal.fft_conv import FFTConvolve

__all__ = ["convolve1d", "Convolve1d", "convolve2d", "Convolve2d", "FFTConvolve"]

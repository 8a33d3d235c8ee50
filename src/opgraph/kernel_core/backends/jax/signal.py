"""Convolve1d / Convolve2d / FFTConvolve: ``jnp.convolve`` and ``jax.scipy.signal.convolve2d``
(full, or valid for the pullbacks' form)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.signal

from opgraph.kernel_core.backends.jax.dispatch import jax_funcify
from opgraph.kernel_core.tensor.signal.conv import Convolve1d
from opgraph.kernel_core.tensor.signal.conv2d import Convolve2d
from opgraph.kernel_core.tensor.signal.fft_conv import FFTConvolve


@jax_funcify.register(Convolve1d)
def jax_funcify_convolve1d(op, node, **kwargs):
    dtype = node.outputs[0].type.dtype
    mode = op.mode

    def convolve1d(x, k):
        # Shapes are static while tracing: the other modes' errors are raised here.
        n, m = x.shape[0], k.shape[0]
        if n == 0 or m == 0:
            raise ValueError("convolve1d: x and k must not be empty")
        if mode == "valid" and n < m:
            raise ValueError("Convolve1d{mode=valid}: x must be at least as long as k")
        full = jnp.convolve(x, k, mode="full").astype(dtype)
        return full if mode == "full" else full[m - 1:n]

    return convolve1d


@jax_funcify.register(Convolve2d)
def jax_funcify_convolve2d(op, node, **kwargs):
    dtype = node.outputs[0].type.dtype
    mode = op.mode

    def convolve2d(x, k):
        (n1, n2), (m1, m2) = x.shape, k.shape
        if x.size == 0 or k.size == 0:
            raise ValueError("convolve2d: x and k must not be empty")
        if mode == "valid" and (n1 < m1 or n2 < m2):
            raise ValueError("Convolve2d{mode=valid}: x must be at least as large as k on both axes")
        # XLA's direct convolution (jax.scipy.signal picks it for 2-d inputs).
        full = jax.scipy.signal.convolve2d(x, k, mode="full").astype(dtype)
        return full if mode == "full" else full[m1 - 1:n1, m2 - 1:n2]

    return convolve2d


@jax_funcify.register(FFTConvolve)
def jax_funcify_fft_convolve(op, node, **kwargs):
    # The FFT specialization exists for the CPU backends' direct loops; XLA has its own
    # convolution, exact to rounding, so JAX computes the same full convolution directly.
    dtype = node.outputs[0].type.dtype
    ndim = op.ndim

    def fft_convolve(x, k):
        if x.size == 0 or k.size == 0:
            raise ValueError("convolve: x and k must not be empty")
        x, k = x.astype(dtype), k.astype(dtype)
        if ndim == 1:
            return jnp.convolve(x, k, mode="full")
        return jax.scipy.signal.convolve2d(x, k, mode="full")

    return fft_convolve

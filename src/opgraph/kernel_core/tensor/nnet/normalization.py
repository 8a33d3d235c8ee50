"""Batch and layer normalization.

``batch_norm(..., training=True)`` normalizes with the batch's statistics and is one
``BatchNorm`` node (an inline OpFromGraph whose inputs include the running
statistics, unused in training), so the ``inference`` rewrite can switch it to the
running statistics -- the graph ``batch_norm(..., training=False)`` builds.
"""

from __future__ import annotations

import numbers

from opgraph.kernel_core.compile.builders import OpFromGraph
from opgraph.kernel_core.tensor import math as tm
from opgraph.kernel_core.tensor import reduction as tr
from opgraph.kernel_core.tensor.basic import as_tensor_variable
from opgraph.kernel_core.tensor.shape import shape


def _normalize(x, mean, var, gamma, beta, epsilon):
    return (x - mean) / tm.sqrt(var + epsilon) * gamma + beta


def _stat_shape(stat, like):
    """A statistic (keepdims form) in the shape of ``like`` (a running statistic or gamma)."""
    from opgraph.kernel_core.tensor.shape import reshape

    return reshape(stat, shape(like))


class BatchNorm(OpFromGraph):
    """Batch normalization with the batch statistics: inputs ``(x, gamma, beta,
    running_mean, running_var)``, the last two unused (there for ``to_inference``)."""

    def __init__(self, x, gamma, beta, running_mean, running_var, axes, epsilon):
        ins = [v.type.make_variable() for v in (x, gamma, beta, running_mean, running_var)]
        xi, gi, bi = ins[:3]
        mean = tr.mean(xi, axis=axes, keepdims=True)
        var = tr.var(xi, axis=axes, keepdims=True)
        out = _normalize(xi, mean, var, gi, bi, epsilon)
        super().__init__(ins, [out], inline=True)
        self.axes, self.epsilon = axes, epsilon

    def __str__(self):
        return f"BatchNorm{{axes={self.axes}, epsilon={self.epsilon}}}"


def _axes(x, axes):
    nd = x.type.ndim
    if axes == "per-activation":
        return (0,)
    if axes == "spatial":
        return (0, *range(2, nd))
    if isinstance(axes, numbers.Integral):
        axes = (axes,)
    if not isinstance(axes, (tuple, list)) or not all(isinstance(a, numbers.Integral) for a in axes):
        raise TypeError(f"batch_norm: axes must be 'per-activation', 'spatial', an int or a tuple, got {axes!r}")
    if any(not -nd <= int(a) < nd for a in axes):
        raise ValueError(f"batch_norm: axes {axes} out of bounds for {x} with ndim={nd}")
    return tuple(sorted(int(a) % nd for a in axes))


def batch_norm(x, gamma, beta, running_mean, running_var, training=True, axes="per-activation",
               epsilon=1e-5, momentum=0.1, return_updates=False):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta``.

    ``training=True``: mean and (biased) variance of the batch over ``axes``
    (``"per-activation"``: axis 0; ``"spatial"``: all but axis 1; or ints);
    ``training=False``: ``running_mean`` / ``running_var``.  ``gamma``, ``beta`` and the
    running statistics broadcast against ``x`` (give them the reduced axes as 1 for
    ``"spatial"``).  ``return_updates=True`` (training only) also returns
    ``{running_mean: new, running_var: new}`` with ``new = (1 - momentum) old +
    momentum batch`` (the unbiased variance, as PyTorch and PyTensor), ready for
    ``function(..., updates=)`` when the running statistics are shared variables.
    """
    x, gamma, beta, running_mean, running_var = map(as_tensor_variable, (x, gamma, beta, running_mean, running_var))
    if not isinstance(epsilon, numbers.Real) or epsilon < 0:
        raise ValueError(f"batch_norm: epsilon must be a number >= 0, got {epsilon!r}")
    if not training:
        if return_updates:
            raise ValueError("batch_norm: return_updates=True needs training=True (inference changes nothing)")
        return _normalize(x, running_mean, running_var, gamma, beta, epsilon)
    ax = _axes(x, axes)
    out = BatchNorm(x, gamma, beta, running_mean, running_var, ax, epsilon)(x, gamma, beta, running_mean, running_var)
    if not return_updates:
        return out
    mean = tr.mean(x, axis=ax, keepdims=True)
    n = 1
    for a in ax:
        n = n * shape(x)[a]
    unbiased = tr.var(x, axis=ax, keepdims=True) * tm.cast(n, x.type.dtype) / tm.cast(n - 1, x.type.dtype)
    new_mean = (1 - momentum) * running_mean + momentum * _stat_shape(mean, running_mean)
    new_var = (1 - momentum) * running_var + momentum * _stat_shape(unbiased, running_var)
    return out, {running_mean: tm.cast(new_mean, running_mean.type.dtype),
                 running_var: tm.cast(new_var, running_var.type.dtype)}


def layer_norm(x, gamma=None, beta=None, axis=-1, epsilon=1e-5):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` over ``axis`` (int or tuple; the
    last by default), per example: the same in training and inference."""
    x = as_tensor_variable(x)
    mean = tr.mean(x, axis=axis, keepdims=True)
    var = tr.var(x, axis=axis, keepdims=True)
    out = (x - mean) / tm.sqrt(var + epsilon)
    if gamma is not None:
        out = out * gamma
    if beta is not None:
        out = out + beta
    return out

"""Value transforms for unconstrained inference: constrained value = ``backward(y)``, ``y`` real.

Each transform maps an unconstrained ``y`` to the variable's support
(``backward``), back (``forward``), and gives ``log_jac_det(y)``, the log of
|det d backward / d y| (summed over the core axis for the simplex), so that
``logp_x(backward(y)) + log_jac_det(y)`` is the density of ``y``:

* ``log``: positive variables, ``x = exp(y)``;
* ``logodds``: (0, 1), ``x = sigmoid(y)``;
* ``IntervalTransform(lower, upper)``: (lower, upper), either bound may be
  None (half-bounded: ``lower + exp(y)`` / ``upper - exp(y)``); bounds may be
  graphs, even of other random variables (they are conditioned on those
  variables' values);
* ``simplex``: the K-simplex from K - 1 reals, ``x = softmax([y, 0])`` (the
  additive log-ratio map), with ``log|det J| = sum_i log x_i``.

``transformed_conditional_logp(rvs_to_values, rvs_to_transforms)`` returns one
term per value variable in the unconstrained space; its sum and ``grad`` are a
logp+gradient for a sampler or an optimiser in a few lines.
"""

from __future__ import annotations

import numpy as np

import opgraph.kernel_core.tensor.math as pm
from opgraph.kernel_core.tensor.basic import as_tensor_variable

__all__ = ["Transform", "LogTransform", "LogOddsTransform", "IntervalTransform", "SimplexTransform",
           "log", "logodds", "simplex", "transformed_conditional_logp"]


class Transform:
    """``forward(x)`` -> y, ``backward(y)`` -> x, ``log_jac_det(y)``; ``ndim_supp`` core axes reduced."""

    name = "transform"
    ndim_supp = 0

    def forward(self, value):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, value):
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def log_jac_det(self, value):
        raise NotImplementedError(f"{type(self).__name__}.log_jac_det")

    def __repr__(self):
        return f"{type(self).__name__}()"


class LogTransform(Transform):
    name = "log"

    def forward(self, value):
        return pm.log(as_tensor_variable(value))

    def backward(self, value):
        return pm.exp(as_tensor_variable(value))

    def log_jac_det(self, value):
        return as_tensor_variable(value)


class LogOddsTransform(Transform):
    name = "logodds"

    def forward(self, value):
        value = as_tensor_variable(value)
        return pm.log(value) - pm.log1p(-value)

    def backward(self, value):
        return pm.sigmoid(as_tensor_variable(value))

    def log_jac_det(self, value):
        # log(sigmoid(y) * (1 - sigmoid(y))), as softplus terms: finite for |y| up to 1e300.
        value = as_tensor_variable(value)
        return -pm.softplus(-value) - pm.softplus(value)


class IntervalTransform(Transform):
    """(lower, upper) from the reals; None for an open side."""

    name = "interval"

    def __init__(self, lower=None, upper=None):
        if lower is None and upper is None:
            raise ValueError("IntervalTransform: give lower, upper or both (for no bounds use no transform)")
        self.lower = None if lower is None else as_tensor_variable(lower)
        self.upper = None if upper is None else as_tensor_variable(upper)

    def __repr__(self):
        return f"IntervalTransform(lower={self.lower}, upper={self.upper})"

    def forward(self, value):
        value = as_tensor_variable(value)
        a, b = self.lower, self.upper
        if b is None:
            return pm.log(value - a)
        if a is None:
            return pm.log(b - value)
        return pm.log(value - a) - pm.log(b - value)

    def backward(self, value):
        value = as_tensor_variable(value)
        a, b = self.lower, self.upper
        if b is None:
            return a + pm.exp(value)
        if a is None:
            return b - pm.exp(value)
        return a + (b - a) * pm.sigmoid(value)

    def log_jac_det(self, value):
        value = as_tensor_variable(value)
        a, b = self.lower, self.upper
        if a is None or b is None:
            return value
        return pm.log(b - a) - pm.softplus(-value) - pm.softplus(value)


class SimplexTransform(Transform):
    """The K-simplex (last axis) from K - 1 reals: ``softmax([y, 0])``."""

    name = "simplex"
    ndim_supp = 1

    def forward(self, value):
        import opgraph.tensor as pt

        logx = pm.log(as_tensor_variable(value))
        return logx[..., :-1] - pt.expand_dims(logx[..., -1], -1)

    def _log_x(self, value):
        import opgraph.tensor as pt

        value = as_tensor_variable(value)
        padded = pt.concatenate([value, pt.zeros_like(value[..., :1])], axis=-1)
        return pt.special.log_softmax(padded, axis=-1)

    def backward(self, value):
        return pm.exp(self._log_x(value))

    def log_jac_det(self, value):
        import opgraph.tensor as pt

        # d x_i / d y_j = x_i (delta_ij - x_j) for i, j < K: det = prod_{i <= K} x_i.
        return pt.sum(self._log_x(value), axis=-1)


log = LogTransform()
logodds = LogOddsTransform()
simplex = SimplexTransform()


def transformed_conditional_logp(rvs_to_values, rvs_to_transforms=None, jacobian=True):
    """One logp term per value variable, with each transformed variable's value read as the
    unconstrained ``y`` (the term is ``logp(backward(y)) + log_jac_det(y)``); returns a list in
    ``rvs_to_values`` order."""
    from opgraph.kernel_core.graph.replace import clone_replace
    from opgraph.kernel_core.logprob.basic import _reaches, conditional_logp

    rvs_to_transforms = dict(rvs_to_transforms or {})
    for rv, tr in rvs_to_transforms.items():
        if rv not in rvs_to_values:
            raise ValueError(f"transformed_conditional_logp: {rv} has a transform but no value variable")
        if not isinstance(tr, Transform):
            raise TypeError(f"transformed_conditional_logp: the transform of {rv} must be a Transform, "
                            f"got {type(tr).__name__}")
    values = {rv: as_tensor_variable(v) for rv, v in rvs_to_values.items()}
    constrained = {rv: rvs_to_transforms[rv].backward(v) if rv in rvs_to_transforms else v
                   for rv, v in values.items()}
    # Bounds of an interval may be other random variables: read them at their (constrained) values.
    for _ in range(len(constrained)):
        keys = [rv for rv, c in constrained.items() if any(_reaches(c, k) for k in constrained if k is not rv)]
        if not keys:
            break
        for rv in keys:
            others = {k: c for k, c in constrained.items() if k is not rv}
            constrained[rv] = clone_replace([constrained[rv]], replace=others, rebuild_strict=False)[0]
    terms = conditional_logp(dict(constrained))
    out = []
    for rv, y in values.items():
        term = terms[constrained[rv]]
        tr = rvs_to_transforms.get(rv)
        if tr is not None and jacobian:
            jac = tr.log_jac_det(y)
            others = {k: c for k, c in constrained.items() if k is not rv}
            jac = clone_replace([jac], replace=others, rebuild_strict=False)[0]
            term = term + jac
        if rv.name:
            term.name = f"{rv.name}_logprob"
        out.append(term)
    return out

"""Seed 002 end to end: logistic regression trained by gradient descent."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt


def _model():
    from opgraph.kernel_core.gradient import grad
    from opgraph.kernel_core.rewriting.api import rewrite_graph

    X_pt = pt.tensor("X", shape=(None, None))
    y_pt = pt.tensor("y", shape=(None,))
    alpha_pt = pt.tensor("alpha", shape=())
    beta_pt = pt.tensor("beta", shape=(None,))

    p = pt.sigmoid(alpha_pt + X_pt @ beta_pt)
    p.name = "p_class_0"
    loss = -(y_pt * pt.log(p) + (1 - y_pt) * pt.log(1 - p)).mean()
    loss.name = "cross_entropy"

    eta_pt = pt.tensor("learning_rate", shape=())
    d_alpha, d_beta = grad(rewrite_graph(loss, include=("canonicalize", "stabilize")), wrt=[alpha_pt, beta_pt])
    alpha_prime = alpha_pt - eta_pt * d_alpha
    beta_prime = beta_pt - eta_pt * d_beta
    threshold = pt.tensor("threshold", shape=())
    y_hat = (p > threshold).astype(int)
    return dict(X=X_pt, y=y_pt, alpha=alpha_pt, beta=beta_pt, eta=eta_pt, threshold=threshold,
                p=p, loss=loss, alpha_prime=alpha_prime, beta_prime=beta_prime, y_hat=y_hat)


def _data():
    # A make_classification-like problem with NumPy only.
    seed = sum(map(ord, "I <3 Pytensor"))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(100, 5))
    true_beta = rng.normal(0, 2, size=5)
    y = (rng.uniform(size=100) < 1 / (1 + np.exp(-(X @ true_beta + 0.3)))).astype("float64")
    return rng, X, y


def _distinct_nodes(fgraph):
    keys = [(n.op, tuple(n.inputs)) for n in fgraph.apply_nodes]
    return len(keys) == len(set(keys))


@pytest.mark.parametrize("mode", ["PYTHON", "FAST_RUN"])
def test_logistic_regression_trains_and_predicts(mode):
    m = _model()
    training_fn = opgraph.function([m["X"], m["y"], m["eta"], m["alpha"], m["beta"]],
                                   [m["loss"], m["alpha_prime"], m["beta_prime"]], mode=mode)
    predict_fn = opgraph.function([m["X"], m["alpha"], m["beta"], m["threshold"]], [m["p"], m["y_hat"]],
                                  mode=mode)

    # Shared subcomputations are computed once; predict_fn computes nothing of the loss.
    assert _distinct_nodes(training_fn.maker.fgraph)
    assert _distinct_nodes(predict_fn.maker.fgraph)
    predict_ops = " ".join(str(n.op) for n in predict_fn.maker.fgraph.apply_nodes)
    for loss_only in ("Log", "Sum", "Softplus", "True_div", "Neg"):
        assert loss_only not in predict_ops
    assert "'cross_entropy'" in training_fn.dprint(file="str").splitlines()[0]

    rng, X, y = _data()
    beta = rng.normal(0, 1, size=(5,))
    alpha = rng.normal(0, 1)
    n_steps = 1000
    losses = np.empty(n_steps)
    for t in range(n_steps):
        loss_val, alpha, beta = training_fn(X, y, 1e-1, alpha, beta)
        losses[t] = loss_val
    assert np.isfinite(losses).all()
    assert losses[-1] < 0.5 * losses[0]
    assert (np.diff(losses) <= 1e-12).all()  # plain gradient descent at this rate decreases monotonically

    # Agrees with the loss computed in NumPy at the final parameters.
    p_np = 1 / (1 + np.exp(-(alpha + X @ beta)))
    final_loss, a_same, b_same = training_fn(X, y, 0.0, alpha, beta)
    assert a_same == alpha and np.array_equal(b_same, beta)
    np.testing.assert_allclose(final_loss, -np.mean(y * np.log(p_np) + (1 - y) * np.log(1 - p_np)), rtol=1e-6)

    p_val, labels = predict_fn(X, alpha, beta, 0.5)
    np.testing.assert_allclose(p_val, 1 / (1 + np.exp(-(alpha + X @ beta))), rtol=1e-10)
    assert labels.dtype.kind == "i" and set(np.unique(labels)) <= {0, 1}
    assert (labels == y).mean() > 0.75

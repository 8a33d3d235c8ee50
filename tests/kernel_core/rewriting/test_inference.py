"""Training -> inference rewrites: an MLP with dropout and batch norm, one training
step (PYTHON) and its to_inference prediction function (the module's one NUMBA
compilation), compared with the hand-written inference network."""

import numpy as np

import opgraph
import opgraph.tensor as pt
from opgraph.graph import rewrite_graph
from opgraph.kernel_core.graph.traversal import ancestors
from opgraph.kernel_core.tensor.nnet import BatchNorm, Dropout
from opgraph.kernel_core.tensor.random.op import RandomVariable

nn = pt.nnet
RNG = np.random.default_rng(7)


def _ops(outs):
    return {type(v.owner.op) for v in ancestors(outs) if v.owner is not None}


def _mlp(x, params, training, srng=None):
    w1, b1, g, beta, rm, rv, w2, b2 = params
    h = x @ w1 + b1
    bn = nn.batch_norm(h, g, beta, rm, rv, training=training, return_updates=training)
    h, bn_updates = bn if training else (bn, {})
    h = nn.dropout(nn.relu(h), 0.4, rng=srng, training=training)
    return pt.special.softmax(h @ w2 + b2, axis=-1), bn_updates


def test_mlp_training_step_and_inference_function():
    x, y = pt.dmatrix("x"), pt.lvector("y")
    values = [RNG.normal(size=(3, 8)) * 0.5, np.zeros(8), np.ones(8), np.zeros(8), np.zeros(8), np.ones(8),
              RNG.normal(size=(8, 2)) * 0.5, np.zeros(2)]
    names = ["w1", "b1", "g", "beta", "rm", "rv", "w2", "b2"]
    params = [opgraph.shared(v.copy(), name=n) for v, n in zip(values, names)]
    srng = pt.random.RandomStream(seed=11)
    probs, bn_updates = _mlp(x, params, training=True, srng=srng)
    loss = -pt.mean(pt.log(probs[pt.arange(y.shape[0]), y]))
    trainable = [params[i] for i in (0, 1, 2, 3, 6, 7)]
    grads = opgraph.grad(loss, trainable)
    updates = {p: p - 0.1 * gp for p, gp in zip(trainable, grads)}
    updates.update(bn_updates)
    updates.update(srng.updates())
    step = opgraph.function([x, y], loss, updates=updates, mode="PYTHON")
    xv = RNG.normal(size=(32, 3))
    yv = (xv[:, 0] > 0).astype(np.int64)
    losses = [float(step(xv, yv)) for _ in range(30)]
    assert losses[-1] < losses[0]
    assert not np.allclose(params[4].get_value(), 0)        # running statistics were updated

    inference = nn.to_inference(probs)
    assert not _ops([inference]) & {Dropout, BatchNorm, RandomVariable}
    assert not any(isinstance(v.owner.op, RandomVariable) for v in ancestors([inference]) if v.owner)
    assert Dropout in _ops([probs])                           # the training graph is not changed
    predict = opgraph.function([x], inference, mode="NUMBA")
    rng_inputs = [i for i in predict.maker.fgraph.inputs if "Generator" in type(i.type).__name__]
    assert rng_inputs == []                                   # no generator (nor its update) is left
    first = predict(xv)
    np.testing.assert_array_equal(predict(xv), first)         # deterministic

    # the hand-written inference network, on the trained values
    w1, b1, g, beta, rm, rv, w2, b2 = (p.get_value() for p in params)
    h = np.maximum((xv @ w1 + b1 - rm) / np.sqrt(rv + 1e-5) * g + beta, 0)
    z = h @ w2 + b2
    want = np.exp(z - z.max(-1, keepdims=True))
    np.testing.assert_allclose(first, want / want.sum(-1, keepdims=True), rtol=1e-10)


def test_rewritten_graph_equals_the_training_false_graph():
    x = pt.dmatrix("x")
    params = [pt.dmatrix("w1"), pt.dvector("b1"), pt.dvector("g"), pt.dvector("beta"), pt.dvector("rm"),
              pt.dvector("rv"), pt.dmatrix("w2"), pt.dvector("b2")]
    trained, _ = _mlp(x, params, training=True)
    written, _ = _mlp(x, params, training=False)
    rewritten = rewrite_graph(trained, include=("inference",))
    vals = {x: RNG.normal(size=(4, 3)), params[0]: RNG.normal(size=(3, 8)), params[1]: RNG.normal(size=8),
            params[2]: RNG.uniform(0.5, 2, 8), params[3]: RNG.normal(size=8), params[4]: RNG.normal(size=8),
            params[5]: RNG.uniform(0.5, 2, 8), params[6]: RNG.normal(size=(8, 2)), params[7]: RNG.normal(size=2)}
    np.testing.assert_allclose(rewritten.eval(vals), written.eval(vals), rtol=1e-12)
    assert {Dropout, BatchNorm} & _ops([trained]) == {Dropout, BatchNorm}
    assert not {Dropout, BatchNorm} & _ops([rewritten])

"""Mode("JAX", shardings=..., mesh=...): data-parallel graphs over 4 simulated CPU devices.

JAX fixes its device count when it starts, so the multi-device cases run in a
subprocess with ``XLA_FLAGS=--xla_force_host_platform_device_count=4``: the batched
logp and the minibatch gradient must equal the one-device results, and the
arrays must carry the asked shardings (``out.sharding`` with ``jax_arrays=True``).
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("jax")

import opgraph  # noqa: E402
import opgraph.tensor as pt  # noqa: E402
from opgraph.compile.mode import Mode  # noqa: E402

SCRIPT = textwrap.dedent("""
    import jax
    import numpy as np
    from jax.sharding import PartitionSpec as P

    import opgraph
    import opgraph.tensor as pt
    from opgraph.compile.mode import Mode
    from opgraph.gradient import grad
    from opgraph.logprob import logp

    assert jax.device_count() == 4, jax.devices()
    rng = np.random.default_rng(0)
    N, D = 4000, 8

    # A batched logp: the data split over the devices, the parameters replicated.
    data, mu, sigma = pt.vector("data"), pt.scalar("mu"), pt.scalar("sigma")
    lp = logp(pt.random.normal(mu, sigma), data)
    elementwise = lp * 1.0
    total = lp.sum()
    dv = rng.standard_normal(N)
    one = opgraph.function([data, mu, sigma], [total, elementwise], mode="JAX")
    four = opgraph.function([data, mu, sigma], [total, elementwise],
                            mode=Mode("JAX", shardings={data: ("data",), total: ()}, jax_arrays=True))
    t1, e1 = one(dv, 0.3, 1.5)
    t4, e4 = four(dv, 0.3, 1.5)
    np.testing.assert_allclose(np.asarray(t4), t1, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(e4), e1, rtol=1e-12)
    assert e4.sharding.spec == P("data"), e4.sharding
    assert t4.sharding.is_fully_replicated
    try:
        four(dv, 0.3, -1.0)        # the logp's check fails on the devices: raised after the call
    except ValueError as exc:
        assert "sigma > 0" in str(exc)
    else:
        raise AssertionError("no error for sigma < 0")
    assert len(e4.sharding.device_set) == 4

    # A minibatch gradient of the logistic loss: rows over "data", the weights replicated,
    # the gradient asked replicated (an output sharding).
    X, y, w = pt.matrix("X"), pt.vector("y"), pt.vector("w")
    p = pt.sigmoid(X @ w)
    loss = -(y * pt.log(p) + (1 - y) * pt.log(1 - p)).mean()
    g = grad(loss, w)
    Xv, yv, wv = rng.standard_normal((N, D)), (rng.random(N) < 0.5) * 1.0, rng.standard_normal(D) * 0.1
    mesh = {"data": 4}
    one = opgraph.function([X, y, w], [loss, g, p], mode="JAX")
    four = opgraph.function([X, y, w], [loss, g, p], mode=Mode(
        "JAX", shardings={X: ("data", None), y: ("data",), g: (None,)}, mesh=mesh, jax_arrays=True))
    l1, g1, p1 = one(Xv, yv, wv)
    l4, g4, p4 = four(Xv, yv, wv)
    np.testing.assert_allclose(np.asarray(l4), l1, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(g4), g1, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(p4), p1, rtol=1e-12)
    assert g4.sharding.is_fully_replicated and len(g4.sharding.device_set) == 4
    assert p4.sharding.spec == P("data"), p4.sharding
    # The inputs were placed as asked (the sharded call's own record).
    thunk = four.maker.thunk
    sharded = thunk.jitted if hasattr(thunk.jitted, "in_shardings") else thunk.jitted.jitted
    specs = [None if s is None else tuple(s.spec) for s in sharded.in_shardings]
    assert specs == [("data", None), ("data",), ()], specs

    # A device-resident training loop: jax_arrays=True keeps the weights on the devices.
    wj = jax.device_put(wv)
    for _ in range(3):
        l, gj, _ = four(Xv, yv, wj)
        wj = wj - 0.5 * gj
    assert isinstance(wj, jax.Array)
    print("SHARDING-OK")
""")


def test_four_devices_give_the_one_device_results_with_the_asked_shardings():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "SHARDING-OK" in proc.stdout


def test_bad_sharding_options_are_clear_errors():
    x = pt.vector("x")
    y = pt.vector("y")
    with pytest.raises(ValueError, match="not an axis of the mesh"):
        opgraph.function([x], x * 2, mode=Mode("JAX", shardings={x: ("model",)}))
    with pytest.raises(ValueError, match="neither an input nor an output"):
        opgraph.function([x], x * 2, mode=Mode("JAX", shardings={y: ("data",)}))
    with pytest.raises(ValueError, match="needs 8 devices"):
        opgraph.function([x], x * 2, mode=Mode("JAX", shardings={x: ("data",)}, mesh={"data": 8}))
    # One device: the default mesh puts it on axis "data" and the results are the same.
    f = opgraph.function([x], x * 2, mode=Mode("JAX", shardings={x: ("data",)}))
    np.testing.assert_allclose(f(np.arange(3.0)), [0.0, 2.0, 4.0])

"""JAX multi-device: the W4 logistic step at 100,000x50 on 4 forced host devices vs 1.

JAX fixes its device count when it starts, so the measurement runs in a child process
with ``XLA_FLAGS=--xla_force_host_platform_device_count=4``; the same process times
one device (the plain mode JAX function) and four (``Mode("JAX", shardings={X: ("data",
None), y: ("data",)}, mesh={"data": 4})``), for opgraph and for ``jax.jit`` with the
same ``NamedSharding``s.  Inputs are placed on the devices once and results stay there
(``jax_arrays=True``, ``block_until_ready``): what a training loop does.  The simulated
devices share this machine's CPU cores (no GPU here); on GPUs the code path is the same.
"""

import json
import os
import subprocess
import sys

from common import available, report

N, K = 100_000, 50
DEVICES = 4


def child():
    import numpy as np

    from common import check_same, jax_module, timeit
    from w4_logistic_step import build, jax_step, numpy_step

    jax, jnp = jax_module()
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

    import opgraph
    import opgraph.tensor as opt
    from opgraph.compile.mode import Mode
    from opgraph.gradient import grad as ograd

    assert jax.device_count() == DEVICES, jax.devices()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, K))
    y = (rng.random(N) > 0.5).astype(float)
    args = (X, y, np.array(0.1), rng.standard_normal(K), np.array(0.01))
    expected = numpy_step(*args)
    mesh = Mesh(np.array(jax.devices()), ("data",))
    specs = (P("data", None), P("data"), P(), P(), P())
    one_dev = [jax.device_put(a, jax.devices()[0]) for a in args]
    four_dev = [jax.device_put(a, NamedSharding(mesh, s)) for a, s in zip(args, specs)]

    rows = []
    jf = jax_step(jax, jnp)
    check_same(jf(*one_dev), expected)
    rows.append(("jax 1 device", timeit(lambda: jax.block_until_ready(jf(*one_dev)))))
    check_same(jf(*four_dev), expected)
    rows.append((f"jax {DEVICES} devices", timeit(lambda: jax.block_until_ready(jf(*four_dev)))))

    inputs, outputs = build(opt, ograd)
    f1 = opgraph.function(inputs, outputs, mode=Mode("JAX", jax_arrays=True), trust_input=True)
    check_same(f1(*one_dev), expected)
    rows.append(("opgraph JAX 1 device", timeit(lambda: jax.block_until_ready(f1(*one_dev)))))
    inputs, outputs = build(opt, ograd)
    Xv, yv = inputs[:2]
    f4 = opgraph.function(inputs, outputs, mode=Mode("JAX", jax_arrays=True, mesh={"data": DEVICES},
                                                     shardings={Xv: ("data", None), yv: ("data",)}),
                          trust_input=True)
    out = f4(*four_dev)
    check_same(out, expected)
    rows.append((f"opgraph JAX {DEVICES} devices", timeit(lambda: jax.block_until_ready(f4(*four_dev)))))
    print("RECORDS" + json.dumps(rows))


def main():
    if not available("jax"):
        return []
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={DEVICES}", JAX_PLATFORMS="cpu")
    here = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.run([sys.executable, os.path.join(here, "jax_multidevice.py"), "--child"], env=env,
                          capture_output=True, text=True, cwd=here)
    if proc.returncode != 0:
        raise RuntimeError(f"jax_multidevice child failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RECORDS"))
    rows = [tuple(r) for r in json.loads(line[len("RECORDS"):])]
    return report(f"W4 logistic step {N}x{K}, {DEVICES} host devices", rows, baseline="jax 1 device")


if __name__ == "__main__":
    if "--child" in sys.argv:
        child()
    else:
        main()

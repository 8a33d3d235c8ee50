"""Random draws inside the step: each step draws anew, the generator's update comes back in
``updates`` (so ``function(..., updates=updates)`` advances it), and both modes follow
NumPy's stream."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad
from opgraph.kernel_core.gradient import NullTypeGradError


def _walk(rng):
    x = pt.vector("x")
    out, updates = opgraph.scan(lambda v: v + pt.random.normal(0, 1, rng=rng), sequences=x)
    return x, out, updates


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_each_step_draws_and_the_generator_advances(mode):
    rng = opgraph.shared(np.random.default_rng(42), name="rng")
    x, out, updates = _walk(rng)
    assert list(updates) == [rng]
    f = opgraph.function([x], out, updates=updates, mode=mode)
    f.wait_compiled()
    first, second = f(np.zeros(3)), f(np.zeros(3))
    ref = np.random.default_rng(42)
    np.testing.assert_allclose(first, [ref.normal(0, 1) for _ in range(3)])
    np.testing.assert_allclose(second, [ref.normal(0, 1) for _ in range(3)])


def test_default_generators_are_updated_too():
    x = pt.vector("x")
    out, updates = opgraph.scan(lambda v: v + pt.random.uniform(0, 1), sequences=x)
    assert len(updates) == 1
    f = opgraph.function([x], out, updates=updates, mode="PYTHON")
    a, b = f(np.zeros(4)), f(np.zeros(4))
    assert len(set(a.tolist())) == 4 and not np.allclose(a, b)


def test_gradient_through_random_steps_says_not_implemented():
    rng = opgraph.shared(np.random.default_rng(0))
    x, out, _ = _walk(rng)
    with pytest.raises(NullTypeGradError, match="random draws"):
        grad(out.sum(), x)

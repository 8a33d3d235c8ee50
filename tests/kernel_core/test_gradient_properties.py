"""Property-based gradient tests (issue 21): random small graphs whose symbolic
gradients are compared with finite differences (``verify_grad``), over
broadcast shapes and repeated indices, the two classes of wrong gradients the
fuzzing found.  Examples per run: the conftest profile's (25 per test)."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad, verify_grad

_UNARY = {
    "tanh": pt.tanh, "sin": pt.sin, "exp": lambda a: pt.exp(a * 0.5), "softplus": pt.softplus,
    "sqr": pt.sqr, "sigmoid": pt.sigmoid, "neg": lambda a: -a,
}
_BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (1.5 + pt.sqr(b)), "maximum": pt.maximum, "minimum": pt.minimum,
    "pow": lambda a, b: (1.5 + pt.sqr(a)) ** pt.tanh(b),
}


@st.composite
def broadcast_graphs(draw):
    """2-3 inputs of rank 1-2 whose dims are each the full length or 1, combined by a random tree."""
    ndim = draw(st.integers(1, 2))
    full = tuple(draw(st.integers(2, 3)) for _ in range(ndim))
    n_in = draw(st.integers(2, 3))
    shapes = [tuple(draw(st.sampled_from([n, 1])) for n in full) for _ in range(n_in)]
    steps = draw(st.lists(st.tuples(st.sampled_from(sorted(_BINARY)), st.sampled_from(sorted(_UNARY)),
                                    st.integers(0, n_in - 1)), min_size=n_in - 1, max_size=n_in + 1))
    seed = draw(st.integers(0, 2 ** 16))
    return shapes, steps, seed


def _build(steps, inputs):
    out = inputs[0]
    for k, (b, u, j) in enumerate(steps):
        other = inputs[(k + 1) % len(inputs)] if k < len(inputs) - 1 else inputs[j]
        out = _UNARY[u](_BINARY[b](out, other))
    return out


@given(broadcast_graphs())
def test_property_gradients_through_broadcasting_match_finite_differences(case):
    shapes, steps, seed = case
    rng = np.random.default_rng(seed)
    # Distinct values: ties of maximum/minimum are not differentiable.
    points = [rng.permutation(np.linspace(-1.3, 1.2, int(np.prod(s)))).reshape(s) + 0.01 * i
              for i, s in enumerate(shapes)]
    # Length-1 dims declared static (what verify_grad does): they broadcast, their gradients are summed.
    verify_grad(lambda *xs: _build(steps, xs), points, rng=rng)


@given(broadcast_graphs())
def test_property_runtime_broadcast_never_gives_a_wrong_gradient(case):
    shapes, steps, seed = case
    rng = np.random.default_rng(seed)
    # The same graphs with every dim of unknown length: a length-1 value next to a longer
    # one is a run-time broadcast, which must raise, never return a gradient of the
    # wrong shape (issue 21).
    xs = [pt.tensor(f"x{i}", shape=(None,) * len(s)) for i, s in enumerate(shapes)]
    cost = _build(steps, xs).sum()
    f = opgraph.function(xs, [cost] + grad(cost, xs), mode="PYTHON")
    values = [rng.uniform(-1, 1, s) for s in shapes]
    broadcast = len({s for s in shapes}) > 1
    if broadcast:
        with pytest.raises(ValueError, match="run-time length 1|do not broadcast"):
            f(*values)
    else:
        _, *grads = f(*values)
        assert [g.shape for g in grads] == shapes


@st.composite
def indexed_sets(draw):
    n = draw(st.integers(2, 4))
    k = draw(st.integers(1, 5))
    idx = draw(st.lists(st.integers(-n, n - 1), min_size=k, max_size=k))
    kind = draw(st.sampled_from(["set", "inc", "set_scalar", "set_rows"]))
    seed = draw(st.integers(0, 2 ** 16))
    return n, np.array(idx), kind, seed


@given(indexed_sets())
def test_property_set_and_inc_subtensor_with_repeated_indices(case):
    n, idx, kind, seed = case
    rng = np.random.default_rng(seed)

    if kind == "set_rows":
        def fn(x, v):
            return pt.tanh(pt.set_subtensor(x[idx], v * 2.0)) * pt.arange(1.0, 4.0)

        points = [rng.uniform(-1, 1, (n, 3)), rng.uniform(-1, 1, (len(idx), 3))]
    else:
        def fn(x, v):
            value = v.sum() if kind == "set_scalar" else v
            setter = pt.inc_subtensor if kind == "inc" else pt.set_subtensor
            return pt.sin(setter(x[idx], value * 1.5)) * pt.arange(1.0, n + 1.0)

        points = [rng.uniform(-1, 1, n), rng.uniform(-1, 1, len(idx))]
    verify_grad(fn, points, rng=rng)

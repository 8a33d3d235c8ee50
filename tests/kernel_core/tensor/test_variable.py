"""TensorVariable operators and methods behave like their NumPy counterparts."""

import numpy as np
import pytest

import opgraph.tensor as pt

rng = np.random.default_rng(42)
A = rng.normal(size=(3, 4))
V = rng.normal(size=4)


@pytest.fixture
def m():
    return pt.matrix("m")


@pytest.mark.parametrize("build, expected", [
    (lambda m: m + 1, A + 1), (lambda m: 1 - m, 1 - A), (lambda m: m * m, A * A),
    (lambda m: m / 2, A / 2), (lambda m: 2 / (m + 5), 2 / (A + 5)), (lambda m: m // 1, A // 1),
    (lambda m: m % 1.5, A % 1.5), (lambda m: abs(m) ** 0.5, np.abs(A) ** 0.5), (lambda m: -m, -A),
    (lambda m: abs(m), np.abs(A)), (lambda m: m < 0, A < 0), (lambda m: m >= 0, A >= 0),
    (lambda m: m.sum(), A.sum()), (lambda m: m.sum(axis=0), A.sum(axis=0)),
    (lambda m: m.mean(axis=-1, keepdims=True), A.mean(axis=-1, keepdims=True)),
    (lambda m: m.prod(axis=1), A.prod(axis=1)), (lambda m: m.max(), A.max()),
    (lambda m: m.min(axis=0), A.min(axis=0)), (lambda m: m.argmax(axis=1), A.argmax(axis=1)),
    (lambda m: m.std(), A.std()), (lambda m: m.var(axis=0), A.var(axis=0)),
    (lambda m: m.T, A.T), (lambda m: m.dot(V), A.dot(V)), (lambda m: m @ m.T, A @ A.T),
    (lambda m: m.reshape((4, 3)), A.reshape((4, 3))), (lambda m: m.reshape((-1,)), A.reshape(-1)),
    (lambda m: m.flatten(), A.flatten()), (lambda m: m[None].squeeze(), A),
    (lambda m: m.astype("int32"), A.astype("int32")), (lambda m: m.dimshuffle(1, "x", 0), A.T[:, None, :]),
    (lambda m: m.shape, np.array(A.shape)), (lambda m: m[1:, ::2], A[1:, ::2]),
    (lambda m: m[-1], A[-1]), (lambda m: m[..., 0], A[..., 0]), (lambda m: m[[0, 2]], A[[0, 2]]),
    (lambda m: m[m > 0], A[A > 0]),
])
def test_methods_match_numpy(m, build, expected):
    out = build(m)
    value = out.eval({m: A})
    np.testing.assert_allclose(value, expected, rtol=1e-10)
    assert np.asarray(value).dtype == np.asarray(expected).dtype or np.asarray(expected).dtype.kind == np.asarray(value).dtype.kind


def test_properties(m):
    assert m.ndim == 2 and m.dtype == "float64" and m.type.shape == (None, None)
    assert m.T.ndim == 2
    assert pt.vector("v", shape=(3,)).type.broadcastable == (False,)


def test_iteration_needs_static_length():
    with pytest.raises(TypeError, match="not static"):
        list(pt.vector("v"))
    a, b = pt.vector("v", shape=(2,))
    assert str(a.owner.op) == "Subtensor{i}"


def test_dprint_method_returns_text_with_file_str():
    x = pt.vector("x")
    assert x.sum().dprint(file="str") == "Sum{axes=None} [id A]\n └─ x [id B]\n"

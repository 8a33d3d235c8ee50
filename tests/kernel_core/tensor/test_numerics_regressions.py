"""Regressions: everyday numerics that differed from NumPy / PyTensor (issues 12, 21, 22)."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph import config


@pytest.fixture
def float32_config():
    old = config.floatX
    config.floatX = "float32"
    try:
        yield
    finally:
        config.floatX = old


# -- logical_not is logical, invert is bitwise (issue 12) ---------------------------------
@pytest.mark.parametrize("mode", ["NUMBA", "PYTHON"])
def test_logical_not_is_logical_and_invert_stays_bitwise(mode):
    i = pt.lvector("i")
    b = pt.vector("b", dtype="bool")
    f = pt.vector("f")
    fn = opgraph.function([i, b, f], [pt.logical_not(i), pt.invert(i), ~i, pt.logical_not(b), ~b,
                                      pt.logical_not(f)], mode=mode)
    iv, bv, fv = np.array([0, 1, 2, -1]), np.array([True, False]), np.array([0.0, -0.0, 2.5, np.nan])
    got = fn(iv, bv, fv)
    want = [np.logical_not(iv), np.invert(iv), ~iv, np.logical_not(bv), ~bv, np.logical_not(fv)]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)
    assert pt.logical_not(i).dtype == "bool"


# -- floatX is resolved in one place, at call time (issue 12) -----------------------------
def test_cast_to_floatX_follows_config(float32_config):
    i = pt.ivector("i")
    assert pt.cast(i, "floatX").dtype == "float32"
    assert pt.vector("v").dtype == "float32"
    assert pt.zeros((2,)).dtype == pt.ones(3).dtype == pt.eye(2).dtype == "float32"
    assert pt.TensorType("floatX", shape=(None,)).dtype == "float32"
    assert pt.constant(1, dtype="floatX").dtype == "float32"
    assert pt.as_tensor_variable(i, dtype="floatX").dtype == "float32"
    assert pt.as_tensor_variable([1.5]).dtype == "float32"
    f = opgraph.function([i], pt.cast(i, "floatX"), mode="PYTHON")
    assert f(np.array([1, 2], dtype="int32")).dtype == np.float32


def test_cast_to_floatX_default_is_float64():
    assert config.floatX == "float64"
    assert pt.cast(pt.ivector("i"), "floatX").dtype == "float64"


# -- the caller's arrays keep their flags and contents (issue 12) ---------------------------
def _snapshot(*arrays):
    return [(a.copy(), a.flags.writeable) for a in arrays]


def _assert_unchanged(arrays, snapshot):
    for a, (before, writeable) in zip(arrays, snapshot):
        assert a.flags.writeable == writeable
        np.testing.assert_array_equal(a, before)


def test_constants_never_freeze_or_alias_the_callers_array():
    A, C = np.arange(4.0), np.ones((2, 2))
    V = np.arange(6.0)[::2]                       # a view of another user array
    frozen = np.arange(3.0)
    frozen.setflags(write=False)
    snap = _snapshot(A, C, V, frozen)
    x = pt.vector("x")
    y = x + A
    c = pt.constant(C)
    k = pt.as_tensor_variable(V)
    z = pt.constant(frozen)
    _assert_unchanged([A, C, V, frozen], snap)
    # The constants hold read-only data of their own: writing the user's array
    # later does not change the graph.
    assert not c.data.flags.writeable and not np.shares_memory(c.data, C)
    A[0] = 100.0
    np.testing.assert_array_equal(y.eval({x: np.zeros(4)}), [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(k.eval(), [0.0, 2.0, 4.0])
    # A read-only array owning its memory is shared, not copied (clones are cheap).
    assert np.shares_memory(z.data, frozen)
    assert c.clone().data is c.data


@pytest.mark.parametrize("mode", ["NUMBA", "PYTHON"])
def test_shared_and_function_inputs_keep_flags_and_contents(mode):
    A, B, X = np.arange(3.0), np.arange(3.0) + 10, np.linspace(0.0, 1.0, 3)
    snap = _snapshot(A, B, X)
    s = opgraph.shared(A)                         # borrow=False: a copy of A
    x = pt.vector("x")
    f = opgraph.function([x], [pt.exp(x) * 2 + s, x + B], updates={s: s + x}, mode=mode)
    for _ in range(2):
        f(X)
    _assert_unchanged([A, B, X], snap)
    np.testing.assert_allclose(s.get_value(), A + 2 * X)
    # get_value() hands out a copy: writing it does not change the shared value.
    v = s.get_value()
    v[...] = -1.0
    np.testing.assert_allclose(s.get_value(), A + 2 * X)
    # borrow=True aliases by design, but never changes the array's flags.
    Bb = np.arange(3.0)
    opgraph.shared(Bb, borrow=True)
    assert Bb.flags.writeable


# -- var / std / mean as PyTensor's (issue 22) -----------------------------------------------
@pytest.mark.parametrize("mode", ["NUMBA", "PYTHON"])
def test_var_corrected_is_the_two_pass_algorithm_not_ddof_1(mode):
    t = pt.tensor3("t")
    v = np.arange(6.0).reshape(1, 2, 3)
    outs = [pt.var(t, corrected=True), t.var(corrected=True), pt.std(t, corrected=True),
            pt.var(t, ddof=1), pt.std(t, ddof=1), pt.var(t, ddof=1, corrected=True),
            pt.var(t, axis=(1, 2), corrected=True, keepdims=True), pt.var(t, axis=2, ddof=2),
            pt.std(t, axis=-1, ddof=1, corrected=True)]
    want = [np.var(v), np.var(v), np.std(v), np.var(v, ddof=1), np.std(v, ddof=1), np.var(v, ddof=1),
            np.var(v, axis=(1, 2), keepdims=True), np.var(v, axis=2, ddof=2), np.std(v, axis=-1, ddof=1)]
    got = opgraph.function([t], outs, mode=mode)(v)
    assert np.isclose(got[0], 2.9166666666666665)
    for g, w in zip(got, want):
        assert np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=1e-14)


def test_var_corrected_removes_the_rounding_left_in_the_mean():
    x = pt.vector("x")
    data = 1e9 + np.random.default_rng(3).standard_normal(10_000)
    exact = float(np.var(data.astype(np.longdouble)))
    got = opgraph.function([x], pt.var(x, corrected=True), mode="PYTHON")(data)
    np.testing.assert_allclose(got, exact, rtol=1e-13)


def test_var_rejects_a_ddof_that_is_not_a_number():
    with pytest.raises(TypeError, match="ddof"):
        pt.var(pt.vector("x"), ddof="1")
    with pytest.raises(TypeError, match="ddof"):
        pt.std(pt.vector("x"), ddof=None)


def test_mean_dtype_and_acc_dtype_as_pytensor():
    f, i = pt.fvector("f"), pt.ivector("i")
    assert pt.mean(i).dtype == "float64"
    assert pt.mean(i, dtype="float32").dtype == "float32"
    assert pt.mean(f).dtype == "float32" and pt.mean(f, dtype="float64").dtype == "float64"
    assert f.mean(dtype="float64").dtype == "float64"
    # acc_dtype: accumulate wider, return the sum's usual dtype.
    m = pt.mean(f, acc_dtype="float64")
    assert m.dtype == "float32"
    data = np.full(10**6, 0.1, dtype="float32")
    assert opgraph.function([f], m, mode="PYTHON")(data) == np.float32(np.mean(data, dtype="float64"))
    with pytest.raises(ValueError, match="acc_dtype"):
        pt.mean(pt.vector("x"), acc_dtype="float32")


def test_as_tensor_variable_of_empty_sequences_is_float64():
    assert pt.as_tensor_variable([]).type == pt.TensorType("float64", shape=(0,))
    assert pt.as_tensor_variable(()).type == pt.TensorType("float64", shape=(0,))
    assert pt.as_tensor_variable([[]]).type == pt.TensorType("float64", shape=(1, 0))
    assert pt.as_tensor_variable([True]).dtype == "bool"


# -- reshape((0, -1)) raises as NumPy does (issue 21) ----------------------------------------
@pytest.mark.parametrize("mode", ["NUMBA", "PYTHON"])
def test_reshape_minus_one_next_to_zero_raises_like_numpy(mode):
    m = pt.matrix("m")
    n = pt.lscalar("n")
    f = opgraph.function([m, n], m.reshape((n, -1)), mode=mode)
    assert f(np.zeros((2, 3)), 3).shape == (3, 2)
    assert f(np.zeros((0, 3)), 2).shape == (2, 0)
    for value in (np.zeros((0, 3)), np.zeros((2, 3))):
        with pytest.raises(ValueError):
            np.reshape(value, (0, -1))
        with pytest.raises(ValueError, match="reshape"):
            f(value, 0)
    g = opgraph.function([m], m.reshape((-1, 2, 2)), mode=mode)
    with pytest.raises(ValueError):
        g(np.zeros((3, 3)))


def test_reshape_minus_one_next_to_zero_raises_in_static_shape_inference():
    with pytest.raises(ValueError, match="undetermined"):
        pt.matrix("m").reshape((0, -1))
    with pytest.raises(ValueError, match="undetermined"):
        pt.tensor("t", shape=(0, 3)).reshape((-1, 0))
    assert pt.tensor("t", shape=(0, 3)).reshape((-1, 3)).type.shape == (0, 3)
    assert pt.tensor("t", shape=(0, 3)).reshape((2, 0)).type.shape == (2, 0)

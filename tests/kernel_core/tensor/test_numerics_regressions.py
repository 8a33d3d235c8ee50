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

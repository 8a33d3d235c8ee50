"""Elementwise ops against NumPy over generated shapes and dtypes."""

import numpy as np
import pytest
import scipy.special as sps
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import opgraph.tensor as pt

FLOAT_UNARY = {
    "exp": np.exp, "exp2": np.exp2, "expm1": np.expm1, "log": np.log, "log2": np.log2,
    "log10": np.log10, "log1p": np.log1p, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos,
    "tan": np.tan, "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan,
    "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "arcsinh": np.arcsinh,
    "arccosh": np.arccosh, "arctanh": np.arctanh, "sigmoid": sps.expit,
    "softplus": lambda v: np.logaddexp(0, v), "erf": sps.erf, "erfc": sps.erfc,
    "erfcx": sps.erfcx, "erfinv": sps.erfinv, "gammaln": sps.gammaln, "psi": sps.psi,
    "gamma": sps.gamma, "floor": np.floor, "ceil": np.ceil, "round": np.round,
    "reciprocal": lambda v: 1 / v,
}
SAME_UNARY = {"neg": np.negative, "abs": np.abs, "sign": np.sign, "sqr": np.square}
BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "true_div": np.true_divide,
    "pow": np.power, "maximum": np.maximum, "minimum": np.minimum, "arctan2": np.arctan2,
    "lt": np.less, "gt": np.greater, "le": np.less_equal, "ge": np.greater_equal,
    "eq": np.equal, "neq": np.not_equal,
}

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
floats = st.floats(-3, 3, allow_nan=False, width=64)


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-6, atol=1e-9,
                               equal_nan=True)


@pytest.mark.parametrize("name", sorted(FLOAT_UNARY))
@given(data=hnp.arrays(np.float64, shapes, elements=floats))
def test_float_unary(name, data):
    x = pt.tensor("x", shape=(None,) * data.ndim)
    y = getattr(pt, name)(x)
    assert y.type.shape == (None,) * data.ndim and y.dtype == "float64"
    with np.errstate(all="ignore"):
        _close(y.eval({x: data}), FLOAT_UNARY[name](data))


@pytest.mark.parametrize("name", sorted(SAME_UNARY))
@pytest.mark.parametrize("dtype", ["float64", "int32", "int8"])
def test_same_dtype_unary(name, dtype):
    data = np.array([-3, -1, 0, 2, 5], dtype=dtype)
    x = pt.tensor("x", shape=(None,), dtype=dtype)
    y = getattr(pt, name)(x)
    assert y.dtype == np.result_type(SAME_UNARY[name](data)).name or name == "sqr"
    _close(y.eval({x: data}), SAME_UNARY[name](data))


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_broadcasting(name, data):
    sa, sb = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)).input_shapes
    a = data.draw(hnp.arrays(np.float64, sa, elements=st.floats(0.1, 3)))
    b = data.draw(hnp.arrays(np.float64, sb, elements=st.floats(0.1, 3)))
    x = pt.tensor("a", shape=tuple(1 if s == 1 else None for s in sa))
    y = pt.tensor("b", shape=tuple(1 if s == 1 else None for s in sb))
    out = getattr(pt, name)(x, y)
    expected = BINARY[name](a, b)
    assert out.ndim == expected.ndim
    _close(out.eval({x: a, y: b}), expected)


@pytest.mark.parametrize("da, db, expected", [
    ("int8", "float64", "float64"), ("int32", "float32", "float64"), ("int8", "int16", "int16"),
    ("float32", "float32", "float32"), ("bool", "int8", "int8"), ("uint8", "int8", "int16"),
])
def test_upcasting_follows_numpy(da, db, expected):
    a = pt.tensor("a", shape=(None,), dtype=da)
    b = pt.tensor("b", shape=(None,), dtype=db)
    assert (a + b).dtype == expected


def test_python_constants_dtype_rules():
    f = pt.fvector("f")
    assert (f + 1).dtype == "float32"      # 1 is int8
    assert (pt.ivector("i") + 1).dtype == "int32"
    assert (pt.bvector("b") * 2).dtype == "int8"
    assert (pt.ivector("i") / 2).dtype == "float64"


def test_integer_division_mod_and_logic():
    a = pt.tensor("a", shape=(None,), dtype="int64")
    b = pt.tensor("b", shape=(None,), dtype="int64")
    av, bv = np.array([7, -7, 3, 0]), np.array([2, 2, -2, 5])
    np.testing.assert_array_equal((a // b).eval({a: av, b: bv}), av // bv)
    np.testing.assert_array_equal((a % b).eval({a: av, b: bv}), av % bv)
    np.testing.assert_array_equal((a & b).eval({a: av, b: bv}), av & bv)
    np.testing.assert_array_equal((a | b).eval({a: av, b: bv}), av | bv)
    np.testing.assert_array_equal((a ^ b).eval({a: av, b: bv}), av ^ bv)
    np.testing.assert_array_equal((~a).eval({a: av}), ~av)
    m = pt.tensor("m", shape=(None,), dtype="bool")
    mv = np.array([True, False, True, False])
    np.testing.assert_array_equal((~m).eval({m: mv}), ~mv)
    with pytest.raises(TypeError, match="boolean or integer"):
        pt.and_(pt.vector("v"), a)


def test_switch_clip_isnan_cast_second_identity():
    x = pt.vector("x")
    v = np.array([-2.0, np.nan, 0.5, np.inf])
    np.testing.assert_array_equal(pt.switch(x > 0, x, 0).eval({x: v}), np.where(v > 0, v, 0))
    np.testing.assert_array_equal(pt.clip(x, -1, 1).eval({x: v}), np.clip(v, -1, 1))
    np.testing.assert_array_equal(pt.isnan(x).eval({x: v}), np.isnan(v))
    np.testing.assert_array_equal(pt.isinf(x).eval({x: v}), np.isinf(v))
    c = pt.cast(x, "int32")
    assert str(c.owner.op) == "Cast{int32}" and c.dtype == "int32"
    assert pt.cast(x, "float64") is x
    s = pt.second(pt.matrix("m"), x)
    assert s.ndim == 2
    np.testing.assert_array_equal(pt.identity(x).eval({x: v}), v)
    np.testing.assert_allclose(pt.log1mexp(x).eval({x: np.array([-1e-10, -1.0, -50.0])}),
                               [np.log(-np.expm1(-1e-10)), np.log(-np.expm1(-1.0)), np.log1p(-np.exp(-50.0))],
                               rtol=1e-9)


def test_empty_arrays():
    x = pt.matrix("x")
    out = pt.exp(x) + 1
    assert out.eval({x: np.zeros((0, 3))}).shape == (0, 3)


def test_static_shapes_propagate():
    assert (pt.vector(shape=(3,)) + 1).type.shape == (3,)
    assert (pt.matrix(shape=(None, 3)) * pt.vector(shape=(None,))).type.shape == (None, 3)
    assert (pt.matrix(shape=(1, 3)) + pt.matrix(shape=(4, 1))).type.shape == (4, 3)


def test_incompatible_static_shapes_error_names_both():
    a = pt.vector("a", shape=(3,))
    b = pt.vector("b", shape=(4,))
    with pytest.raises(ValueError, match=r"a with shape \(3,\).*b with shape \(4,\)"):
        a + b


def test_wrong_number_of_inputs():
    with pytest.raises(TypeError, match="Log takes 1 input, got 2"):
        pt.log(pt.vector(), pt.vector())


def test_non_array_like_input():
    with pytest.raises(TypeError, match="Cannot convert"):
        pt.exp(object())
    with pytest.raises(TypeError, match="ragged"):
        pt.exp([[1.0], [2.0, 3.0]])


def test_unsupported_dtype():
    with pytest.raises(TypeError, match="Unsupported dtype"):
        pt.tensor("x", shape=(None,), dtype="str")
    with pytest.raises(TypeError, match="shape"):
        pt.tensor("x", shape=(1.5,))


def test_eval_errors_name_the_input():
    x = pt.vector("x")
    y = pt.exp(x)
    with pytest.raises(ValueError, match="missing value for input x"):
        y.eval({})
    with pytest.raises(TypeError, match="bad value for input x"):
        y.eval({x: np.ones((2, 2))})
    np.testing.assert_allclose(y.eval({"x": [0.0]}), [1.0])

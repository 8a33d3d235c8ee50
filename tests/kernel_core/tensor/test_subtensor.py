"""Indexing against NumPy: Subtensor (ints, slices, None, Ellipsis), set/inc_subtensor,
advanced indexing (integer arrays, masks) and its set/inc; static shapes,
infer_shape, pullbacks, printing and error messages."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import opgraph.tensor as pt
from opgraph.kernel_core.gradient import verify_grad
from opgraph.kernel_core.scalar.type import ScalarType
from opgraph.kernel_core.tensor.shape import shape_i
from opgraph.kernel_core.tensor.subtensor import (
    AdvancedIncSubtensor, AdvancedIncSubtensor1, AdvancedSubtensor, AdvancedSubtensor1, IdxSlice,
    IncSubtensor, Subtensor, inc_subtensor, indices_from_node, set_subtensor,
)
from opgraph.kernel_core.tensor.type import TensorType

FAST = settings(max_examples=25, deadline=None)


def _var(data, static=False, name="x"):
    shape = data.shape if static else (None,) * data.ndim
    return pt.tensor(name, shape=shape, dtype=data.dtype.name)


def _eval_infer_shape(out, givens):
    node = out.owner
    ishapes = [tuple(shape_i(i, d) for d in range(i.type.ndim)) if isinstance(i.type, TensorType) else ()
               for i in node.inputs]
    oshape = node.op.infer_shape(None, node, ishapes)[out.index]
    got = tuple(int(s) if isinstance(s, (int, np.integer)) else int(s.eval(givens)) for s in oshape)
    assert got == out.eval(givens).shape


def _assert_static_consistent(var, value):
    assert len(var.type.shape) == np.ndim(value)
    for s, v in zip(var.type.shape, np.shape(value)):
        assert s is None or s == v


# -- printing ---------------------------------------------------------------------
def test_seed_001_scalarization_dprint_golden():
    new_x = pt.matrix("new_x", shape=(2, 3))
    one = pt.constant(np.array([1], dtype="int8"))
    new_y = pt.log(pt.add(pt.expand_dims(one, 0), new_x))
    out = new_y[0, 1].dprint(print_type=True, file="str")
    assert out == (
        "Subtensor{i, j} [id A] <Scalar(float64, shape=())>\n"
        " ├─ Log [id B] <Matrix(float64, shape=(2, 3))>\n"
        " │  └─ Add [id C] <Matrix(float64, shape=(2, 3))>\n"
        " │     ├─ ExpandDims{axis=0} [id D] <Matrix(int8, shape=(1, 1))>\n"
        " │     │  └─ [1] [id E] <Vector(int8, shape=(1,))>\n"
        " │     └─ new_x [id F] <Matrix(float64, shape=(2, 3))>\n"
        " ├─ 0 [id G] <int64>\n"
        " └─ 1 [id H] <int64>\n"
    )


def test_seed_002_vector_index_dprint_golden():
    x_vec = pt.tensor("x_vec", shape=(None,))
    y_vec = pt.log(1 + x_vec)
    assert y_vec[0].dprint(file="str") == (
        "Subtensor{i} [id A]\n"
        " ├─ Log [id B]\n"
        " │  └─ Add [id C]\n"
        " │     ├─ ExpandDims{axis=0} [id D]\n"
        " │     │  └─ 1 [id E]\n"
        " │     └─ x_vec [id F]\n"
        " └─ 0 [id G]\n"
    )


@pytest.mark.parametrize("index, name", [
    (lambda x: x[1:], "Subtensor{start:}"),
    (lambda x: x[:2], "Subtensor{:stop}"),
    (lambda x: x[1:3], "Subtensor{start:stop}"),
    (lambda x: x[::2], "Subtensor{::step}"),
    (lambda x: x[1::-1], "Subtensor{start::step}"),
    (lambda x: x[0, 1:], "Subtensor{i, start:}"),
    (lambda x: x[:, 0], "Subtensor{:, i}"),
    (lambda x: x[0, 1, 2], "Subtensor{i, j, k}"),
    (lambda x: x[..., 0], "Subtensor{:, :, i}"),
    (lambda x: x[:], "Subtensor{:}"),
])
def test_subtensor_names(index, name):
    x = pt.tensor3("x")
    assert str(index(x).owner.op) == name


def test_index_inputs_are_int64_scalars_and_props_hold_pattern():
    x = pt.matrix("x")
    i = pt.scalar("i", dtype="int32")
    out = x[i, 1:]
    op = out.owner.op
    assert isinstance(op, Subtensor)
    assert op.idx_list == (ScalarType("int32"), IdxSlice(ScalarType("int64"), None, None))
    assert [str(v) for v in out.owner.inputs[1:]] == ["ScalarFromTensor.0", "1"]
    assert out.owner.inputs[2].type == ScalarType("int64")
    entries = indices_from_node(out.owner)
    assert entries[0] is out.owner.inputs[1] and entries[1].start is out.owner.inputs[2]
    assert op == Subtensor(op.idx_list) and hash(op) == hash(Subtensor(op.idx_list))


def test_none_and_full_slices_make_only_expand_dims():
    z = pt.vector("z")
    assert str(z[None, :].owner.op) == "ExpandDims{axis=0}"
    assert str(z[:, None].owner.op) == "ExpandDims{axis=1}"
    m = pt.matrix("m")
    out = m[None, 0, ..., None]
    data = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(out.eval({m: data}), data[None, 0, ..., None])


# -- numerics: basic indexing ------------------------------------------------------
@st.composite
def basic_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5))
    dtype = draw(st.sampled_from(["float64", "int16", "bool", "float32"]))
    data = draw(hnp.arrays(dtype, shape))
    n_idx = draw(st.integers(1, len(shape)))
    index = []
    for n in shape[:n_idx]:
        if n > 0 and draw(st.booleans()):
            index.append(draw(st.integers(-n, n - 1)))
        else:
            bound = st.none() | st.integers(-n - 2, n + 2)
            step = draw(st.none() | st.sampled_from([1, 2, 3, -1, -2]))
            index.append(slice(draw(bound), draw(bound), step))
    if draw(st.booleans()):
        pos = draw(st.integers(0, len(index)))
        index.insert(pos, None)
    return data, tuple(index)


@FAST
@given(case=basic_case(), static=st.booleans())
def test_basic_indexing_matches_numpy(case, static):
    data, index = case
    x = _var(data, static)
    out = x[index]
    expected = data[index]
    got = out.eval({x: data})
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    _assert_static_consistent(out, expected)
    if out.owner is not None and isinstance(out.owner.op, Subtensor):
        _eval_infer_shape(out, {x: data})


@FAST
@given(n=st.integers(0, 6), start=st.integers(-8, 8), stop=st.integers(-8, 8),
       step=st.sampled_from([1, 2, 3, -1, -3]))
def test_symbolic_slice_bounds_and_infer_shape(n, start, stop, step):
    x = pt.vector("x")
    a, b, c = pt.scalar("a", dtype="int64"), pt.scalar("b", dtype="int64"), pt.scalar("c", dtype="int64")
    out = x[a:b:c]
    data = np.arange(n, dtype="float64")
    givens = {x: data, a: start, b: stop, c: step}
    np.testing.assert_array_equal(out.eval(givens), data[start:stop:step])
    _eval_infer_shape(out, givens)


def test_static_shapes_of_constant_slices():
    x = pt.tensor("x", shape=(5, None, 3))
    assert x[1:4].type.shape == (3, None, 3)
    assert x[::-2, 0].type.shape == (3, 3)
    assert x[:, 2:].type.shape == (5, None, 3)
    assert x[-1].type.shape == (None, 3)


def test_out_of_bounds_static_index_names_axis_and_length():
    x = pt.tensor("x", shape=(2, 3))
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 1 with size 3"):
        x[0, 3]
    with pytest.raises(IndexError, match="axis 0 with size 2"):
        x[-3]
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., ...]
    with pytest.raises(TypeError, match="integer"):
        x[pt.scalar("f")]
    with pytest.raises(ValueError, match="step cannot be zero"):
        x[::0]


def test_runtime_out_of_bounds_is_reported():
    x = pt.vector("x")
    with pytest.raises(Exception, match="out of bounds"):
        x[5].eval({x: np.zeros(3)})


def test_numpy_integer_and_zero_d_array_indices_are_basic():
    x = pt.vector("x")
    for idx in (np.int64(2), np.array(2), np.int8(-1)):
        out = x[idx]
        assert isinstance(out.owner.op, Subtensor)
        assert out.eval({x: np.arange(3.0)}) == np.arange(3.0)[idx]


def test_zero_d_tensor_index_converted_with_scalar_from_tensor():
    x = pt.vector("x")
    i = pt.scalar("i", dtype="int8")
    out = x[i]
    assert type(out.owner.inputs[1].owner.op).__name__ == "ScalarFromTensor"
    assert out.owner.inputs[1].type == ScalarType("int8")
    assert out.eval({x: np.arange(4.0), i: -1}) == 3.0


# -- set / inc --------------------------------------------------------------------
@FAST
@given(case=basic_case(), set_=st.booleans())
def test_set_and_inc_subtensor_match_numpy(case, set_):
    data, index = case
    index = tuple(e for e in index if e is not None)
    if data.dtype == bool:
        data = data.astype("int16")
    x = _var(data)
    sub = data[index]
    y_val = (np.arange(sub.size).reshape(sub.shape) % 7).astype(data.dtype)
    y = pt.tensor("y", shape=(None,) * y_val.ndim, dtype=data.dtype.name)
    fn = set_subtensor if set_ else inc_subtensor
    out = fn(x[index], y)
    expected = data.copy()
    if set_:
        expected[index] = y_val
    else:
        expected[index] += y_val
    before = data.copy()
    got = out.eval({x: data, y: y_val})
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(data, before)  # the input is not modified
    _eval_infer_shape(out, {x: data, y: y_val})


def test_set_inc_names_and_broadcasting_value():
    x = pt.matrix("x")
    s = set_subtensor(x[0], 5.0)
    i = inc_subtensor(x[1:, 0], pt.vector("v"))
    assert str(s.owner.op) == "SetSubtensor{i}"
    assert str(i.owner.op) == "IncSubtensor{start:, i}"
    assert isinstance(s.owner.op, IncSubtensor) and s.owner.op.set_instead_of_inc
    data = np.zeros((3, 2))
    np.testing.assert_array_equal(s.eval({x: data}), [[5, 5], [0, 0], [0, 0]])


def test_set_subtensor_errors():
    x = pt.tensor("x", shape=(3, 4))
    with pytest.raises(TypeError, match="indexed variable"):
        set_subtensor(x, 1.0)
    with pytest.raises(ValueError, match="does not broadcast"):
        set_subtensor(x[0], pt.tensor("y", shape=(3,)))
    xi = pt.tensor("xi", shape=(3,), dtype="int32")
    with pytest.raises(TypeError, match="without loss"):
        set_subtensor(xi[0], pt.scalar("f"))


# -- advanced indexing -------------------------------------------------------------
def test_integer_vector_index_is_advanced_subtensor1():
    x = pt.matrix("x")
    out = x[[2, 0, 2]]
    assert isinstance(out.owner.op, AdvancedSubtensor1)
    assert str(out.owner.op) == "AdvancedSubtensor1"
    data = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(out.eval({x: data}), data[[2, 0, 2]])
    assert out.type.shape == (3, None)
    _eval_infer_shape(out, {x: data})


@st.composite
def advanced_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    data = draw(hnp.arrays(draw(st.sampled_from(["float64", "int32"])), shape))
    kind = draw(st.sampled_from(["ints", "mask", "mixed", "two_arrays", "split"]))
    if kind == "ints":
        idx = draw(hnp.arrays("int64", draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=3)),
                              elements=st.integers(-shape[0], shape[0] - 1)))
        return data, (idx,)
    if kind == "mask":
        return data, (draw(hnp.arrays("bool", shape)),)
    if kind == "mixed" and len(shape) >= 2:
        idx = draw(hnp.arrays("int64", (draw(st.integers(0, 3)),), elements=st.integers(0, shape[1] - 1)))
        return data, (slice(None, None, -1), idx)
    if kind == "two_arrays" and len(shape) >= 2:
        n = draw(st.integers(1, 3))
        a = draw(hnp.arrays("int64", (n,), elements=st.integers(0, shape[0] - 1)))
        b = draw(hnp.arrays("int64", (1,), elements=st.integers(0, shape[1] - 1)))
        return data, (a, b)
    if kind == "split" and len(shape) == 3:
        a = draw(hnp.arrays("int64", (2,), elements=st.integers(0, shape[0] - 1)))
        return data, (a, slice(None), 0)
    return data, (np.array([0, -1]),)


@FAST
@given(case=advanced_case())
def test_advanced_indexing_matches_numpy(case):
    data, index = case
    x = _var(data)
    out = x[index]
    expected = data[index]
    got = out.eval({x: data})
    np.testing.assert_array_equal(got, expected)
    _assert_static_consistent(out, expected)


@FAST
@given(case=advanced_case(), set_=st.booleans())
def test_advanced_set_inc_matches_numpy_add_at(case, set_):
    data, index = case
    x = _var(data)
    sub = data[index]
    y_val = (np.arange(sub.size).reshape(sub.shape) % 5 + 1).astype(data.dtype)
    out = (set_subtensor if set_ else inc_subtensor)(x[index], pt.constant(y_val))
    expected = data.copy()
    if set_:
        expected[index] = y_val
    else:
        np.add.at(expected, index, y_val)
    np.testing.assert_array_equal(out.eval({x: data}), expected)


def test_inc_with_duplicates_accumulates():
    x = pt.vector("x")
    out = inc_subtensor(x[[0, 0, 2]], 1.0)
    assert isinstance(out.owner.op, AdvancedIncSubtensor1)
    assert str(out.owner.op) == "AdvancedIncSubtensor1"
    np.testing.assert_array_equal(out.eval({x: np.zeros(3)}), [2.0, 0.0, 1.0])
    m = pt.matrix("m")
    out2 = inc_subtensor(m[[0, 0], [1, 1]], 1.0)
    assert isinstance(out2.owner.op, AdvancedIncSubtensor)
    np.testing.assert_array_equal(out2.eval({m: np.zeros((2, 2))}), [[0, 2], [0, 0]])


def test_boolean_mask_from_comparison():
    x = pt.vector("x")
    out = x[x > 0]
    assert isinstance(out.owner.op, AdvancedSubtensor)
    data = np.array([-1.0, 2.0, 0.5, -3.0])
    np.testing.assert_array_equal(out.eval({x: data}), [2.0, 0.5])
    _eval_infer_shape(out, {x: data})
    out2 = set_subtensor(x[x < 0], 0.0)
    np.testing.assert_array_equal(out2.eval({x: data}), [0.0, 2.0, 0.5, 0.0])


def test_advanced_errors():
    x = pt.tensor("x", shape=(3, 4))
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 0 with size 3"):
        x[[0, 5]]
    with pytest.raises(IndexError, match="boolean index"):
        x[np.ones(4, dtype=bool)]
    with pytest.raises(TypeError, match="integers or booleans"):
        x[pt.vector("f")]


def test_empty_index_list_and_empty_arrays():
    x = pt.vector("x")
    out = x[[]]
    assert out.eval({x: np.arange(3.0)}).shape == (0,)
    assert x[1:].eval({x: np.zeros(0)}).shape == (0,)


# -- gradients -----------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda x: x[1],
    lambda x: x[1:, ::-1],
    lambda x: x[-1, 1:3] * 2,
    lambda x: x[None, :, 0],
    lambda x: x[[0, 2, 0]],
    lambda x: x[[0, 2], [1, 1]],
    lambda x: x[x > 0.5],
    lambda x: x[:, [2, 0]],
])
def test_subtensor_gradients(fn):
    rng = np.random.default_rng(0)
    verify_grad(fn, [rng.random((3, 4))], rng=rng)


@pytest.mark.parametrize("build", [
    lambda x, y: set_subtensor(x[1:], y),
    lambda x, y: inc_subtensor(x[1:], y),
    lambda x, y: set_subtensor(x[[0, 2, 1]], y),  # set with repeats: last write wins, not differentiable
    lambda x, y: inc_subtensor(x[[0, 2, 0]], y),
    lambda x, y: inc_subtensor(x[[0, 1], :], y),
    lambda x, y: set_subtensor(x[[0, 1], :], y),
])
def test_inc_set_gradients(build):
    rng = np.random.default_rng(1)
    x = rng.random((3, 4))
    probe = build(pt.constant(x), pt.constant(0.0)).owner
    y_shape = tuple(_index_shape(probe, x))
    verify_grad(build, [x, rng.random(y_shape)], rng=rng)


def _index_shape(node, x):
    """Shape of the selection an (Inc)Subtensor node writes to."""
    op = node.op
    if isinstance(op, IncSubtensor):
        return Subtensor(op.idx_list)(pt.constant(x), *node.inputs[2:]).eval().shape
    if isinstance(op, AdvancedIncSubtensor1):
        return AdvancedSubtensor1()(pt.constant(x), node.inputs[2]).eval().shape
    return AdvancedSubtensor(op.idx_list)(pt.constant(x), *node.inputs[2:]).eval().shape


def test_broadcast_value_gradient_is_summed():
    rng = np.random.default_rng(2)
    verify_grad(lambda x, y: set_subtensor(x[1:], y), [rng.random((3, 4)), rng.random((4,))], rng=rng)
    verify_grad(lambda x, y: inc_subtensor(x[:, 0], y), [rng.random((3, 4)), rng.random(())], rng=rng)

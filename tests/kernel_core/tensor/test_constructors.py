"""Symbolic input constructors: tensor / scalar / vector / ... and the typed shortcuts (pt.dvector, pt.irow, ...)."""

import pytest

import opgraph.tensor as pt
from opgraph.kernel_core.tensor.type import TensorType


@pytest.mark.parametrize("name, dtype, shape", [
    ("dscalar", "float64", ()), ("fvector", "float32", (None,)), ("imatrix", "int32", (None, None)),
    ("irow", "int32", (1, None)), ("lcol", "int64", (None, 1)), ("btensor3", "int8", (None,) * 3),
    ("ztensor4", "complex128", (None,) * 4), ("wtensor5", "int16", (None,) * 5), ("cscalar", "complex64", ()),
])
def test_typed_shortcuts_are_tensor_types_that_make_variables(name, dtype, shape):
    t = getattr(pt, name)
    assert isinstance(t, TensorType)
    assert (t.dtype, t.shape) == (dtype, shape)
    v = t("v")
    assert v.type == t and v.name == "v"
    assert t().name is None


def test_generic_constructors_take_a_dtype_and_check_shapes():
    assert pt.vector("x", dtype="int64").type == pt.lvector
    assert pt.row("r", dtype="int32").type == pt.irow
    assert pt.matrix("m", shape=(2, None)).type.shape == (2, None)
    with pytest.raises(ValueError, match="not 2-dimensional"):
        pt.matrix("m", shape=(2,))
    with pytest.raises(TypeError, match="name must be a string"):
        pt.tensor((2, 3))

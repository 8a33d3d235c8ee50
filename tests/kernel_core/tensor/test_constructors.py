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


def test_plural_constructors_make_several_variables():
    x, y = pt.dscalars("x", "y")
    assert (x.name, y.name) == ("x", "y") and x.type == y.type == pt.dscalar
    two = pt.dscalars(2)
    assert len(two) == 2 and two[0] is not two[1] and all(v.name is None for v in two)
    assert pt.imatrices("m").type == pt.imatrix            # one name: one variable (as PyTensor)
    a, b = pt.lvectors(["a", "b"])
    assert a.type == pt.lvector and b.name == "b"
    assert [v.type for v in pt.fvectors(1)] == [pt.fvector]
    assert pt.dtensor3s("p", "q")[1].type == pt.dtensor3
    assert pt.matrices("u", "v")[0].type.ndim == 2
    assert pt.lscalars(0) == []
    with pytest.raises(TypeError, match="dscalars: expected names"):
        pt.dscalars("x", 3)
    with pytest.raises(ValueError, match=">= 0"):
        pt.dscalars(-1)

"""Graph structures (seed 004): Variable, Constant, Apply, Op, Type, reprs."""

import numpy as np
import pytest

import opgraph.tensor as pt
from opgraph.graph import Apply, Constant, Op, Type, Variable
from opgraph.kernel_core.tensor.elemwise import Elemwise
from opgraph.kernel_core.tensor.type import TensorType
from opgraph.kernel_core.tensor.variable import TensorVariable


def test_seed_001_reprs():
    x = pt.tensor(shape=(3,), dtype="float64")
    y = pt.log(1 + x)
    assert repr(y) == "Log.0"
    assert isinstance(y, TensorVariable)
    assert str(y.type) == "TensorType(float64, shape=(3,))"
    assert repr(y.type) == "TensorType(float64, shape=(3,))"
    assert repr(y.owner) == "Log(Add.0)"
    assert isinstance(y.owner, Apply)
    assert isinstance(y.owner.op, Elemwise)
    assert str(y.owner.op.scalar_op) == "log"
    assert repr(y.owner.op) == "Elemwise(scalar_op=log,inplace_pattern=<frozendict {}>)"
    assert y.owner.outputs == [y]
    assert repr(y.owner.inputs) == "[Add.0]"


def test_variable_fields():
    x = pt.dmatrix("x")
    y = x * 2.0
    assert x.owner is None and x.index is None and x.name == "x"
    assert isinstance(x.type, Type) and x.type == TensorType("float64", (None, None))
    assert y.owner.op.scalar_op.name == "mul"
    assert y.owner.outputs[y.index] is y
    assert y.owner.inputs[0] is x
    # 2.0 is broadcast to a matrix with ExpandDims (a DimShuffle) first
    ds = y.owner.inputs[1]
    assert str(ds.owner.op) == "ExpandDims{axes=[0, 1]}"
    assert isinstance(ds.owner.inputs[0], Constant)
    assert float(ds.owner.inputs[0].data) == 2.0


def test_source_line_recorded():
    x = pt.vector("x")
    y = pt.exp(x)  # this line is recorded
    filename, lineno, func = y.tag.trace
    assert filename == __file__
    assert func == "test_source_line_recorded"


def test_constant_immutable_and_dtypes():
    c = pt.constant([1, 2, 3])
    assert c.dtype == "int8"
    with pytest.raises(ValueError):
        c.data[0] = 5
    assert pt.constant(1).dtype == "int8"
    assert pt.constant(300).dtype == "int16"
    assert pt.constant(2**40).dtype == "int64"
    assert pt.constant(1.5).dtype == "float64"
    assert pt.constant(True).dtype == "bool"
    assert pt.constant(np.float32(1)).dtype == "float32"
    assert pt.constant([1.0, 2.0]).dtype == "float64"


def test_op_call_and_make_node():
    x = pt.vector("x")
    node = pt.exp.make_node(x)
    assert isinstance(node, Apply) and node.op is pt.exp and node.inputs == [x]
    out = pt.exp(x)
    assert out.owner.op == node.op


def test_op_props_equality():
    a = pt.DimShuffle(1, ("x", 0))
    b = pt.DimShuffle(1, ("x", 0))
    assert a == b and hash(a) == hash(b)
    assert a != pt.DimShuffle(1, (0, "x"))


class Double(Op):
    """A user-defined op in a few lines: the protocol works outside the library."""

    __props__ = ()

    def make_node(self, x):
        x = pt.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * 2


def test_custom_op():
    x = pt.vector("x")
    y = Double()(x) + 1
    np.testing.assert_allclose(y.eval({x: [1.0, 2.0]}), [3.0, 5.0])
    assert repr(y.owner.inputs[0]) == "Double.0"


def test_clone_with_new_inputs():
    x, z = pt.vector("x"), pt.vector("z")
    y = pt.exp(x)
    node = y.owner.clone_with_new_inputs([z])
    assert node.inputs == [z] and node.op == y.owner.op and y.owner.inputs == [x]


def test_bool_of_variable_is_clear_error():
    x = pt.vector("x")
    with pytest.raises(TypeError, match="symbolic"):
        if x > 0:
            pass


def test_variable_is_dict_key():
    x = pt.vector("x")
    d = {x: 1}
    assert d[x] == 1 and isinstance(x == x, bool)

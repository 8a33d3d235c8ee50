"""Graph construction's fast paths (issue 18) change nothing visible: a Python number
becomes the constant the general path makes, and every variable keeps its user line."""

import numpy as np
import pytest

import opgraph.tensor as pt
from opgraph.graph import clone
from opgraph.kernel_core.config import config
from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.tensor.basic import constant, constant_data
from opgraph.kernel_core.tensor.type import TensorType
from opgraph.kernel_core.tensor.variable import TensorConstant

INT_EDGES = [0, 127, 128, -128, -129, 2**15 - 1, 2**15, -(2**15) - 1, 2**31 - 1, 2**31,
             -(2**31) - 1, 2**63 - 1, -(2**63), 2**63, 2**64 - 1]


@pytest.mark.parametrize("value", INT_EDGES + [True, False, 0.5, -3.0, float("inf")])
@pytest.mark.parametrize("floatx", ["float64", "float32"])
def test_python_number_constant_matches_the_general_path(value, floatx):
    with config.change_flags(floatX=floatx):
        c = constant(value, name="c")
        want = constant_data(value)   # the general conversion, dtype rules included
        assert type(c) is TensorConstant
        assert c.type == TensorType(want.dtype.name, ())
        assert c.data.dtype == want.dtype and c.data.shape == () and c.data == want
        assert not c.data.flags.writeable and c.data.base is None
        assert c.name == "c" and str(constant(value)) == str(want)


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1])
def test_python_int_too_large_names_the_value(value):
    with pytest.raises(ValueError, match=f"integer constant {value} does not fit in 64 bits"):
        constant(value)


def test_operand_dtypes_follow_the_python_number_rules():
    x8, xf = pt.tensor("x8", dtype="int8", shape=()), pt.fscalar("xf")
    assert (x8 + 1).dtype == "int8" and (x8 + 300).dtype == "int16" and (x8 + True).dtype == "int8"
    assert (x8 + 1.0).dtype == "float64" and (xf + 1.0).dtype == "float64"
    with config.change_flags(floatX="float32"):
        assert (xf + 1.0).dtype == "float32"
    v = pt.vector("v")
    assert (v * 2.0).type.shape == (None,)   # 2.0 goes through an ExpandDims


def test_outputs_and_their_constants_record_the_users_line():
    x = pt.vector("x")
    y = 2.0 * x + 1  # both nodes and both constants were built on this line
    z = pt.exp(y)
    line = y.tag.trace[1]
    assert y.tag.trace == (__file__, line, "test_outputs_and_their_constants_record_the_users_line")
    product = y.owner.inputs[0]
    made_here = [y, product, y.owner.inputs[1], product.owner.inputs[0], product.owner.inputs[0].owner.inputs[0]]
    assert all(v.tag.trace == y.tag.trace for v in made_here)
    assert z.tag.trace[1] == line + 1
    assert y.tag is not product.tag and y.tag is not y.owner.inputs[1].tag   # tags are not shared


def test_clones_keep_the_original_lines_and_data():
    x = pt.vector("x")
    y = pt.exp(x) + 1.5
    (nx,), (ny,) = clone([x], [y])
    assert ny is not y and ny.tag.trace == y.tag.trace and ny.tag is not y.tag
    c, nc = y.owner.inputs[1].owner.inputs[0], ny.owner.inputs[1].owner.inputs[0]
    assert isinstance(c, Constant)
    if nc is not c:
        assert nc.tag.trace == c.tag.trace and nc.data == c.data and not nc.data.flags.writeable
    user = np.array([1.0, 2.0])
    k = pt.constant(user)
    k2 = k.clone(name="k2")
    assert k2.name == "k2" and k2.tag.trace == k.tag.trace and np.array_equal(k2.data, user)
    assert user.flags.writeable   # the caller's array stays the caller's
    assert x.clone().tag.trace == x.tag.trace

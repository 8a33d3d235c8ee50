"""Supervisor: inplace changes may not overwrite protected inputs, constants or outputs."""

import numpy as np
import pytest

import opgraph.tensor as pt
from opgraph.kernel_core.compile.supervisor import Supervisor, viewed_base
from opgraph.kernel_core.graph.fgraph import FunctionGraph, InconsistencyError
from opgraph.kernel_core.scalar import basic as ps
from opgraph.kernel_core.tensor.elemwise import Elemwise


def _inplace_exp(x):
    return Elemwise(ps.exp, {0: 0})(x)


def test_destroying_a_protected_input_is_refused():
    x = pt.vector("x")
    fg = FunctionGraph([x], [_inplace_exp(x) * 2], clone=False, features=[Supervisor([x])])
    with pytest.raises(InconsistencyError, match="overwrite x"):
        fg.validate()


def test_destroying_through_a_view_is_refused():
    m = pt.matrix("m")
    fg = FunctionGraph([m], [_inplace_exp(m.T) * 2], clone=False, features=[Supervisor([m])])
    with pytest.raises(InconsistencyError, match="overwrite m"):
        fg.validate()
    assert viewed_base(m.T) is m


def test_mutable_inputs_and_intermediates_may_be_destroyed():
    x = pt.vector("x")
    fg = FunctionGraph([x], [_inplace_exp(x) * 2], clone=False, features=[Supervisor([])])
    fg.validate()
    y = pt.vector("y")
    fg2 = FunctionGraph([y], [_inplace_exp(y * 3)], clone=False, features=[Supervisor([y])])
    fg2.validate()


def test_constants_and_outputs_are_protected():
    c = pt.as_tensor_variable(np.array([1.0, 2.0]))
    x = pt.vector("x")
    fg = FunctionGraph([x], [_inplace_exp(c) + x], clone=False, features=[Supervisor([x])])
    with pytest.raises(InconsistencyError):
        fg.validate()
    e = pt.exp(x)
    fg2 = FunctionGraph([x], [e, _inplace_exp(e)], clone=False, features=[Supervisor([x])])
    with pytest.raises(InconsistencyError, match="output"):
        fg2.validate()


def test_destroyers_follow_graph_changes():
    x = pt.vector("x")
    y = x * 3
    fg = FunctionGraph([x], [pt.exp(y) * 2], clone=False, features=[Supervisor([x])])
    sup = fg.get_feature(Supervisor)
    assert not sup.destroyers
    exp_var = fg.outputs[0].owner.inputs[0]
    fg.replace(exp_var, _inplace_exp(y))
    assert len(sup.destroyers) == 1
    fg.validate()
    fg.replace(fg.outputs[0].owner.inputs[0], pt.exp(y))
    assert not sup.destroyers

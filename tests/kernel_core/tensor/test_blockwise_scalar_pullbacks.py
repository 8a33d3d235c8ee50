"""Blockwise pullbacks whose core gradient has scalar-typed nodes (a Subtensor
index is a ScalarFromTensor): batching them used to fail in ``batch_graph``."""

import warnings

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad
from opgraph.kernel_core.graph.basic import Apply
from opgraph.kernel_core.graph.op import Op
from opgraph.kernel_core.tensor.blockwise import Blockwise
from opgraph.kernel_core.tensor.type import TensorType


class Last(Op):
    """x[-1]; the pullback indexes with x.shape[0] - 1 (a core shape, the same in every batch)."""

    __props__ = ()
    gufunc_signature = "(n)->()"

    def make_node(self, x):
        x = pt.as_tensor_variable(x)
        return Apply(self, [x], [TensorType(x.type.dtype, ()).make_variable()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs[0][-1])

    def infer_shape(self, fgraph, node, input_shapes):
        return [()]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        return [pt.set_subtensor(pt.zeros_like(x)[x.shape[0] - 1], output_grads[0])]


class Pick(Op):
    """x[k]; the pullback indexes with k, which differs between batch elements."""

    __props__ = ()
    gufunc_signature = "(n),()->()"

    def make_node(self, x, k):
        x, k = pt.as_tensor_variable(x), pt.as_tensor_variable(k)
        return Apply(self, [x, k], [TensorType(x.type.dtype, ()).make_variable()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs[0][int(inputs[1])])

    def infer_shape(self, fgraph, node, input_shapes):
        return [()]

    def L_op(self, inputs, outputs, output_grads):
        x, k = inputs
        return [pt.set_subtensor(pt.zeros_like(x)[k], output_grads[0]), None]


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_batched_pullbacks_with_scalar_index_nodes(mode):
    x, k = pt.matrix("x"), pt.lvector("k")
    weights = np.array([1.0, 2.0, 3.0])
    last, pick = Blockwise(Last())(x), Blockwise(Pick())(x, k)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NUMBA compiles it (no fallback to the Python VM)
        f = opgraph.function([x, k], [last, grad((last * weights).sum(), x), pick, grad((pick * weights).sum(), x)],
                             mode=mode)
    xv, kv = np.arange(12.0).reshape(3, 4), np.array([1, 3, 0])
    last_v, last_g, pick_v, pick_g = f(xv, kv)
    np.testing.assert_allclose(last_v, xv[:, -1])
    expected = np.zeros((3, 4))
    expected[:, -1] = weights
    np.testing.assert_allclose(last_g, expected)
    np.testing.assert_allclose(pick_v, xv[np.arange(3), kv])
    expected = np.zeros((3, 4))
    expected[np.arange(3), kv] = weights
    np.testing.assert_allclose(pick_g, expected)


def test_scalar_typed_core_output_is_refused_clearly():
    from opgraph.kernel_core.tensor.elemwise import ScalarFromTensor

    with pytest.raises(TypeError, match="only tensor outputs can be batched"):
        Blockwise(ScalarFromTensor(), "()->()")(pt.vector("v"))

"""One-element values computed as numbers inside the graph function (backends/numba/scalar_form.py).

Every case compares NUMBA with PYTHON (values, dtypes, shapes) and checks the
generated graph function really holds the values as numbers.
"""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.backends.numba.codegen import GRAPH_FUNCTION
from opgraph.kernel_core.scalar import basic as ps
from opgraph.kernel_core.scalar.type import float64 as scalar_float64
from opgraph.kernel_core.tensor.elemwise import scalar_from_tensor, tensor_from_scalar


def graph_function_source(f):
    src = f.maker.thunk.source
    return src[src.index(f"def {GRAPH_FUNCTION}("):]


def compare(inputs, outputs, values, rtol=1e-12):
    f_numba = opgraph.function(inputs, outputs, mode="NUMBA")
    f_py = opgraph.function(inputs, outputs, mode="PYTHON")
    got, want = f_numba(*values), f_py(*values)
    for k, (g, w) in enumerate(zip(got, want)):
        assert type(g) is np.ndarray, f"output {k} is a {type(g).__name__}"
        assert g.shape == w.shape and g.dtype == w.dtype, f"output {k}: {g.shape} {g.dtype} != {w.shape} {w.dtype}"
        np.testing.assert_allclose(g, w, rtol=rtol, err_msg=f"output {k}")
    return f_numba, got


def test_zero_d_arithmetic_keeps_every_dtype():
    a, b = pt.scalar("a", dtype="int8"), pt.scalar("b", dtype="int8")
    u, w = pt.scalar("u", dtype="float32"), pt.scalar("w")
    outs = [a + b,                      # int8 wraps around, as NumPy does
            a * b - 3,
            (a < b) | (u > 0.5),        # bool
            u * 3.5 + pt.exp(u),        # float32 stays float32
            pt.log1p(w) * u,            # float64
            pt.switch(a > 0, w, -w)]
    f, got = compare([a, b, u, w], outs,
                     [np.array(127, "int8"), np.array(1, "int8"), np.array(0.25, "float32"), np.array(2.0)],
                     rtol=1e-6)   # float32 intermediates may round differently by an ulp
    assert got[0] == -128
    body = graph_function_source(f)
    # Intermediates and results are numbers: the only 0-d arrays made are the returned ones.
    assert body.count("np.empty(") == 0 and body.count("[()]") == 4   # one read per input
    assert "box0d" in body


def test_one_element_tensors_of_any_rank_and_reductions():
    m = pt.tensor("m", dtype="float64", shape=(1, 1))
    v = pt.vector("v")
    total = v.sum()
    outs = [m * 2.0 + 1.0,             # shape (1, 1): computed as a number, returned as (1, 1)
            pt.exp(total) - total,     # a full reduction as a number
            v * total,                 # a number read once by a loop
            (v * total).sum() / v.shape[0]]
    f, got = compare([m, v], outs, [np.array([[1.5]]), np.array([0.5, -1.0, 0.25, 2.0, 3.0])])
    assert got[0].shape == (1, 1)
    body = graph_function_source(f)
    assert "np.empty(()" not in body


def test_numbers_returned_twice_are_distinct_arrays():
    x = pt.scalar("x")
    y = pt.exp(x)
    f = opgraph.function([x], [y, y, x * 1.0], mode="NUMBA")
    r = f(np.array(1.0))
    assert r[0] is not r[1]
    r[0][()] = 5.0
    assert r[1] == pytest.approx(np.e)


def test_scalar_typed_nodes_and_conversions():
    x = pt.scalar("x")
    s = scalar_from_tensor(x)
    t = ps.mul(ps.add(s, s), ps.exp(s))
    out = tensor_from_scalar(t)
    assert out.owner.inputs[0].type == scalar_float64
    compare([x], [out, out * x], [np.array(1.25)])


def test_profiling_and_errors_still_run_node_by_node():
    # The per-node functions keep the array convention: profiling times every node.
    a = pt.scalar("a")
    v = pt.vector("v")
    out = (v * pt.exp(a)).sum() + a
    f = opgraph.function([a, v], out, mode="NUMBA", profile=True)
    np.testing.assert_allclose(f(np.array(0.5), np.arange(3.0)), 3 * np.exp(0.5) + 0.5)
    assert len(f.profile.apply_time) == len(f.maker.fgraph.apply_nodes)

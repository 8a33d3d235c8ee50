"""The generated-Python backend gives exactly what the Python VM gives."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.compile.mode import Mode
from opgraph.gradient import grad
from opgraph.kernel_core.backends.python.linker import PythonLinker
from opgraph.kernel_core.compile.vm import VMLinker
from opgraph.kernel_core.runtime_errors import NodeRuntimeError


def _pair(inputs, outputs, optimizer="fast_run", **kw):
    vm = opgraph.function(inputs, outputs, mode=Mode(linker=VMLinker(), optimizer=optimizer), **kw)
    py = opgraph.function(inputs, outputs, mode=Mode(linker=PythonLinker(), optimizer=optimizer), **kw)
    return vm, py


def _same(a, b):
    assert type(a) is type(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("optimizer", ["fast_run", "fast_compile"])
def test_matches_vm_on_a_model_gradient(optimizer):
    # The W5 graph: fused Composites (fast_run) or one node per op (fast_compile),
    # reductions, shapes, broadcasting of scalars.
    mu, log_tau = pt.scalar("mu"), pt.scalar("log_tau")
    theta, y, sigma = pt.vector("theta"), pt.vector("y"), pt.vector("sigma")
    tau = pt.exp(log_tau)
    logp = (-0.5 * mu ** 2 / 25 - 0.5 * ((theta - mu) / tau) ** 2 - log_tau * theta.shape[0]
            - 0.5 * ((y - theta) / sigma) ** 2).sum() + log_tau
    outs = [logp, *grad(logp, [mu, log_tau, theta])]
    vm, py = _pair([mu, log_tau, theta, y, sigma], outs, optimizer)
    args = [np.array(0.1), np.array(0.2), np.linspace(-1, 1, 8), np.arange(8.0), np.ones(8) * 10]
    for a, b in zip(vm(*args), py(*args)):
        _same(a, b)
    assert "_perform" not in py.maker.thunk.source or optimizer == "fast_compile"


def test_dtypes_and_rules_without_a_ufunc():
    # int8 wraparound, bool, float32 with an int input (cast by impl), integer division,
    # a dot and a transposed dimshuffle; several outputs from one fused loop.
    a = pt.vector("a", dtype="int8")
    b = pt.vector("b", dtype="float32")
    m = pt.matrix("m")
    outs = [a * a + a, a > 3, b * a, a // 3, pt.exp(a), m.T @ m, m.sum(axis=1), pt.switch(a > 0, b, 2 * b)]
    vm, py = _pair([a, b, m], outs)
    args = [np.array([100, -7, 3], dtype="int8"), np.array([1.5, -2.0, 0.25], dtype="float32"),
            np.arange(6.0).reshape(2, 3)]
    for x, y in zip(vm(*args), py(*args)):
        _same(x, y)


def test_zero_d_values_are_arrays():
    x = pt.scalar("x")
    vm, py = _pair([x], [pt.exp(x) + 1, x * 2, pt.sqrt(x)])
    for a, b in zip(vm(np.array(2.0)), py(np.array(2.0))):
        _same(a, b)
        assert isinstance(b, np.ndarray) and b.ndim == 0


def test_destroy_maps_respected():
    # The caller's array stays intact; a mutable input is overwritten in place,
    # exactly as under the VM (same values left in the caller's array).
    x = pt.vector("x")
    y = pt.exp(x) * 2 + x
    vm, py = _pair([x], y)
    value = np.arange(4.0)
    before = value.copy()
    _same(vm(value), py(value))
    np.testing.assert_array_equal(value, before)

    vmm, pym = _pair([opgraph.In(x, mutable=True)], y)
    assert any(getattr(n.op, "destroy_map", None) for n in pym.maker.fgraph.apply_nodes)
    v1, v2 = np.arange(4.0), np.arange(4.0)
    _same(vmm(v1), pym(v2))
    np.testing.assert_array_equal(v1, v2)
    assert not np.array_equal(v2, before)   # it was overwritten


def test_accepted_inplace_node_copies_a_protected_input():
    # A user's inplace node (accept_inplace) on a non-mutable input: both linkers
    # copy the input first.
    from opgraph.kernel_core.scalar.basic import Exp
    from opgraph.kernel_core.tensor.elemwise import Elemwise

    x = pt.vector("x")
    y = Elemwise(Exp(), inplace_pattern={0: 0})(x)
    vm, py = _pair([x], y, optimizer=None, accept_inplace=True)
    value = np.arange(3.0)
    _same(vm(value), py(value))
    np.testing.assert_array_equal(value, np.arange(3.0))
    assert "_copy_value(i0)" in py.maker.thunk.source


def test_fallback_perform_and_error_names_the_node():
    # An op without a rule (Subtensor) runs its perform; a run-time failure
    # is the VM's error: the node and its inputs named.
    x = pt.vector("x")
    y = pt.vector("y")
    out = (x[1:] + y) * 2
    vm, py = _pair([x, y], out, optimizer="fast_compile")
    _same(vm(np.arange(4.0), np.ones(3)), py(np.arange(4.0), np.ones(3)))
    with pytest.raises(NodeRuntimeError) as e_vm:
        vm(np.arange(4.0), np.ones(5))
    with pytest.raises(NodeRuntimeError) as e_py:
        py(np.arange(4.0), np.ones(5))
    assert type(e_py.value) is type(e_vm.value)
    assert str(e_py.value) == str(e_vm.value)


def test_python_mode_uses_the_generated_function_and_profiles_use_the_vm():
    x = pt.vector("x")
    f = opgraph.function([x], pt.exp(x).sum(), mode="PYTHON")
    assert "def opgraph_py" in f.maker.thunk.source
    p = opgraph.function([x], pt.exp(x).sum(), mode="PYTHON", profile=True)
    p(np.ones(3))
    assert p.profile.apply_time and all(c == 1 for c in p.profile.apply_callcount.values())


def test_strict_inputs_refuse_what_numba_refuses():
    # The fast tier of mode NUMBA accepts exactly the Numba backend's argument types,
    # so a trust_input call does not stop working when Numba's code takes over.
    from opgraph.kernel_core.backends.python.codegen import generate
    from opgraph.kernel_core.graph.fgraph import FunctionGraph

    x, n = pt.dvector("x"), pt.lscalar("n")
    fg = FunctionGraph([n, x], [x * n])
    strict, lenient = generate(fg, strict_inputs=True).fn, generate(fg).fn
    two = np.asarray(2, dtype="int64")
    np.testing.assert_array_equal(strict(two, np.ones(3))[0], [2.0, 2.0, 2.0])
    for bad in [(two, np.ones((2, 2))), (two, np.ones(3, dtype="float32")), (np.int64(2), np.ones(3)),
                (two, [1.0, 2.0])]:
        with pytest.raises(TypeError, match="expected an ndarray"):
            strict(*bad)
    np.testing.assert_array_equal(lenient(np.int64(2), np.ones(3))[0], [2.0, 2.0, 2.0])
    with pytest.raises(TypeError, match="input 1: expected an ndarray, got list"):
        lenient(two, [1.0, 2.0])

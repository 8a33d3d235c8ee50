"""Gradients through scan: verify_grad on several recurrences, jacobian / hessian,
truncate_gradient, and the NUMBA-compiled gradient (one small function)."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad, hessian, jacobian, verify_grad
from opgraph.scan import Scan
from opgraph.scan.utils import until

RNG = np.random.default_rng(20261201)


def cumsum(x):
    out, _ = opgraph.scan(lambda v, acc: acc + v, sequences=x, outputs_info=pt.zeros(()))
    return out


def rnn(W, u, h0):
    out, _ = opgraph.scan(lambda ut, h, W: pt.tanh(pt.dot(W, h) + ut), sequences=u, outputs_info=h0,
                          non_sequences=W)
    return out


def fib_like(init, c):
    out, _ = opgraph.scan(lambda a, b: a * c + b, outputs_info=dict(initial=init, taps=[-2, -1]), n_steps=5)
    return out


def seq_taps(x):
    out, _ = opgraph.scan(lambda a, b, c: a * b - c ** 2, sequences=dict(input=x, taps=[-1, 0, 1]))
    return out


def while_loop(a):
    """A data-dependent number of steps; the gradient w.r.t. the non-sequence."""
    out, _ = opgraph.scan(lambda p, a: (p * a, until(p * a > 10.0)), outputs_info=pt.constant(1.0),
                          non_sequences=a, n_steps=50)
    return out


def backwards_last(x):
    out, _ = opgraph.scan(lambda v, acc: acc * 0.5 + pt.sin(v), sequences=x, outputs_info=pt.zeros(()),
                          go_backwards=True)
    return out[-1]


def two_outputs(x, a):
    (acc, per_step), _ = opgraph.scan(lambda v, h, a: (h * a + v, pt.exp(v * h)), sequences=x,
                                      outputs_info=[pt.zeros(()), None], non_sequences=a)
    return acc.sum() + per_step.sum()


CASES = {
    "cumsum": (cumsum, lambda: [RNG.normal(size=5)]),
    "rnn": (rnn, lambda: [RNG.normal(size=(3, 3)) * 0.5, RNG.normal(size=(4, 3)), RNG.normal(size=3)]),
    "fibonacci_taps": (fib_like, lambda: [np.array([0.5, 1.0]), np.array(0.7)]),
    "sequence_taps": (seq_taps, lambda: [RNG.normal(size=6)]),
    "while": (while_loop, lambda: [np.array(1.7)]),
    "go_backwards_last": (backwards_last, lambda: [RNG.normal(size=5)]),
    "nit_and_state": (two_outputs, lambda: [RNG.normal(size=4) * 0.3, np.array(0.8)]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_verify_grad(case):
    fn, point = CASES[case]
    verify_grad(fn, point(), rng=np.random.default_rng(1))


def test_while_loop_gradient_matches_the_closed_form():
    # p_t = a ** t until p > 10: for a = 1.7 the loop runs 5 steps; d(p_5)/da = 5 a ** 4.
    a = pt.scalar("a")
    out = while_loop(a)
    g = grad(out[-1], a)
    f = opgraph.function([a], [out, g], mode="PYTHON")
    trace, ga = f(1.7)
    assert len(trace) == 5
    np.testing.assert_allclose(ga, 5 * 1.7 ** 4)


def test_truncate_gradient():
    x = pt.vector("x")
    out, _ = opgraph.scan(lambda v, acc: acc + v, sequences=x, outputs_info=pt.zeros(()), truncate_gradient=2)
    g = grad(out[-1], x)
    np.testing.assert_allclose(g.eval({x: np.ones(5)}), [0, 0, 0, 1, 1])


def test_jacobian_and_hessian():
    x = pt.vector("x")
    out = cumsum(x)
    J = jacobian(out, x)
    np.testing.assert_allclose(J.eval({x: np.ones(4)}), np.tril(np.ones((4, 4))))
    # cost = sum_t (cumsum_t)^2 -> hessian = 2 L^T L (L lower-triangular ones).
    H = hessian((out ** 2).sum(), x)
    L = np.tril(np.ones((4, 4)))
    np.testing.assert_allclose(H.eval({x: RNG.normal(size=4)}), 2 * L.T @ L)


def test_numba_gradient():
    """The RNN's gradient compiled: the backward loop is a Scan too, in the same module."""
    W = pt.matrix("W")
    u = pt.matrix("u")
    h0 = pt.vector("h0")
    cost = (rnn(W, u, h0) ** 2).sum()
    grads = grad(cost, [W, u, h0])
    values = [RNG.normal(size=(3, 3)) * 0.5, RNG.normal(size=(4, 3)), RNG.normal(size=3)]
    f_numba = opgraph.function([W, u, h0], grads, mode="NUMBA")
    f_numba.wait_compiled()
    f_py = opgraph.function([W, u, h0], grads, mode="PYTHON")
    for got, want in zip(f_numba(*values), f_py(*values)):
        np.testing.assert_allclose(got, want, rtol=1e-10)
    scans = [n for n in f_numba.maker.fgraph.apply_nodes if isinstance(n.op, Scan)]
    assert len(scans) == 2 and "objmode" not in f_numba.maker.thunk.source
    # The backward loop's carries are windows (save_last), not traces.
    backward = [n for n in scans if n.op.name is None and any(n.op.save_last)]
    assert backward
    # W's gradient, a sum of outer products, is one product after the loop (no 2-d carry);
    # the step's matrix-vector products are loops (scan_kernels.matvec), not BLAS calls.
    assert all(taps[0].type.ndim < 2 for n in scans for taps in n.op.inner_state_taps())
    assert "matvec" in f_numba.maker.thunk.source


def test_the_backward_step_reads_the_forward_values():
    """tanh's pullback uses its output: the backward step reads it from the forward trace
    instead of recomputing tanh(W h + u) (no Tanh and no W @ h in the backward step)."""
    from opgraph.graph.traversal import ancestors, io_toposort

    W, u, h0 = pt.matrix("W"), pt.matrix("u"), pt.vector("h0")
    out = rnn(W, u, h0)
    g = grad(out.sum(), W)
    scans = {v.owner for v in ancestors([g]) if v.owner is not None and isinstance(v.owner.op, Scan)}
    backward = [n for n in scans if n.outputs[0] is not out]
    assert len(backward) == 1
    op = backward[0].op
    names = [type(n.op.scalar_op).__name__ if hasattr(n.op, "scalar_op") else type(n.op).__name__
             for n in io_toposort(op.inner_inputs, op.inner_outputs)]
    assert "Tanh" not in names and names.count("Dot") == 2   # W.T @ d, and W's outer product
    values = [RNG.normal(size=(3, 3)) * 0.5, RNG.normal(size=(4, 3)), RNG.normal(size=3)]
    f = opgraph.function([W, u, h0], g, mode="PYTHON")
    Wv, uv, hv = values
    hs, h = [], hv
    for t in range(4):
        h = np.tanh(Wv @ h + uv[t])
        hs.append(h)
    gW, gh = np.zeros((3, 3)), np.zeros(3)
    for t in range(3, -1, -1):
        d = (gh + 1.0) * (1 - hs[t] ** 2)
        gW += np.outer(d, hs[t - 1] if t else hv)
        gh = Wv.T @ d
    np.testing.assert_allclose(f(*values), gW, rtol=1e-12)


def test_rop_through_scan():
    from opgraph.gradient import Rop

    x = pt.vector("x")
    v = pt.vector("v")
    out = cumsum(x)
    jv = Rop(out, x, v)
    np.testing.assert_allclose(jv.eval({x: np.ones(4), v: np.array([1.0, 2, 3, 4])}), [1, 3, 6, 10])


def test_verify_grad_numba_while_loop():
    """The data-dependent while loop's gradient, compiled (verify_grad's mode)."""
    # tiered=False: the Numba backend itself, not the Python tier that serves first calls.
    verify_grad(while_loop, [np.array(1.7)], mode=opgraph.Mode("NUMBA", tiered=False), rng=np.random.default_rng(2))


def test_one_variable_as_state_and_per_step_output():
    """The step returns the same variable as a state and a per-step output: both
    cotangents reach it (they were once collapsed into one)."""
    def fn(x):
        (acc, same), _ = opgraph.scan(lambda v, h: (h + v, h + v), sequences=x,
                                      outputs_info=[pt.zeros(()), None])
        return (acc * 2).sum() + (same ** 2).sum()

    verify_grad(fn, [RNG.normal(size=4)], rng=np.random.default_rng(3))

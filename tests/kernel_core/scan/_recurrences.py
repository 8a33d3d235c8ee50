"""The scan recurrences shared by tests/kernel_core/scan/test_scan.py (modes PYTHON and NUMBA)
and tests/kernel_core/backends/jax/test_jax_scan_ifelse.py (mode JAX, which loads this file by
its path): each loop's graph, its input values and its NumPy reference.

PyTensor's loop tutorial (power, polynomial, Fibonacci taps, a while loop) and the layout's
corners (sequence taps, go_backwards, an output not fed back, a matrix state over a closure),
and, on request, an RNN over a sequence of rows with its gradient (a backward scan).  The step
counts of the power and Fibonacci loops are inputs unless given: JAX needs them static when
compiling (``build(power_steps=3, fib_steps=6)``).  The while loop's trace needs a value-dependent
length, which JAX cannot compile: ``while_trace=False`` keeps only its last value.
"""

import numpy as np

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad
from opgraph.scan.utils import until

POWER_STEPS, FIB_STEPS = 3, 6


class Loops:
    """Inputs, outputs, input values and references, outputs and inputs named."""

    def __init__(self):
        self.inputs, self.values, self.names = [], [], []
        self.outputs, self.expected, self.output_names = [], [], []

    def add_input(self, var, value):
        self.inputs.append(var)
        self.values.append(value)
        self.names.append(var.name)
        return var

    def add_output(self, name, var, expected):
        self.outputs.append(var)
        self.expected.append(expected)
        self.output_names.append(name)

    def output(self, name):
        return self.outputs[self.output_names.index(name)]

    def values_with(self, **by_name):
        """The input values with some replaced, by input name."""
        unknown = set(by_name) - set(self.names)
        if unknown:
            raise KeyError(f"no inputs named {sorted(unknown)} (inputs: {self.names})")
        return [by_name.get(n, v) for n, v in zip(self.names, self.values)]


def _steps(loops, steps, make, default):
    """A static step count, or a new input (its value ``default``)."""
    if steps is not None:
        return steps, steps
    return loops.add_input(make(), default), default


def build(power_steps=None, fib_steps=None, while_trace=True, rnn=False):
    loops = Loops()
    # Power of A (PyTensor's loop tutorial): A ** k by repeated multiplication.
    A = loops.add_input(pt.vector("A"), np.arange(3.0))
    k, k_value = _steps(loops, power_steps, lambda: pt.iscalar("k"), POWER_STEPS)
    power, updates = opgraph.scan(lambda prior, A: prior * A, outputs_info=pt.ones_like(A), non_sequences=A,
                                  n_steps=k)
    assert updates == {}
    loops.add_output("power", power[-1], np.arange(3.0) ** k_value)
    # Polynomial evaluation: coefficients scanned with arange(1000) (the shortest wins).
    coefficients = loops.add_input(pt.vector("coefficients"), np.array([1.0, 0, 2]))
    x = loops.add_input(pt.scalar("x"), 3.0)
    components, _ = opgraph.scan(lambda c, p, x: c * (x ** p), outputs_info=None,
                                 sequences=[coefficients, pt.arange(1000)], non_sequences=x)
    loops.add_output("polynomial", components.sum(), np.polynomial.polynomial.polyval(3.0, [1.0, 0, 2]))
    # Fibonacci with taps [-2, -1].
    f_init = loops.add_input(pt.vector("f_init"), np.array([0.0, 1.0]))
    n, n_value = _steps(loops, fib_steps, lambda: pt.lscalar("n"), FIB_STEPS)
    fib, _ = opgraph.scan(lambda a, b: a + b, outputs_info=dict(initial=f_init, taps=[-2, -1]), n_steps=n)
    seq = [0.0, 1.0]
    for _ in range(n_value):
        seq.append(seq[-2] + seq[-1])
    loops.add_output("fib", fib, np.array(seq[2:]))
    # A while loop: doubling until over the bound (the step that crosses it is included).
    bound = loops.add_input(pt.scalar("bound"), 20.0)
    doubling, _ = opgraph.scan(lambda p, b: (p * 2, until(p * 2 > b)), outputs_info=pt.constant(1.0),
                               non_sequences=bound, n_steps=100)
    trace = [2.0]
    while trace[-1] <= 20.0:
        trace.append(trace[-1] * 2)
    # (only the last value: lax.while_loop, the save_last rewrite)
    loops.add_output("doubling", doubling if while_trace else doubling[-1],
                     np.array(trace) if while_trace else trace[-1])
    # Sequence taps (a second difference), go_backwards, two outputs one of them not fed back.
    sv = np.array([1.0, 4, 9, 16])
    s = loops.add_input(pt.vector("s"), sv)
    second_diff, _ = opgraph.scan(lambda a, b, c: a - 2 * b + c, sequences=dict(input=s, taps=[-1, 0, 1]))
    loops.add_output("second_diff", second_diff, sv[:-2] - 2 * sv[1:-1] + sv[2:])
    backwards, _ = opgraph.scan(lambda v, acc: acc + v, sequences=s, outputs_info=pt.constant(0.0),
                                go_backwards=True)
    loops.add_output("backwards", backwards, np.cumsum(sv[::-1]))
    (running, squares), _ = opgraph.scan(lambda v, acc: (acc + v, v ** 2), sequences=s,
                                         outputs_info=[pt.constant(0.0), None])
    loops.add_output("running", running, np.cumsum(sv))
    loops.add_output("squares", squares, sv ** 2)
    # A matrix state and a closure over an outer variable (becomes a non-sequence).
    Mv = np.array([[0.0, -1.0], [1.0, 0.0]])
    M = loops.add_input(pt.matrix("M"), Mv)
    rotations, _ = opgraph.scan(lambda h: pt.dot(M, h), outputs_info=pt.eye(2), n_steps=3)
    loops.add_output("rotations", rotations[-1], np.linalg.matrix_power(Mv, 3))
    if rnn:
        _add_rnn(loops)
    return loops


def _add_rnn(loops):
    """h_t = tanh(W h_{t-1} + u_t) over the rows of u; the gradient of sum_t |h_t|^2 in W (a
    backward scan), against hand-written backpropagation through time."""
    rng = np.random.default_rng(0)
    Wv, uv, h0v = rng.standard_normal((3, 3)) * 0.5, rng.standard_normal((5, 3)), rng.standard_normal(3)
    W = loops.add_input(pt.matrix("W"), Wv)
    u = loops.add_input(pt.matrix("u"), uv)
    h0 = loops.add_input(pt.vector("h0"), h0v)
    hs, _ = opgraph.scan(lambda ut, h, W: pt.tanh(pt.dot(W, h) + ut), sequences=u, outputs_info=h0,
                         non_sequences=W)
    states = [h0v]
    for ut in uv:
        states.append(np.tanh(Wv @ states[-1] + ut))
    gW, carry = np.zeros_like(Wv), np.zeros(3)
    for t in range(len(uv), 0, -1):
        da = (2 * states[t] + carry) * (1 - states[t] ** 2)
        gW += np.outer(da, states[t - 1])
        carry = Wv.T @ da
    loops.add_output("rnn", hs, np.array(states[1:]))
    loops.add_output("rnn_grad", grad((hs ** 2).sum(), W), gW)

"""vectorize_graph through a scan: the batch dimensions go inside the step."""

import itertools

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.scan import Scan
from opgraph.scan.utils import until


def _reference(xs, a, h0=1.0):
    return np.array(list(itertools.accumulate(xs, lambda h, v: h * a + v, initial=h0))[1:])


def _loop():
    x = pt.vector("x")
    h0 = pt.scalar("h0")
    a = pt.scalar("a")
    out, _ = opgraph.scan(lambda v, h, a: h * a + v, sequences=x, outputs_info=h0, non_sequences=a)
    return x, h0, a, out


def test_batched_sequence():
    x, h0, a, out = _loop()
    xb = pt.matrix("xb")
    batched = opgraph.vectorize_graph(out, {x: xb})
    from opgraph.kernel_core.graph.traversal import ancestors

    assert any(v.owner is not None and isinstance(v.owner.op, Scan) for v in ancestors([batched]))
    xv = np.arange(6.0).reshape(2, 3)
    got = batched.eval({xb: xv, h0: 1.0, a: 0.5})
    np.testing.assert_allclose(got, np.stack([_reference(xv[0], 0.5), _reference(xv[1], 0.5)]))


def test_batched_non_sequence_broadcasts_the_state():
    x, h0, a, out = _loop()
    ab = pt.vector("ab")
    batched = opgraph.vectorize_graph(out, {a: ab})
    xv = np.arange(3.0)
    got = batched.eval({x: xv, h0: 1.0, ab: np.array([0.5, 2.0])})
    np.testing.assert_allclose(got, np.stack([_reference(xv, 0.5), _reference(xv, 2.0)]))


def test_batched_while_condition_raises():
    b = pt.scalar("b")
    out, _ = opgraph.scan(lambda p, b: (p * 2, until(p * 2 > b)), outputs_info=pt.constant(1.0),
                          non_sequences=b, n_steps=10)
    with pytest.raises(NotImplementedError, match="while condition became batched"):
        opgraph.vectorize_graph(out, {b: pt.vector("bb")})

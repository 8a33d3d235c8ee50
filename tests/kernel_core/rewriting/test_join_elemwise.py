"""join(a, f(x, c_1), ..., f(x, c_n)) -> f(x, join(a, c_1, ..., c_n)) (rewriting/join_elemwise.py, issue 21)."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.graph import rewrite_graph
from opgraph.kernel_core.graph.basic import Constant
from opgraph.kernel_core.graph.traversal import io_toposort
from opgraph.kernel_core.rewriting import join_elemwise
from opgraph.kernel_core.rewriting.history import RewriteHistory
from opgraph.kernel_core.tensor.join import Join

N = 20
XV = np.linspace(-1.0, 1.0, 5)


def rewritten(graph):
    h = RewriteHistory()
    out = rewrite_graph(graph, include=("canonicalize", "specialize"), history=h)
    return out, "join_of_elemwise" in h.rules_applied()


def joins(var):
    return [n for n in io_toposort([], [var]) if isinstance(n.op, Join)]


def evaluate(var, values):
    return opgraph.function(list(values), var, mode="PYTHON")(*values.values())


def test_stack_of_terms_differing_in_a_constant_is_one_elementwise_op():
    x = pt.vector("x")
    y = pt.stack([pt.exp(x * (k / N)) for k in range(N)])
    out, fired = rewritten(y)
    assert fired and not joins(out)
    # The n constants became one (n, 1) constant column.
    consts = [v for n in io_toposort([], [out]) for v in n.inputs if isinstance(v, Constant) and v.type.ndim == 2]
    assert [c.data.shape for c in consts] == [(N, 1)]
    want = np.stack([np.exp(XV * (k / N)) for k in range(N)])
    np.testing.assert_allclose(evaluate(out, {x: XV}), want, rtol=1e-15)
    assert out.type.shape[0] == N


def test_symbolic_varying_leaves_are_joined():
    # Stack on axis 1, leaves that are inputs: the vectors v_k and the scalars s_k.
    x = pt.vector("x")
    vs = [pt.vector(f"v{k}") for k in range(N)]
    ss = [pt.scalar(f"s{k}") for k in range(N)]
    y = pt.stack([pt.log1p(pt.exp(v) * s + x) for v, s in zip(vs, ss)], axis=1)
    out, fired = rewritten(y)
    assert fired
    # One join per varying position (the vectors, the scalars), no join of elementwise terms.
    assert len(joins(out)) == 2
    rng = np.random.default_rng(0)
    values = {x: XV, **{v: rng.uniform(size=5) for v in vs}, **{s: np.float64(rng.uniform()) for s in ss}}
    want = np.stack([np.log1p(np.exp(values[v]) * values[s] + XV) for v, s in zip(vs, ss)], axis=1)
    np.testing.assert_allclose(evaluate(out, values), want, rtol=1e-14)


def test_join_of_terms_of_length_one_without_expand_dims():
    m = pt.matrix("m", shape=(1, None))
    y = pt.concatenate([pt.sin(m + (k + 1)) for k in range(N)], axis=0)
    out, fired = rewritten(y)
    assert fired and not joins(out)
    mv = XV[None, :]
    np.testing.assert_allclose(evaluate(out, {m: mv}), np.concatenate([np.sin(mv + (k + 1)) for k in range(N)]),
                               rtol=1e-15)


@pytest.mark.parametrize("case", ["concatenate", "few", "different_ops", "equal_terms", "different_types"])
def test_left_alone(case):
    x = pt.vector("x")
    if case == "concatenate":        # terms not of length 1 on the axis
        y = pt.concatenate([pt.exp(x * (k / N)) for k in range(N)])
    elif case == "few":
        y = pt.stack([pt.exp(x * (k / N)) for k in range(join_elemwise.MIN_TERMS - 1)])
    elif case == "different_ops":
        y = pt.stack([(pt.exp if k % 2 else pt.sin)(x * (k / N)) for k in range(N)])
    elif case == "equal_terms":
        y = pt.stack([pt.exp(x)] * N)
    else:                            # a leaf of another static shape in one term
        y = pt.stack([pt.exp(x * (np.full(5, 2.0) if k == 3 else k / N)) for k in range(N)])
    out, fired = rewritten(y)
    assert not fired and joins(out)


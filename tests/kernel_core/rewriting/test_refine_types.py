"""Static types refined when rewrites learn more about a node's inputs (refine_types.py)."""

import numpy as np

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad
from opgraph.graph import rewrite_graph
from opgraph.kernel_core.graph.traversal import io_toposort
from opgraph.kernel_core.rewriting.history import RewriteHistory
from opgraph.kernel_core.rewriting.refine_types import RULE
from opgraph.kernel_core.tensor.join import Split
from opgraph.scan.utils import until
from opgraph.kernel_core.tensor.subtensor import IncSubtensor


def _nodes(out, op_class):
    outs = out if isinstance(out, list) else [out]
    return [n for n in io_toposort([], outs) if isinstance(n.op, op_class)]


def _rewrite(outs, include=("canonicalize",)):
    h = RewriteHistory()
    new = rewrite_graph(outs, include=include, history=h)
    return new, h.rules_applied()


def test_scan_traces_of_a_constant_step_count_have_static_length():
    x0 = pt.vector("x0", shape=(3,))
    trace, _ = opgraph.scan(lambda x: x * 2.0, outputs_info=[x0], n_steps=5)
    assert trace.type.shape == (5, 3)
    n = pt.lscalar("n")
    symbolic, _ = opgraph.scan(lambda x: x * 2.0, outputs_info=[x0], n_steps=n)
    assert symbolic.type.shape == (None, 3)
    # A while loop may stop early: its trace length is never static.
    stops, _ = opgraph.scan(lambda x: (x * 2.0, until(x.sum() > 10)),
                            outputs_info=[x0], n_steps=5)
    assert stops.type.shape == (None, 3)


def test_split_sizes_folded_to_a_constant_refine_the_pieces_and_their_clients():
    x = pt.matrix("x", shape=(6, 2))
    k = pt.lscalar("k")
    # The sizes are only known once x.shape[0] - 2 is folded: the pieces start vague.
    sizes = pt.stack([pt.constant(2, dtype="int64"), x.shape[0] - 2])
    first, rest = Split(2)(x, 0, sizes, return_list=True)
    out = (rest[1:] * 3.0).sum(axis=1) + k
    assert rest.type.shape == (None, 2)
    [new], rules = _rewrite([out])
    [split] = _nodes(new, Split)
    assert [o.type.shape for o in split.outputs] == [(2, 2), (4, 2)]
    assert RULE in rules
    assert new.type.shape == (3,)
    value = np.arange(12.0).reshape(6, 2)
    np.testing.assert_allclose(new.eval({x: value, k: 1}), (value[3:] * 3.0).sum(axis=1) + 1)


def test_the_hmm_gradient_loses_its_scatter_over_the_whole_trace():
    # The marginalized HMM's gradient scatters a piece of the forward trace's cotangent into
    # zeros of the whole trace (the gradient of a Join, then of a Subtensor).  That scatter
    # covers every row, so incsubtensor_of_whole removes it -- once the trace's length is
    # static: the Scans are re-built with a constant step count during rewriting, and the
    # Split, the Subtensors and the scatter below them are refined after them.
    from opgraph.logprob import DiscreteMarkovChain, marginalize

    logits, mus = pt.matrix("logits", shape=(3, 3)), pt.vector("mus", shape=(3,))
    chain = DiscreteMarkovChain(pt.special.softmax(logits, axis=1), steps=5,
                                init_probs=np.full(3, 1.0 / 3.0), name="chain")
    y = pt.random.normal(mus[chain], 0.7, name="y")
    lp = marginalize({chain: pt.lvector("chain_v"), y: pt.constant(np.linspace(-1.0, 1.0, 6))}, [chain])
    outs = [lp, *grad(lp, [logits, mus])]
    new, rules = _rewrite(outs, include=("fast_run",))
    assert RULE in rules
    scatters = [n for n in _nodes(new, IncSubtensor)]
    assert [(n.op.set_instead_of_inc, n.inputs[0].type.shape) for n in scatters] == [(False, (5, 3))]
    vals = [np.array([[0.2, -0.1, 0.4], [1.0, 0.3, -0.6], [0.0, 0.5, 0.1]]), np.array([-1.5, 0.2, 2.0])]
    f_new = opgraph.function([logits, mus], new, mode="PYTHON", accept_inplace=True)
    f_ref = opgraph.function([logits, mus], outs, mode=opgraph.Mode("PYTHON", optimizer=None))
    for got, want in zip(f_new(*vals), f_ref(*vals)):
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_a_length_that_becomes_one_is_not_refined_to_broadcast():
    # x[:n] with n folded to 1 would become a static 1, which broadcasts: a length-1 axis
    # that was not declared broadcastable must stay a run-time error against a longer one.
    x = pt.vector("x", shape=(4,))
    y = pt.vector("y")
    n = x.shape[0] - 3
    head = x[:n]
    assert head.type.shape == (None,)
    [new], _ = _rewrite([head + y])
    assert new.type.shape == (None,)
    f = opgraph.function([x, y], new, mode="PYTHON")
    np.testing.assert_allclose(f(np.arange(4.0), np.ones(1)), [1.0])
    try:
        f(np.arange(4.0), np.ones(3))
    except ValueError as exc:
        assert "broadcast" in str(exc).lower() or "shape" in str(exc).lower()
    else:
        raise AssertionError("a run-time length-1 axis broadcast against 3 must raise")


def test_graphs_whose_inputs_never_change_type_re_make_nothing(monkeypatch):
    from opgraph.kernel_core.rewriting import refine_types

    calls = []
    real = refine_types.refined_outputs
    monkeypatch.setattr(refine_types, "refined_outputs", lambda node: calls.append(node) or real(node))
    x = pt.vector("x")
    out = x
    for k in range(50):
        out = pt.exp(out) * (k + 1.0)
    rewrite_graph(out, include=("canonicalize",))
    assert calls == []

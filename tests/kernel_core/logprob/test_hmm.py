"""DiscreteMarkovChain and the forward algorithm: the chain's logp, draws, the marginalized
HMM against brute-force enumeration (T = 4, 3 states) and a NumPy forward algorithm
(T = 1,000, compiled with NUMBA), the gradient w.r.t. the transition matrix by finite
differences, a graph whose size does not depend on T, and recover_marginals (mixture and
forward-backward) against brute force."""

import itertools
from functools import lru_cache

import numpy as np
import pytest
import scipy.special as sps
import scipy.stats as st

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad
from opgraph.kernel_core.graph.traversal import ancestors
from opgraph.logprob import DiscreteMarkovChain, logp, marginalize, recover_marginals

P0 = np.array([[0.8, 0.15, 0.05], [0.1, 0.7, 0.2], [0.25, 0.25, 0.5]])
INIT = np.array([0.5, 0.3, 0.2])
MU = np.array([-1.0, 0.5, 2.0])
SIGMA = 0.7


def _hmm(steps):
    P = pt.matrix("P", shape=(3, 3))
    chain = DiscreteMarkovChain(P, steps=steps, init_probs=INIT, name="z")
    y = pt.random.normal(pt.constant(MU)[chain], SIGMA, name="y")
    zv, yv = pt.lvector("zv"), pt.vector("yv")
    return P, chain, y, zv, yv


def _chain_logp(path, P=P0):
    return np.log(INIT[path[0]]) + sum(np.log(P[path[i - 1], path[i]]) for i in range(1, len(path)))


def _brute(Y, P=P0):
    T = len(Y)
    joint = [_chain_logp(a, P) + st.norm(MU[list(a)], SIGMA).logpdf(Y).sum()
             for a in itertools.product(range(3), repeat=T)]
    return np.logaddexp.reduce(joint), joint


def _numpy_forward(Y, P=P0):
    E = st.norm(MU[None, :], SIGMA).logpdf(Y[:, None])
    a = np.log(INIT) + E[0]
    for t in range(1, len(Y)):
        a = sps.logsumexp(a[:, None] + np.log(P), axis=0) + E[t]
    return sps.logsumexp(a)


def test_chain_logp_and_draws():
    P, chain, _, zv, _ = _hmm(3)
    path = np.array([0, 1, 1, 2])
    np.testing.assert_allclose(logp(chain, zv).eval({zv: path, P: P0}), _chain_logp(path), rtol=1e-13)
    assert logp(chain, zv).eval({zv: np.array([0, 3, 1, 2]), P: P0}) == -np.inf
    f = opgraph.function([P], chain, updates=chain.tag.updates, mode="PYTHON")
    draws = np.array([f(P0) for _ in range(300)])
    assert draws.shape == (300, 4) and set(np.unique(draws)) <= {0, 1, 2}
    # A chain that never leaves state 2 once there, started in 2: every draw is all 2s.
    absorbing = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    chain2 = DiscreteMarkovChain(absorbing, steps=5, init_probs=[0.0, 0.0, 1.0])
    assert np.all(chain2.eval() == 2)


def test_hmm_matches_brute_force_enumeration():
    P, chain, y, zv, yv = _hmm(3)
    lp = marginalize({chain: zv, y: yv}, [chain])
    Y = np.array([0.1, -1.2, 2.5, 0.3])
    brute, _ = _brute(Y)
    np.testing.assert_allclose(lp.eval({yv: Y, P: P0}), brute, rtol=1e-13)
    (term,) = marginalize({chain: zv, y: yv}, [chain], sum=False)
    assert term.name == "z_marginal_logprob"


@lru_cache(maxsize=None)
def _long_hmm_function():
    P, chain, y, zv, yv = _hmm(999)
    lp = marginalize({chain: zv, y: yv}, [chain])
    return opgraph.function([yv, P], [lp, grad(lp, P)], mode="NUMBA"), lp


def test_hmm_at_1000_steps_matches_numpy_forward_and_gradient_by_finite_differences():
    f, _ = _long_hmm_function()
    Y = np.random.default_rng(0).normal(size=1000) * 1.5
    value, g = f(Y, P0)
    np.testing.assert_allclose(value, _numpy_forward(Y), rtol=1e-11)
    eps = 1e-6
    for i, j in [(0, 0), (0, 2), (1, 1), (2, 0), (2, 2)]:
        Pp, Pm = P0.copy(), P0.copy()
        Pp[i, j] += eps
        Pm[i, j] -= eps
        fd = (_numpy_forward(Y, Pp) - _numpy_forward(Y, Pm)) / (2 * eps)
        np.testing.assert_allclose(g[i, j], fd, rtol=1e-6)


def test_graph_size_does_not_depend_on_the_number_of_steps():
    sizes = []
    for steps in (3, 30, 999):
        P, chain, y, zv, yv = _hmm(steps)
        lp = marginalize({chain: zv, y: yv}, [chain])
        sizes.append(len([v for v in ancestors([lp]) if v.owner is not None]))
    assert sizes[0] == sizes[1] == sizes[2]


def test_recover_marginals_of_the_hmm_is_forward_backward():
    P, chain, y, zv, yv = _hmm(3)
    Y = np.array([0.1, -1.2, 2.5, 0.3])
    post = recover_marginals({chain: zv, y: yv}, [chain])[chain]
    got = post.eval({yv: Y, P: P0})
    brute, joint = _brute(Y)
    want = np.zeros((4, 3))
    for a, lj in zip(itertools.product(range(3), repeat=4), joint):
        for t, k in enumerate(a):
            want[t, k] += np.exp(lj - brute)
    assert got.shape == (4, 3) and post.name == "p_z"
    np.testing.assert_allclose(got, want, rtol=1e-12)
    lp_post = recover_marginals({chain: zv, y: yv}, [chain], return_log=True)[chain]
    np.testing.assert_allclose(lp_post.eval({yv: Y, P: P0}), np.log(want), rtol=1e-12)


def test_recover_marginals_of_a_mixture():
    w = np.array([0.2, 0.5, 0.3])
    z = pt.random.categorical(w, size=(5,), name="z")
    y = pt.random.normal(pt.constant(MU)[z], 1.5, name="y")
    zv, yv = pt.lvector("zv"), pt.vector("yv")
    Y = np.array([0.1, -1.5, 2.2, 3.0, -0.4])
    got = recover_marginals({z: zv, y: yv}, [z])[z].eval({yv: Y})
    joint = np.log(w)[None, :] + st.norm(MU[None, :], 1.5).logpdf(Y[:, None])
    np.testing.assert_allclose(got, np.exp(joint - sps.logsumexp(joint, axis=1, keepdims=True)), rtol=1e-12)
    # A global switch: a (2,) posterior.
    b = pt.random.bernoulli(0.3, name="b")
    y2 = pt.random.normal(pt.switch(b, 2.0, 0.0), 1.0, size=(3,), name="y2")
    bv, y2v = pt.lscalar("bv"), pt.vector("y2v")
    Y2 = np.array([1.5, 2.5, 0.9])
    post = recover_marginals({b: bv, y2: y2v}, [b])[b].eval({y2v: Y2})
    lj = np.log([0.7, 0.3]) + np.array([st.norm(0, 1).logpdf(Y2).sum(), st.norm(2, 1).logpdf(Y2).sum()])
    np.testing.assert_allclose(post, np.exp(lj - sps.logsumexp(lj)), rtol=1e-12)


def test_refusals():
    P = pt.matrix("P", shape=(3, 3))
    with pytest.raises(ValueError, match="steps must be a positive int"):
        DiscreteMarkovChain(P, steps=0)
    with pytest.raises(ValueError, match="static"):
        DiscreteMarkovChain(pt.matrix("Q"), steps=3)
    with pytest.raises(ValueError, match="init_dist or init_probs"):
        DiscreteMarkovChain(P, steps=3, init_probs=INIT, init_dist=pt.random.categorical(INIT))
    chain = DiscreteMarkovChain(P, steps=3, init_dist=pt.random.categorical(INIT))
    # An emission that reduces over the chain does not keep its steps apart.
    y = pt.random.normal(pt.constant(MU)[chain].sum(), 1.0, name="y")
    with pytest.raises(NotImplementedError, match="does not keep the entries"):
        marginalize({chain: pt.lvector("zv"), y: pt.scalar("yv")}, [chain])


def test_forward_step_is_a_scaled_matvec_and_the_outer_graph_lean():
    from opgraph.kernel_core.compile.mode import Mode
    from opgraph.kernel_core.scan.op import Scan

    P, chain, y, zv, yv = _hmm(30)
    lp = marginalize({chain: zv, y: yv}, [chain])
    f = opgraph.function([yv, P], [lp, grad(lp, P)], mode=Mode(linker="py", optimizer="fast_run"))
    nodes = list(f.maker.fgraph.apply_nodes)
    (fwd,) = [n for n in nodes if isinstance(n.op, Scan) and "grad" not in n.op.name]
    step = [v.owner for v in ancestors(fwd.op.inner_outputs, blockers=fwd.op.inner_inputs) if v.owner is not None]
    inner = [type(n.op).__name__ for n in set(step)]
    # K exponentials of the shifted alpha, one matrix-vector product with P, one max (of a vector).
    assert inner.count("Dot") == 1 and inner.count("Max") == 1 and len(inner) <= 8
    assert all(n.outputs[0].type.ndim <= 1 for n in step)
    # emissions[0] / emissions[1:] are one Split (their gradient one Join), no x[0:] slices.
    names = [type(n.op).__name__ for n in nodes]
    assert names.count("Split") == 1 and "ConsiderConstant" not in names
    Y = np.random.default_rng(3).normal(size=31)
    value, g = f(Y, P0)
    np.testing.assert_allclose(value, _numpy_forward(Y), rtol=1e-12)
    i, j, eps = 1, 2, 1e-6
    Pp, Pm = P0.copy(), P0.copy()
    Pp[i, j] += eps
    Pm[i, j] -= eps
    np.testing.assert_allclose(g[i, j], (_numpy_forward(Y, Pp) - _numpy_forward(Y, Pm)) / (2 * eps), rtol=1e-6)


def test_backward_step_reads_the_forward_products_instead_of_recomputing_them():
    """The gradient's loop: one matrix-vector product and fused elementwise work per step
    (the forward step's exp(alpha - m) and P.T @ . come back as its traces), and it reads
    only the sequences it uses -- no zero cotangents of unused traces, no alpha trace."""
    from opgraph.kernel_core.compile.mode import Mode
    from opgraph.kernel_core.scan.op import Scan
    from opgraph.kernel_core.scan.rewrites import _fill_value

    P, chain, y, zv, yv = _hmm(30)
    lp = marginalize({chain: zv, y: yv}, [chain])
    f = opgraph.function([yv, P], [lp, *grad(lp, [P, yv])], mode=Mode(linker="py", optimizer="fast_run"))
    scans = [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Scan)]
    (back,) = [n for n in scans if "grad" in n.op.name]
    step = {v.owner for v in ancestors(back.op.inner_outputs, blockers=back.op.inner_inputs) if v.owner is not None}
    kinds = sorted(type(n.op).__name__ for n in step)
    assert kinds.count("Dot") == 1 and "Max" not in kinds and len(kinds) <= 3, kinds
    seqs = back.op.outer_groups(back.inputs)[1]
    assert len(seqs) == 3 and all(_fill_value(s) is None for s in seqs)
    Y = np.random.default_rng(5).normal(size=31)
    value, gP, gy = f(Y, P0)
    np.testing.assert_allclose(value, _numpy_forward(Y), rtol=1e-12)
    eps = 1e-6
    for i, j in [(0, 1), (2, 2)]:
        Pp, Pm = P0.copy(), P0.copy()
        Pp[i, j] += eps
        Pm[i, j] -= eps
        np.testing.assert_allclose(gP[i, j], (_numpy_forward(Y, Pp) - _numpy_forward(Y, Pm)) / (2 * eps), rtol=1e-6)
    for t in (0, 17, 30):
        Yp, Ym = Y.copy(), Y.copy()
        Yp[t] += eps
        Ym[t] -= eps
        np.testing.assert_allclose(gy[t], (_numpy_forward(Yp) - _numpy_forward(Ym)) / (2 * eps), rtol=1e-6)
    # logp alone: the two extra traces are dropped, the forward loop has no per-step outputs.
    g = opgraph.function([yv, P], lp, mode=Mode(linker="py", optimizer="fast_run"))
    (fwd,) = [n for n in g.maker.fgraph.apply_nodes if isinstance(n.op, Scan)]
    assert fwd.op.n_nit == 0
    np.testing.assert_allclose(g(Y, P0), value, rtol=1e-13)


def test_marginalized_chain_checks_its_transition_matrix():
    from opgraph.logprob import ParameterValueError

    P, chain, y, zv, yv = _hmm(3)
    lp = marginalize({chain: zv, y: yv}, [chain])
    bad = P0.copy()
    bad[0] = [1.1, -0.1, 0.0]
    with pytest.raises(ParameterValueError, match="P >= 0"):
        lp.eval({yv: np.zeros(4), P: bad})

"""Marginalization of finite discrete variables: mixtures against brute-force enumeration,
a global Bernoulli switch, integers, a graph whose size does not grow with n, the gradient
by finite differences, and the refusals (infinite support, entries not kept apart)."""

import itertools

import numpy as np
import pytest
import scipy.stats as st

import opgraph.tensor as pt
from opgraph.gradient import grad
from opgraph.kernel_core.graph.traversal import ancestors
from opgraph.logprob import marginalize

W = np.array([0.2, 0.5, 0.3])
MUS = np.array([-2.0, 0.5, 3.0])


def _mixture(n, mus=None):
    z = pt.random.categorical(W, size=(n,), name="z")
    mus = pt.constant(MUS) if mus is None else mus
    y = pt.random.normal(mus[z], 1.5, name="y")
    zv, yv = pt.lvector("zv"), pt.vector("yv")
    return z, y, zv, yv


def test_mixture_matches_brute_force_enumeration():
    z, y, zv, yv = _mixture(4)
    lp = marginalize({z: zv, y: yv}, [z])
    Y = np.array([0.1, -1.5, 2.2, 3.0])
    brute = np.logaddexp.reduce([np.sum(np.log(W[list(a)]) + st.norm(MUS[list(a)], 1.5).logpdf(Y))
                                 for a in itertools.product(range(3), repeat=4)])
    np.testing.assert_allclose(lp.eval({yv: Y}), brute, rtol=1e-12)
    per_point = marginalize({z: zv, y: yv}, [z], sum=False)
    assert len(per_point) == 1 and per_point[0].name == "z_marginal_logprob"
    mix = np.log(sum(w * st.norm(m, 1.5).pdf(Y) for w, m in zip(W, MUS)))
    np.testing.assert_allclose(per_point[0].eval({yv: Y}), mix, rtol=1e-12)


def test_graph_size_does_not_grow_with_n():
    """n independent indicators: O(n K) work in a graph of constant size (K^n would be hopeless)."""
    sizes = []
    for n in (3, 30, 3000):
        z, y, zv, yv = _mixture(n)
        lp = marginalize({z: zv, y: yv}, [z])
        sizes.append(len([v for v in ancestors([lp]) if v.owner is not None]))
    assert sizes[0] == sizes[1] == sizes[2]
    z, y, zv, yv = _mixture(3000)
    Y = np.random.default_rng(0).normal(size=3000)
    mix = np.log(sum(w * st.norm(m, 1.5).pdf(Y) for w, m in zip(W, MUS))).sum()
    np.testing.assert_allclose(marginalize({z: zv, y: yv}, [z]).eval({yv: Y}), mix, rtol=1e-11)


def test_global_bernoulli_and_integers_and_other_terms_kept():
    b = pt.random.bernoulli(0.2, name="b")
    sigma = pt.random.halfnormal(0.0, 1.0, name="sigma")
    y = pt.random.normal(pt.switch(b, 3.0, 0.0), sigma, size=(3,), name="y")
    bv, sv, yv = pt.lscalar("bv"), pt.scalar("sv"), pt.vector("yv")
    lp = marginalize({b: bv, sigma: sv, y: yv}, [b])
    Y = np.array([0.1, -1.5, 2.2])
    want = (np.logaddexp(np.log(0.8) + st.norm(0, 0.7).logpdf(Y).sum(), np.log(0.2) + st.norm(3, 0.7).logpdf(Y).sum())
            + st.halfnorm.logpdf(0.7))
    np.testing.assert_allclose(lp.eval({yv: Y, sv: 0.7}), want, rtol=1e-12)
    k = pt.random.integers(1, 4, name="k")
    x = pt.random.poisson(pt.cast(k, "float64") * 2.0, name="x")
    kv, xv = pt.lscalar("kv"), pt.lscalar("xv")
    got = marginalize({k: kv, x: xv}, [k]).eval({xv: 5})
    np.testing.assert_allclose(got, np.log(np.mean([st.poisson(2.0 * j).pmf(5) for j in (1, 2, 3)])), rtol=1e-12)


def test_gradient_of_the_marginal_logp_by_finite_differences():
    mus = pt.vector("mus")
    z, y, zv, yv = _mixture(5, mus)
    lp = marginalize({z: zv, y: yv}, [z])
    g = grad(lp, mus)
    Y = np.array([0.3, -2.5, 1.0, 4.0, 0.0])
    m0 = np.array([-1.0, 0.0, 2.0])
    num = [(lp.eval({yv: Y, mus: m0 + e}) - lp.eval({yv: Y, mus: m0 - e})) / 2e-6 for e in np.eye(3) * 1e-6]
    np.testing.assert_allclose(g.eval({yv: Y, mus: m0}), num, rtol=1e-6)


def test_refusals_name_the_variable():
    p = pt.random.poisson(3.0, name="p")
    y = pt.random.normal(pt.cast(p, "float64"), 1.0, name="y")
    with pytest.raises(NotImplementedError, match="finite support"):
        marginalize({p: pt.lscalar("pv"), y: pt.scalar("yv")}, [p])
    z = pt.random.bernoulli(0.5, size=(4,), name="z")
    s = pt.random.normal(pt.sum(z).astype("float64"), 1.0, name="s")
    with pytest.raises(NotImplementedError, match="keep the entries"):
        marginalize({z: pt.lvector("zv"), s: pt.scalar("sv")}, [z])
    with pytest.raises(ValueError, match="key of rv_values"):
        marginalize({y: pt.scalar("yv")}, [p])


def _rewritten(inputs, outputs):
    import opgraph
    from opgraph.kernel_core.compile.mode import Mode

    return opgraph.function(inputs, outputs, mode=Mode(linker="py", optimizer="fast_run"))


def _op_names(fgraph):
    return [type(n.op).__name__ for n in fgraph.apply_nodes]


def test_stable_logsumexp_shifts_once_and_its_gradient_is_the_softmax():
    from opgraph.kernel_core.logprob.hmm import stable_logsumexp

    x = pt.matrix("x")
    lse = stable_logsumexp(x, axis=0)
    f = _rewritten([x], [lse, grad(lse.sum(), x)])
    names = _op_names(f.maker.fgraph)
    # One max, no max-gradient mask (eq(x, max) / count), no ConsiderConstant left.
    assert names.count("Max") == 1 and "ConsiderConstant" not in names
    assert not any("eq" in str(n.op).lower() for n in f.maker.fgraph.apply_nodes)
    X = np.array([[1000.0, -np.inf, 1.0], [999.0, -np.inf, -2.0]])
    v, g = f(X)
    want = np.array([1000.0 + np.log1p(np.exp(-1.0)), -np.inf, 1.0 + np.log1p(np.exp(-3.0))])
    np.testing.assert_allclose(v, want, rtol=1e-14)
    sm = np.exp(X[:, [0, 2]] - want[[0, 2]])
    np.testing.assert_allclose(g[:, [0, 2]], sm, rtol=1e-12)


def test_mixture_graph_is_lean_and_its_checks_still_raise():
    from opgraph.logprob import ParameterValueError

    sigma = pt.scalar("sigma")
    z = pt.random.categorical(W, size=(50,), name="z")
    y = pt.random.normal(pt.constant(MUS)[z], sigma, name="y")
    Y = np.linspace(-3.0, 4.0, 50)
    lp = marginalize({z: pt.lvector("zv"), y: pt.constant(Y)}, [z])
    f = _rewritten([sigma], [lp, grad(lp, sigma)])
    names = _op_names(f.maker.fgraph)
    # A (3, 1) weight term broadcasts in the sum (no Alloc to (3, 50)); one max shift.
    assert "Alloc" not in names and names.count("Max") == 1
    # The sigma > 0 check sits on the (50,) marginal term, not on the (3, 50) values.
    checks = [n for n in f.maker.fgraph.apply_nodes if type(n.op).__name__ == "CheckParameterValue"]
    assert checks and all(n.outputs[0].type.ndim == 1 for n in checks)
    joint = np.log(W)[:, None] + st.norm(MUS[:, None], 1.3).logpdf(Y[None, :])
    np.testing.assert_allclose(f(1.3)[0], np.logaddexp.reduce(joint, axis=0).sum(), rtol=1e-12)
    with pytest.raises(ParameterValueError, match="sigma > 0"):
        f(-1.0)

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

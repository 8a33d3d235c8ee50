"""logp / conditional_logp / joint_logp: seed 002's golden, hierarchical conditioning, errors."""

import textwrap

import numpy as np
import pytest
import scipy.stats as st

import opgraph
import opgraph.tensor as pt
from opgraph.logprob import NotMeasurableError, conditional_logp, icdf, joint_logp, logcdf, logp


def golden(text):
    return textwrap.dedent(text).lstrip("\n")


def test_seed_002_normal_logp_golden():
    z = pt.random.normal(np.array([0, 0]), np.array([1, 2]), name="z")
    z_value = pt.vector(name="z_value")
    z_logp = logp(rv=z, value=z_value)
    assert opgraph.dprint(z_logp, file="str") == golden("""
        Check{sigma > 0} [id A] 'z_logprob'
         ├─ Sub [id B]
         │  ├─ Sub [id C]
         │  │  ├─ Mul [id D]
         │  │  │  ├─ ExpandDims{axis=0} [id E]
         │  │  │  │  └─ -0.5 [id F]
         │  │  │  └─ Pow [id G]
         │  │  │     ├─ True_div [id H]
         │  │  │     │  ├─ Sub [id I]
         │  │  │     │  │  ├─ z_value [id J]
         │  │  │     │  │  └─ [0 0] [id K]
         │  │  │     │  └─ [1 2] [id L]
         │  │  │     └─ ExpandDims{axis=0} [id M]
         │  │  │        └─ 2 [id N]
         │  │  └─ ExpandDims{axis=0} [id O]
         │  │     └─ Log [id P]
         │  │        └─ Sqrt [id Q]
         │  │           └─ 6.283185307179586 [id R]
         │  └─ Log [id S]
         │     └─ [1 2] [id L]
         └─ All{axes=None} [id T]
            └─ MakeVector{dtype='bool'} [id U]
               └─ All{axes=None} [id V]
                  └─ Gt [id W]
                     ├─ [1 2] [id L]
                     └─ ExpandDims{axis=0} [id X]
                        └─ 0 [id Y]
        """)
    assert str(z_logp.owner) == "Check{sigma > 0}(Sub.0, All{axes=None}.0)"
    got = z_logp.eval({z_value: [0, 0]})
    np.testing.assert_allclose(got, [-0.91893853, -1.61208571], rtol=1e-8)
    np.testing.assert_allclose(got, st.norm.logpdf(np.array([0, 0]), loc=np.array([0, 0]), scale=np.array([1, 2])),
                               rtol=1e-14)


def test_logp_does_not_touch_the_generative_graph():
    z = pt.random.normal(0.0, 1.0, size=(3,), name="z")
    before = z.dprint(file="str")
    logp(z, pt.vector("v"))
    assert z.dprint(file="str") == before


def test_conditional_logp_of_a_hierarchical_model_conditions_on_parent_values():
    mu = pt.random.normal(0.0, 2.0, name="mu")
    y = pt.random.normal(mu, 1.0, size=(3,), name="y")
    mu_v, y_v = pt.scalar("mu_v"), pt.vector("y_v")
    terms = conditional_logp({mu: mu_v, y: y_v})
    assert set(terms) == {mu_v, y_v}
    assert terms[y_v].name == "y_logprob" and terms[mu_v].name == "mu_logprob"
    from opgraph.kernel_core.graph.traversal import ancestors
    from opgraph.kernel_core.tensor.random.op import RandomVariable

    for t in terms.values():    # no random variable left: every parent is its value
        assert not any(a.owner is not None and isinstance(a.owner.op, RandomVariable) for a in ancestors([t]))
    vals = {mu_v: 0.7, y_v: np.array([0.1, 1.5, -0.3])}
    np.testing.assert_allclose(terms[y_v].eval(vals), st.norm.logpdf(vals[y_v], 0.7, 1.0), rtol=1e-12)
    np.testing.assert_allclose(terms[mu_v].eval(vals), st.norm.logpdf(0.7, 0.0, 2.0), rtol=1e-12)
    total = joint_logp({mu: mu_v, y: y_v})
    assert total.type.ndim == 0
    np.testing.assert_allclose(total.eval(vals), st.norm.logpdf(0.7, 0, 2) + st.norm.logpdf(vals[y_v], 0.7, 1).sum(),
                               rtol=1e-12)
    assert len(joint_logp({mu: mu_v, y: y_v}, sum=False)) == 2


def test_not_measurable_error_names_the_variable_and_the_op():
    x = pt.random.normal(0.0, 1.0, size=(3,), name="x")
    y = pt.cumsum(x)
    y.name = "y"
    with pytest.raises(NotMeasurableError, match=r"'y'.*CumOp|'y'.*Cum") as info:
        logp(y, pt.vector("v"))
    assert "'y'" in str(info.value)
    w = pt.vector("w")
    with pytest.raises(NotMeasurableError, match="no random variable"):
        logp(pt.exp(w), pt.vector("v"))
    two = pt.random.normal(0.0, 1.0, name="a") + pt.random.normal(0.0, 1.0, name="b")
    with pytest.raises(NotMeasurableError, match="several random inputs"):
        logp(two, pt.scalar("v"))
    with pytest.raises(NotMeasurableError, match="icdf"):
        icdf(pt.exp(x), pt.vector("q"))
    with pytest.raises(TypeError, match="unexpected keyword"):
        logp(x, pt.vector("v"), jacobian=True)
    with pytest.raises(TypeError, match="dict"):
        conditional_logp([x])
    with pytest.raises(TypeError, match="rv must be"):
        logcdf(np.zeros(3), pt.vector("v"))

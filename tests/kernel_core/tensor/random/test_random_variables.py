"""Random variables: graphs, shapes, generators and updates, errors, rewrites (seed 002)."""

import io
import re
import subprocess
import sys
from contextlib import redirect_stdout

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import NullTypeGradError, grad
from opgraph.graph import rewrite_graph
from opgraph.graph.replace import graph_replace, vectorize_graph
from opgraph.kernel_core.tensor.random.op import RandomVariable
from opgraph.kernel_core.tensor.random.type import RandomGeneratorSharedVariable, RandomGeneratorType
from opgraph.kernel_core.tensor.subtensor import Subtensor


def _dprint(var, **kw):
    buf = io.StringIO()
    with redirect_stdout(buf):
        opgraph.dprint(var, **kw)
    return re.sub(r"at 0x[0-9A-F]+", "at 0x...", buf.getvalue())


def _rng_of(draw):
    return draw.owner.inputs[0]


# -- seed 002 ---------------------------------------------------------------------------
def test_seed_002_dprint_golden():
    x = pt.random.normal(loc=0, scale=1, size=(10,))
    y = pt.exp(x)
    assert _dprint(y) == (
        'Exp [id A]\n'
        ' └─ normal_rv{"(),()->()"}.1 [id B]\n'
        '    ├─ RNG(<Generator(PCG64) at 0x...>) [id C]\n'
        '    ├─ [10] [id D]\n'
        '    ├─ ExpandDims{axis=0} [id E]\n'
        '    │  └─ 0 [id F]\n'
        '    └─ ExpandDims{axis=0} [id G]\n'
        '       └─ 1 [id H]\n')
    x_input = pt.tensor("x_input", shape=(10,))
    y2 = graph_replace(y, {x: x_input})
    assert _dprint(y2) == "Exp [id A]\n └─ x_input [id B]\n"
    assert y2.eval({x_input: np.zeros(10)}).tolist() == [1.0] * 10


# -- shapes, dtypes, broadcasting --------------------------------------------------------
V3 = np.array([0.2, 0.5, 0.7])
M23 = np.ones((2, 3))
SHAPES = [
    # (call, static shape, dtype)
    (lambda: pt.random.normal(V3, M23), (2, 3), "float64"),
    (lambda: pt.random.normal(0.0, V3, size=(4, 3)), (4, 3), "float64"),
    (lambda: pt.random.normal(size=(2,), dtype="float32"), (2,), "float32"),
    (lambda: pt.random.uniform(V3, 2.0), (3,), "float64"),
    (lambda: pt.random.integers(0, [3, 5]), (2,), "int64"),
    (lambda: pt.random.integers(10, size=(5,)), (5,), "int64"),
    (lambda: pt.random.bernoulli(V3, size=(2, 3)), (2, 3), "int64"),
    (lambda: pt.random.binomial(np.array([[3], [4]]), V3), (2, 3), "int64"),
    (lambda: pt.random.poisson(V3), (3,), "int64"),
    (lambda: pt.random.negative_binomial(2.0, V3), (3,), "int64"),
    (lambda: pt.random.geometric(V3), (3,), "int64"),
    (lambda: pt.random.exponential(V3), (3,), "float64"),
    (lambda: pt.random.gamma(V3, rate=2.0), (3,), "float64"),
    (lambda: pt.random.beta(V3, M23), (2, 3), "float64"),
    (lambda: pt.random.lognormal(V3), (3,), "float64"),
    (lambda: pt.random.halfnormal(size=(2, 2)), (2, 2), "float64"),
    (lambda: pt.random.halfcauchy(V3), (3,), "float64"),
    (lambda: pt.random.cauchy(V3), (3,), "float64"),
    (lambda: pt.random.laplace(V3), (3,), "float64"),
    (lambda: pt.random.logistic(V3), (3,), "float64"),
    (lambda: pt.random.gumbel(V3), (3,), "float64"),
    (lambda: pt.random.standard_normal(size=(3, 1)), (3, 1), "float64"),
    (lambda: pt.random.t(V3, 0.0, M23), (2, 3), "float64"),
    (lambda: pt.random.chisquare(V3), (3,), "float64"),
    (lambda: pt.random.weibull(V3, size=(2, 3)), (2, 3), "float64"),
    (lambda: pt.random.vonmises(V3, 1.0), (3,), "float64"),
    (lambda: pt.random.categorical(np.full((2, 4), 0.25)), (2,), "int64"),
    (lambda: pt.random.categorical([0.5, 0.5], size=(3, 2)), (3, 2), "int64"),
    (lambda: pt.random.multinomial([5, 10], np.full(4, 0.25)), (2, 4), "int64"),
    (lambda: pt.random.multinomial(5, np.full(4, 0.25), size=(3,)), (3, 4), "int64"),
    (lambda: pt.random.multivariate_normal(np.zeros(2), np.eye(2), size=(5,)), (5, 2), "float64"),
    (lambda: pt.random.multivariate_normal(np.zeros((3, 2)), np.eye(2)), (3, 2), "float64"),
    (lambda: pt.random.dirichlet(np.ones((2, 4))), (2, 4), "float64"),
    (lambda: pt.random.choice(5, size=(2, 3)), (2, 3), "int64"),
    (lambda: pt.random.choice(np.array([1.5, 2.5]), size=(4,), p=[0.3, 0.7]), (4,), "float64"),
    (lambda: pt.random.choice(6, size=(2, 2), replace=False), (2, 2), "int64"),
    (lambda: pt.random.permutation(5), (5,), "int64"),
    (lambda: pt.random.permutation(np.arange(6.0).reshape(2, 3)), (2, 3), "float64"),
]


@pytest.mark.parametrize("k", range(len(SHAPES)))
def test_shape_dtype_broadcasting(k):
    make, shape, dtype = SHAPES[k]
    x = make()
    assert x.type.dtype == dtype
    value = x.eval()
    assert value.shape == shape and value.dtype == dtype
    if None not in x.type.shape:
        assert x.type.shape == shape


def test_parameters_broadcast_like_numpy():
    """The draw is NumPy's Generator with the same broadcast parameters and seed."""
    rng = pt.random.shared_rng(seed=3)
    mu = np.array([0.0, 10.0, 20.0])
    sigma = np.array([[1.0], [2.0]])
    x = pt.random.normal(mu, sigma, rng=rng)
    np.testing.assert_array_equal(x.eval(), np.random.default_rng(3).normal(mu, sigma))


def test_symbolic_size():
    n = pt.lscalar("n")
    x = pt.random.normal(0, 1, size=(n, 3))
    assert x.type.shape == (None, 3)
    assert x.eval({n: 4}).shape == (4, 3)
    sv = pt.lvector("sv")
    y = pt.random.poisson(2.0, size=pt.specify_shape(sv, (2,)))
    assert y.eval({sv: np.array([2, 5])}).shape == (2, 5)
    f = opgraph.function([n], x.shape, mode="PYTHON")
    assert f(7).tolist() == [7, 3]


def test_infer_shape_needs_no_draw():
    mu = pt.vector("mu")
    n = pt.lscalar("n")
    x = pt.random.normal(mu[None, :], 1.0)
    y = pt.random.normal(0.0, 1.0, size=(n, 2))
    for var, dim, want in [(x, 1, 4), (y, 0, 6)]:
        length = rewrite_graph(var.shape[dim], include=("canonicalize", "shape"))
        assert not _rv_nodes(length)
        assert length.eval({mu: np.zeros(4), n: 6}) == want if var is x else length.eval({n: 6}) == want


# -- generators, shared variables, updates -------------------------------------------------
def test_generator_type_prints_and_hashes():
    t = RandomGeneratorType()
    assert str(t) == "RandomGeneratorType" and t == pt.random.random_generator_type
    assert hash(t) == hash(RandomGeneratorType()) and len({t, RandomGeneratorType()}) == 1
    g = np.random.default_rng(1)
    r = opgraph.shared(g, name="r")
    assert isinstance(r, RandomGeneratorSharedVariable) and r.type == t and str(r) == "r"
    unnamed = opgraph.shared(g)
    assert re.fullmatch(r"RNG\(<Generator\(PCG64\) at 0x[0-9A-F]+>\)", str(unnamed))
    with pytest.raises(TypeError, match="expected a numpy.random.Generator"):
        t.filter(np.random.RandomState(0))


def test_shared_generator_is_a_copy():
    g = np.random.default_rng(5)
    r = opgraph.shared(g)
    x = pt.random.normal(size=(3,), rng=r)
    f = opgraph.function([], x, updates={r: x.owner.outputs[0]}, mode="PYTHON")
    f()
    # The user's generator did not move; get_value hands out a copy too.
    np.testing.assert_array_equal(g.normal(size=3), np.random.default_rng(5).normal(size=3))
    v = r.get_value()
    v.normal()
    assert not r.type.values_eq(v, r.get_value())


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_default_update_and_no_default_updates(mode):
    x = pt.random.normal(0, 1, size=(3,))
    rng = _rng_of(x)
    assert rng.default_update is x.owner.outputs[0]
    rng.set_value(np.random.default_rng(11))
    f = opgraph.function([], x, mode=mode)
    a, b = f(), f()
    ref = np.random.default_rng(11).normal(size=6)
    np.testing.assert_array_equal(np.concatenate([a, b]), ref)   # a new draw at every call
    g = opgraph.function([], x, mode=mode, no_default_updates=True)
    c, d = g(), g()
    np.testing.assert_array_equal(c, d)
    np.testing.assert_array_equal(c, np.random.default_rng(11).normal(size=9)[6:])


def test_eval_advances_nothing():
    x = pt.random.normal(0, 1, size=(3,))
    rng = _rng_of(x)
    before = rng.get_value()
    a, b = x.eval(), x.eval()
    np.testing.assert_array_equal(a, b)
    assert rng.type.values_eq(before, rng.get_value(borrow=True))


def test_functional_form_pytensor3():
    rng = pt.random.shared_rng(seed=1234)
    next_rng, draw = rng.normal(0, 1)
    f = opgraph.function([], draw, updates={rng: next_rng}, mode="PYTHON")
    got = [float(f()) for _ in range(3)]
    np.testing.assert_array_equal(got, np.random.default_rng(1234).normal(size=3))
    p = np.array([0.2, 0.8])
    next_rng2, counts = rng.multinomial(n=1, p=p)
    assert counts.type.shape == (2,) and counts.eval().sum() == 1
    with pytest.raises(AttributeError, match="no attribute 'normall'"):
        rng.normall(0, 1)


def test_generator_as_explicit_input():
    r = pt.random.random_generator_type("r")
    next_r, d = r.normal(0, 1, size=(3,))
    f = opgraph.function([r], [next_r, d], mode="PYTHON")
    g = np.random.default_rng(9)
    g2, a = f(g)
    np.testing.assert_array_equal(g.normal(size=3), np.random.default_rng(9).normal(size=3))  # g untouched
    _, b = f(g2)
    np.testing.assert_array_equal(np.concatenate([a, b]), np.random.default_rng(9).normal(size=6))
    with pytest.raises(TypeError, match="Generator"):
        f(np.zeros(3))


def test_random_stream_seed():
    s = pt.random.RandomStream(seed=42)
    a, b = s.normal(size=(3,)), s.uniform(size=(3,))
    f = opgraph.function([], [a, b], mode="PYTHON")
    first = f()
    assert not np.array_equal(f()[0], first[0])
    s.seed(42)
    np.testing.assert_array_equal(f()[0], first[0])
    s2 = pt.random.RandomStream(seed=42)
    a2 = s2.normal(size=(3,))
    np.testing.assert_array_equal(opgraph.function([], a2, mode="PYTHON")(), first[0])
    assert len(s.state_updates) == 2


def test_same_seed_same_draws_in_a_new_process():
    code = ("import opgraph, opgraph.tensor as pt\n"
            "x = pt.random.gamma(2.0, 1.0, size=(4,), rng=pt.random.shared_rng(seed=77))\n"
            "print(repr(opgraph.function([], x, mode='PYTHON')().tolist()))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    x = pt.random.gamma(2.0, 1.0, size=(4,), rng=pt.random.shared_rng(seed=77))
    assert eval(out) == opgraph.function([], x, mode="PYTHON")().tolist()


# -- errors ------------------------------------------------------------------------------
@pytest.mark.parametrize("make, exc, message", [
    (lambda: pt.random.normal(0, -1.0), ValueError, r"normal: scale must be >= 0, got -1.0"),
    (lambda: pt.random.bernoulli(1.5), ValueError, r"bernoulli: p must be in \[0, 1\], got 1.5"),
    (lambda: pt.random.binomial(n=2.5, p=0.5), TypeError, r"binomial: n must be an integer, got 2.5"),
    (lambda: pt.random.normal(np.zeros(3), 1, size=(4,)), ValueError,
     r"normal: size \(4,\) disagrees with the batch shape \(3,\) of loc"),
    (lambda: pt.random.normal(np.zeros((2, 3)), 1, size=(3,)), ValueError, r"size has 1 dimension"),
    (lambda: pt.random.normal(np.zeros(3), np.ones(2)), ValueError, r"normal: the parameters do not broadcast"),
    (lambda: pt.random.normal(rng=np.random.default_rng()), TypeError, r"normal: rng must be a generator variable"),
    (lambda: pt.random.normal(rng=pt.vector("v")), TypeError, r"normal: rng must be a random generator variable"),
    (lambda: pt.random.normal(0, 1, size=(2.5,)), TypeError, r"normal: size must be a tuple of non-negative ints"),
    (lambda: pt.random.normal(0, 1, 2, 3), TypeError, r"normal\(loc=0.0"),
    (lambda: pt.random.gamma(1.0, rate=1.0, scale=1.0), ValueError, r"gamma: give rate or scale"),
    (lambda: pt.random.dirichlet(2.0), ValueError, r"dirichlet: alphas must have at least 1 dimension"),
    (lambda: pt.random.choice(3, replace="no"), TypeError, r"choice: replace must be True or False"),
    (lambda: pt.random.integers(5, 3), ValueError, r"integers: low must be < high, got low=5, high=3"),
    (lambda: pt.random.categorical([0.5, -0.1]), ValueError, r"categorical: p must be in \[0, 1\]"),
])
def test_bad_input_is_one_line_at_build_time(make, exc, message):
    with pytest.raises(exc, match=message) as info:
        make()
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("mode", ["PYTHON", "NUMBA"])
def test_bad_values_at_call_time(mode):
    s = pt.scalar("s")
    p = pt.vector("p")
    x = pt.random.normal(0.0, s, size=(3,))
    y = pt.random.bernoulli(p, size=(2, 3))
    f = opgraph.function([s, p], [x, y], mode=mode)
    f(1.0, np.full(3, 0.5))
    with pytest.raises(Exception, match="normal: scale must be >= 0"):
        f(-1.0, np.full(3, 0.5))
    with pytest.raises(Exception, match=r"bernoulli: p must be in \[0, 1\]"):
        f(1.0, np.array([0.5, 2.0, 0.1]))
    with pytest.raises(Exception, match="bernoulli: size"):
        f(1.0, np.full(4, 0.5))


def test_gradient_through_a_draw_names_the_rv():
    mu = pt.scalar("mu")
    x = pt.random.normal(mu, 1.0, size=(3,))
    with pytest.raises(NullTypeGradError, match=r'normal_rv\{"\(\),\(\)->\(\)"\}'):
        grad(x.sum(), mu)
    g = grad(x.sum() + 2 * mu, mu, consider_constant=[x])
    assert float(g.eval({mu: 0.5})) == 2.0


# -- vectorize, rewrites -------------------------------------------------------------------
def test_vectorize_graph_batches_parameters():
    mu = pt.scalar("mu")
    x = pt.random.normal(mu, 1.0, size=(2,))
    mu_vec = pt.vector("mu_vec", shape=(5,))
    xv = vectorize_graph(x, {mu: mu_vec})
    assert isinstance(xv.owner.op, RandomVariable) and xv.type.shape == (5, 2)
    value = xv.eval({mu_vec: np.arange(5) * 100.0})
    assert value.shape == (5, 2) and np.all(np.abs(value - (np.arange(5) * 100.0)[:, None]) < 10)
    y = pt.random.poisson(mu)
    yv = vectorize_graph(y, {mu: mu_vec})
    assert yv.type.shape == (5,) and yv.eval({mu_vec: np.full(5, 3.0)}).shape == (5,)


def _rv_nodes(var):
    from opgraph.kernel_core.graph.traversal import io_toposort, graph_inputs

    return [n for n in io_toposort(graph_inputs([var]), [var]) if isinstance(n.op, RandomVariable)]


def test_subtensor_lift_draws_only_what_is_indexed():
    mu, sigma = pt.scalar("mu"), pt.scalar("sigma")
    x = pt.random.normal(mu, sigma, size=(100,))
    y = rewrite_graph(x[:3], include=("canonicalize",))
    (node,) = _rv_nodes(y)
    assert y.owner is node and node.outputs[1].type.shape == (3,)
    assert node.inputs[1].data.tolist() == [3]
    # The same first three values (C order): the lift keeps the draws, not only their law.
    vals = {mu: 1.0, sigma: 2.0}
    np.testing.assert_array_equal(y.eval(vals), x.eval(vals)[:3])
    z = rewrite_graph(pt.random.normal(np.zeros(3), 1.0, size=(4, 3))[1], include=("canonicalize",))
    assert not any(isinstance(n.op, Subtensor) for n in _rv_nodes(z)) and z.type.shape == (3,)


def test_no_lift_when_the_draw_is_used_elsewhere():
    x = pt.random.normal(0, 1, size=(10,))
    y = x[:3] + x.sum()
    out = rewrite_graph(y, include=("canonicalize",))
    nodes = _rv_nodes(out)
    assert len(nodes) == 1 and nodes[0].outputs[1].type.shape == (10,)


def test_dimshuffle_lift():
    mu = pt.vector("mu", shape=(4,))
    x = pt.random.normal(mu, 1.0, size=(2, 4)).T
    y = rewrite_graph(x, include=("canonicalize",))
    assert isinstance(y.owner.op, RandomVariable) and y.type.shape == (4, 2)
    assert y.eval({mu: np.arange(4) * 100.0}).shape == (4, 2)


def test_unused_draw_is_removed():
    x = pt.random.normal(0, 1, size=(10,))
    rng = _rng_of(x)
    out = rewrite_graph(x.owner.outputs[0], include=("canonicalize",))
    assert out is rng or not _rv_nodes(out)


def test_numba_rv_updates_its_generator_inplace():
    x = pt.random.normal(0, 1, size=(10,))
    f = opgraph.function([], pt.exp(x), mode="NUMBA")
    buf = io.StringIO()
    with redirect_stdout(buf):
        f.dprint(print_destroy_map=True)
    assert re.search(r'normal_rv\{"\(\),\(\)->\(\)"\}\.\d \[id \w+\] d=\{0: \[0\]\}', buf.getvalue())
    assert "objmode" not in f.maker.thunk.source


def test_drawings_colour_random_variables_as_their_own_kind():
    from opgraph.kernel_core.printing import graphviz as gv

    x = pt.random.normal(0, 1, size=(3,))
    assert gv.op_kind(x.owner.op) == "random"
    assert gv.KIND_COLORS["random"] not in {c for k, c in gv.KIND_COLORS.items() if k != "random"}
    assert gv.KIND_COLORS["random"] in gv.graph_to_dot(pt.exp(x))


def test_float_draws_follow_floatx_at_call_time():
    with opgraph.config.change_flags(floatX="float32"):
        x = pt.random.normal(0, 1, size=(2,))
        u = pt.random.uniform(size=(2,), dtype="float64")
    assert x.type.dtype == "float32" and x.eval().dtype == np.float32
    assert u.type.dtype == "float64"
    assert pt.random.normal(0, 1).type.dtype == "float64"

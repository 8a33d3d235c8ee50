"""TensorVariable operators and methods behave like their NumPy counterparts."""

import numpy as np
import pytest

import opgraph.tensor as pt

rng = np.random.default_rng(42)
A = rng.normal(size=(3, 4))
V = rng.normal(size=4)


@pytest.fixture
def m():
    return pt.matrix("m")


@pytest.mark.parametrize("build, expected", [
    (lambda m: m + 1, A + 1), (lambda m: 1 - m, 1 - A), (lambda m: m * m, A * A),
    (lambda m: m / 2, A / 2), (lambda m: 2 / (m + 5), 2 / (A + 5)), (lambda m: m // 1, A // 1),
    (lambda m: m % 1.5, A % 1.5), (lambda m: abs(m) ** 0.5, np.abs(A) ** 0.5), (lambda m: -m, -A),
    (lambda m: abs(m), np.abs(A)), (lambda m: m < 0, A < 0), (lambda m: m >= 0, A >= 0),
    (lambda m: m.sum(), A.sum()), (lambda m: m.sum(axis=0), A.sum(axis=0)),
    (lambda m: m.mean(axis=-1, keepdims=True), A.mean(axis=-1, keepdims=True)),
    (lambda m: m.prod(axis=1), A.prod(axis=1)), (lambda m: m.max(), A.max()),
    (lambda m: m.min(axis=0), A.min(axis=0)), (lambda m: m.argmax(axis=1), A.argmax(axis=1)),
    (lambda m: m.std(), A.std()), (lambda m: m.var(axis=0), A.var(axis=0)),
    (lambda m: m.T, A.T), (lambda m: m.dot(V), A.dot(V)), (lambda m: m @ m.T, A @ A.T),
    (lambda m: m.reshape((4, 3)), A.reshape((4, 3))), (lambda m: m.reshape((-1,)), A.reshape(-1)),
    (lambda m: m.flatten(), A.flatten()), (lambda m: m[None].squeeze(), A),
    (lambda m: m.astype("int32"), A.astype("int32")), (lambda m: m.dimshuffle(1, "x", 0), A.T[:, None, :]),
    (lambda m: m.shape, np.array(A.shape)), (lambda m: m[1:, ::2], A[1:, ::2]),
    (lambda m: m[-1], A[-1]), (lambda m: m[..., 0], A[..., 0]), (lambda m: m[[0, 2]], A[[0, 2]]),
    (lambda m: m[m > 0], A[A > 0]),
])
def test_methods_match_numpy(m, build, expected):
    out = build(m)
    value = out.eval({m: A})
    np.testing.assert_allclose(value, expected, rtol=1e-10)
    assert np.asarray(value).dtype == np.asarray(expected).dtype


def test_properties(m):
    assert m.ndim == 2 and m.dtype == "float64" and m.type.shape == (None, None)
    assert m.T.ndim == 2
    assert pt.vector("v", shape=(3,)).type.broadcastable == (False,)


def test_iteration_needs_static_length():
    with pytest.raises(TypeError, match="not static"):
        list(pt.vector("v"))
    a, b = pt.vector("v", shape=(2,))
    assert str(a.owner.op) == "Subtensor{i}"


def test_dprint_method_returns_text_with_file_str():
    x = pt.vector("x")
    assert x.sum().dprint(file="str") == "Sum{axes=None} [id A]\n └─ x [id B]\n"


def test_set_and_inc_methods_on_indexed_variables():
    x = pt.dvector("x")
    i = pt.lvector("i")
    xv = np.arange(4.0)
    np.testing.assert_array_equal(x[1:].set(7.0).eval({x: xv}), [0, 7, 7, 7])
    np.testing.assert_array_equal(x[i].inc(1.0).eval({x: xv, i: [0, 0, 3]}), [2, 1, 2, 4])
    with pytest.raises(TypeError, match="set_subtensor expects an indexed variable"):
        x.set(1.0)
    with pytest.raises(TypeError, match="inc_subtensor expects an indexed variable"):
        x.inc(1.0)


def test_inc_subtensor_ignore_duplicates_is_numpy_fancy_iadd():
    x = pt.dvector("x")
    i = pt.lvector("i")
    xv, iv, yv = np.arange(4.0), np.array([0, 0, 3, 0]), np.array([1.0, 2.0, 3.0, 4.0])
    y = pt.dvector("y")
    want_acc, want_once = xv.copy(), xv.copy()
    np.add.at(want_acc, iv, yv)
    want_once[iv] += yv
    got_acc = pt.inc_subtensor(x[i], y).eval({x: xv, i: iv, y: yv})
    got_once = pt.inc_subtensor(x[i], y, ignore_duplicates=True).eval({x: xv, i: iv, y: yv})
    np.testing.assert_array_equal(got_acc, want_acc)
    np.testing.assert_array_equal(got_once, want_once)
    assert not np.array_equal(want_acc, want_once)


def test_inc_subtensor_ignore_duplicates_rows_negative_indices_and_gradient():
    from opgraph.kernel_core.gradient import grad, verify_grad

    x, i, y = pt.dmatrix("x"), pt.lvector("i"), pt.dmatrix("y")
    xv, iv = np.arange(12.0).reshape(4, 3), np.array([0, 2, 0, -4, 1])   # -4 is row 0 again
    yv = np.arange(15.0).reshape(5, 3) * 10
    want = xv.copy()
    want[iv] += yv
    out = pt.inc_subtensor(x[i], y, ignore_duplicates=True)
    np.testing.assert_array_equal(out.eval({x: xv, i: iv, y: yv}), want)
    scalar = xv.copy()
    scalar[iv] += 1.0
    np.testing.assert_array_equal(pt.inc_subtensor(x[i], 1.0, ignore_duplicates=True).eval({x: xv, i: iv}), scalar)
    # Only the last repeat of a row reaches the result: the others get no gradient.
    gy = grad(out.sum(), y).eval({x: xv, i: iv, y: yv})
    np.testing.assert_array_equal(gy[:, 0], [0.0, 1.0, 0.0, 1.0, 1.0])
    verify_grad(lambda a, b: pt.inc_subtensor(a[iv], b, ignore_duplicates=True) ** 2, [xv, yv])


def test_scalar_variables_have_arithmetic_and_comparison_operators():
    import opgraph
    import opgraph.scalar as ps

    x, n = ps.float64("x"), ps.int64("n")
    e = (x + 1) * n - x / 2 ** x + 3 % n - (-x) + abs(x) // 1
    c = [x < n, x <= n, x > n, x >= n]
    assert isinstance(e, ps.ScalarVariable) and e.type == ps.float64
    assert all(v.type == ps.bool_ for v in c)
    assert x == x and x != n and len({x, n}) == 2  # identity equality: variables stay dict keys
    f = opgraph.function([x, n], [e, *c], mode="PYTHON")
    xv, nv = 1.5, 3
    got = f(xv, nv)
    assert got[0] == pytest.approx((xv + 1) * nv - xv / 2 ** xv + 3 % nv + xv + abs(xv) // 1)
    assert [bool(g) for g in got[1:]] == [True, True, False, False]
    assert isinstance(x + pt.dvector("v"), pt.TensorVariable)  # mixing with a tensor gives a tensor graph
    with pytest.raises(TypeError, match="no truth value"):
        bool(x)


def test_numpy_ufuncs_on_symbolic_variables_build_graphs():
    x = pt.dscalar("x")
    v = pt.dvector("v")
    vv = np.array([0.5, 2.0, -1.0])
    assert str(np.exp(x).owner.op) == "Exp"
    np.testing.assert_allclose(np.exp(x).eval({x: 0.5}), np.exp(0.5))
    for build, want in [(lambda: np.add(v, 1), vv + 1), (lambda: np.float64(2) * v, 2 * vv),
                        (lambda: np.arange(3.0) + v, np.arange(3.0) + vv), (lambda: np.maximum(v, 0), np.maximum(vv, 0)),
                        (lambda: np.arctan2(v, 1.0), np.arctan2(vv, 1.0)), (lambda: np.less(v, 1), vv < 1),
                        (lambda: np.logical_not(np.greater(v, 0)), ~(vv > 0)),
                        (lambda: np.add.outer(v, v), np.add.outer(vv, vv)),
                        (lambda: np.add.reduce(v), vv.sum()), (lambda: np.sum(v), vv.sum()),
                        (lambda: np.mean(v, keepdims=True), vv.mean(keepdims=True)), (lambda: np.max(v), vv.max())]:
        got = build()
        assert isinstance(got, pt.TensorVariable)
        np.testing.assert_allclose(got.eval({v: vv}), want)
    m = pt.dmatrix("m")
    a = np.arange(4.0).reshape(2, 2)
    np.testing.assert_allclose((a @ m).eval({m: a}), a @ a)
    np.testing.assert_allclose(np.matmul(m, a).eval({m: a}), a @ a)
    q, r = divmod(np.arange(4.0), pt.dvector("w"))
    np.testing.assert_allclose(r.eval({r.owner.inputs[1]: np.full(4, 3.0)}), np.arange(4.0) % 3)
    assert isinstance(q, pt.TensorVariable)
    # == / != stay identity tests whichever side the array is on: variables are list members.
    assert not bool(a == m) and not bool(m == a) and bool(a != m)
    assert a not in [m] and np.equal(m, m)


def test_numpy_ufuncs_refuse_what_a_graph_cannot_do():
    v = pt.dvector("v")
    with pytest.raises(TypeError, match="numpy.exp: out= is not supported"):
        np.exp(v, out=np.zeros(3))
    with pytest.raises(TypeError, match="numpy.fmax has no opgraph equivalent"):
        np.fmax(v, v)
    with pytest.raises(TypeError, match="numpy.exp: keyword.*dtype"):
        np.exp(v, dtype="float32")
    with pytest.raises(TypeError, match="numpy.add.accumulate is not supported"):
        np.add.accumulate(v)
    with pytest.raises(TypeError, match="sum: out= is not supported"):
        np.sum(v, out=np.zeros(()))

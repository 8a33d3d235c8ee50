"""The Numba code of the along-axis ops (repeat, sort, argsort, cumsum, take_along_axis
and its gradient, unique) against NumPy, and its compile-cost shape: one graph
function with every node inlined, no array-valued slice assignment, no
``np.broadcast_to`` (each costs numba seconds of compiling per process; issue 18)."""

import re

import numpy as np

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.gradient import grad


def _graph_function(source):
    return source[source.index("def opgraph_graph"):]


def test_along_axis_ops_inline_and_match_numpy():
    m, c = pt.matrix("m"), pt.tensor3("c")
    idx, idx0, cidx, row = pt.lmatrix("idx"), pt.lmatrix("idx0"), pt.ltensor3("cidx"), pt.lmatrix("row")
    v = pt.vector("v")
    # Broadcasting: ``row`` (1, k) picks the same columns in every row of ``m``;
    # ``c`` (1, 3, 4) broadcasts against indices (2, 2, 4) along axis 0.
    outs = [pt.repeat(m, 2, axis=0), pt.repeat(m, 3, axis=1), pt.sort(m, axis=0), pt.sort(v),
            pt.argsort(m, axis=1), pt.cumsum(m, axis=1), pt.take_along_axis(m, idx, 1),
            pt.take_along_axis(m, pt.specify_broadcastable(row, 0), 1),
            pt.take_along_axis(pt.specify_broadcastable(c, 0), cidx, 1), pt.unique(pt.argsort(v)),
            grad((pt.take_along_axis(m, idx0, 0) ** 2).sum(), m)]
    f = opgraph.function([m, c, idx, idx0, cidx, row, v], outs, mode="NUMBA")
    body = _graph_function(f.maker.thunk.source)
    # unique's function defines NaN-aware helpers inside it: called, not inlined.
    called = {n for n in re.findall(r"= ([a-z_]+_\d+)\(", body) if not n.startswith("unique_")}
    assert not called, f"node functions called, not inlined: {called}"
    assert "np.broadcast_to" not in body and "np.broadcast_shapes" not in body
    # A slice assigned a number (``rr[:] = np.int64(r[()])``) is cheap; an array is not.
    sliced = [ln for ln in body.splitlines() if re.search(r"\[[^]]*:[^]]*\] = ", ln) and "[()]" not in ln]
    assert not sliced, f"array-valued slice assignments: {sliced}"
    rng = np.random.default_rng(3)
    mv, cv, vv = rng.normal(size=(3, 4)), rng.normal(size=(1, 3, 4)), rng.normal(size=6)
    iv, civ, rv = rng.integers(-4, 4, size=(3, 5)), rng.integers(-3, 3, size=(2, 2, 4)), np.array([[3, 0, -1]])
    iv0 = rng.integers(0, 3, size=(2, 4))
    want_g = np.zeros_like(mv)
    np.add.at(want_g, (iv0, np.arange(4)[None, :]), 2 * np.take_along_axis(mv, iv0, 0))
    want = [np.repeat(mv, 2, axis=0), np.repeat(mv, 3, axis=1), np.sort(mv, axis=0), np.sort(vv),
            np.argsort(mv, axis=1, kind="stable"), np.cumsum(mv, axis=1), np.take_along_axis(mv, iv, 1),
            np.take_along_axis(mv, rv, 1), np.take_along_axis(cv, civ, 1), np.unique(np.argsort(vv)), want_g]
    for k, (g, w) in enumerate(zip(f(mv, cv, iv, iv0, civ, rv, vv), want, strict=True)):
        assert g.shape == w.shape and g.dtype == w.dtype, (k, g.shape, w.shape, g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=1e-12, err_msg=f"output {k}")

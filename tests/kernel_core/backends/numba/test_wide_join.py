"""Joins and MakeVectors of many inputs (issue 21): NUMBA writes them through
chunk kernels inlined in the graph function (backends/numba/join.py
``_wide_join``), never one function of N arguments.  Before, a 250-input
concatenate took ~3 CPU-minutes to compile and 10^4 inputs did not finish in
20 minutes; the 10^4-input forms are in test_wide_graphs.py (``slow``).
600 inputs for the 1-d concatenate here (19 chunks, the last one partial: a
second chunk kernel), 66 (3 chunks) for the other forms."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.backends.numba import join as numba_join
from opgraph.kernel_core.backends.numba.linker import NumbaLinker
from opgraph.kernel_core.compile.mode import Mode
from opgraph.kernel_core.runtime_errors import NodeRuntimeError

N = 600
M = 66


def build():
    a, b, c = pt.vector("a"), pt.vector("b"), pt.vector("c")
    A, B = pt.matrix("A"), pt.matrix("B")
    s, t = pt.scalar("s"), pt.scalar("t")
    outs = [pt.concatenate([a, b, c] * (N // 3)),           # lengths differ: the order matters
            pt.concatenate([A, B] * (M // 2), axis=1),      # axis 1, row count checked per input
            pt.stack([s, t] * (M // 2)),                    # MakeVector
            pt.stack([a, a + 1.0] * (M // 2), axis=1)]      # ExpandDims on axis 1, then Join
    return [a, b, c, A, B, s, t], outs


def expected(a, b, c, A, B, s, t):
    return [np.concatenate([a, b, c] * (N // 3)), np.concatenate([A, B] * (M // 2), axis=1),
            np.array([s, t] * (M // 2)), np.stack([a, a + 1.0] * (M // 2), axis=1)]


VALUES = [np.arange(2.0), np.arange(3.0) + 10, np.array([-1.0]), np.arange(4.0).reshape(2, 2),
          np.arange(6.0).reshape(2, 3) + 100, np.float64(0.5), np.float64(-2.5)]


@pytest.fixture(scope="module")
def compiled():
    ins, outs = build()
    linker = NumbaLinker()
    f_numba = opgraph.function(ins, outs, mode=Mode(linker=linker, optimizer="fast_run"))
    f_python = opgraph.function(ins, outs, mode="PYTHON")
    return f_numba, f_python, linker.last_source


@pytest.mark.parametrize("which", [0, 1])
def test_wide_joins_match_numpy(compiled, which):
    f = compiled[which]
    for got, want in zip(f(*VALUES), expected(*VALUES)):
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)


def test_wide_join_is_chunked_in_the_graph_function(compiled):
    src = compiled[2]
    graph = src[src.index("def opgraph_graph("):]
    assert "join_chunk_" in graph and "make_vector_chunk_" in graph
    # No call in the graph function passes more than a chunk's worth of inputs.
    widest = max(line.count(",") for line in graph.splitlines())
    assert widest <= numba_join.JOIN_CHUNK + 2


def test_wide_join_checks_the_other_dims_in_python_mode():
    # NUMBA: test_failing_wide_graph_is_explained_without_compiling_the_join below.
    A, B = pt.matrix("A"), pt.matrix("B")
    f = opgraph.function([A, B], pt.concatenate([A, B] * (M // 2), axis=1), mode="PYTHON")
    with pytest.raises(ValueError, match=r"in Join: .*dimensions"):
        f(np.zeros((2, 2)), np.zeros((3, 3)))      # B has 3 rows, A has 2


@pytest.mark.slow
def test_ten_thousand_input_join_and_make_vector():
    x, s = pt.vector("x"), pt.scalar("s")
    n = 10_000
    e, es = pt.exp(x), pt.exp(s)
    f = opgraph.function([x, s], [pt.concatenate([e, x] * (n // 2)), pt.stack([es, s] * (n // 2))],
                         mode=Mode(linker=NumbaLinker(), optimizer="fast_run"))
    xv = np.linspace(-1.0, 1.0, 3)
    got_join, got_vector = f(xv, 0.5)
    np.testing.assert_array_equal(got_join, np.concatenate([np.exp(xv), xv] * (n // 2)))
    np.testing.assert_array_equal(got_vector, np.array([np.exp(0.5), 0.5] * (n // 2)))



@pytest.fixture(scope="module")
def failing_graph():
    A, B, y = pt.matrix("A"), pt.matrix("B"), pt.vector("y")
    joined = pt.concatenate([A, B] * (M // 2), axis=1)      # M inputs: a wide Join
    linker = NumbaLinker()
    f = opgraph.function([A, B, y], joined.sum(axis=0) * y, mode=Mode(linker=linker, optimizer="fast_run"))
    names = [ln.split("(")[0][4:] for ln in linker.last_source.splitlines() if ln.startswith("def join_wide_")]
    assert len(names) == 1
    # The njit function an error report would compile for the wide Join node.
    return f, f._thunk.dispatcher.py_func.__globals__[names[0]]


@pytest.mark.parametrize("where", ["join", "after"])
def test_failing_wide_graph_is_explained_without_compiling_the_join(failing_graph, where):
    # The error report runs the nodes on perform and re-runs only the failing
    # node's njit function, never the Join's function of M arguments (the report's
    # node-by-node re-run with njit functions took 143 s for a Join of 600 inputs).
    f, join_kernel = failing_graph
    good = (np.ones((2, 2)), np.ones((2, 3)), np.ones(5 * M // 2))
    np.testing.assert_array_equal(f(*good), np.full(5 * M // 2, 2.0))
    if where == "join":          # B has 3 rows, A has 2
        bad, match = (np.ones((2, 2)), np.ones((3, 3)), good[2]), r"in Join: .*dimensions"
    else:                        # y is too short for the joined length
        bad, match = (*good[:2], np.ones(4)), r"Elemwise: input shapes \[.*\] do not broadcast"
    with pytest.raises(ValueError, match=match) as info:
        f(*bad)
    assert isinstance(info.value, NodeRuntimeError)
    assert len(str(info.value).splitlines()) <= 3
    assert not join_kernel.overloads


def test_split_by_constant_sizes_has_fixed_slices_and_one_length_test():
    x, n = pt.matrix("x"), pt.lscalar("n")
    fixed = pt.split(x, [1, 0, 2], 3, axis=1)
    symbolic = pt.split(x, pt.stack([n, 3 - n]), 2, axis=1)
    f = opgraph.function([x, n], [*fixed, *symbolic], mode=Mode(linker=NumbaLinker(use_cache=False)))
    src = f.maker.thunk.source
    assert "x.shape[1] != 3:" in src and "[:, 1:1].copy()" in src   # the constant sizes' split
    assert "total += splits[q]" in src                              # the symbolic sizes' split
    xv = np.arange(6.0).reshape(2, 3)
    got = f(xv, 2)
    want = np.split(xv, [1, 1], axis=1) + np.split(xv, [2], axis=1)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    got[0][0, 0] = -1.0                                              # pieces are copies
    assert xv[0, 0] == 0.0
    with pytest.raises(NodeRuntimeError, match="sizes do not add up"):
        f(np.ones((2, 4)), 2)

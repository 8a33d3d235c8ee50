"""Joins and MakeVectors of many inputs (issue 21): NUMBA writes them through
chunk kernels inlined in the graph function (backends/numba/join.py
``_wide_join``), never one function of N arguments.  Before, a 250-input
concatenate took ~3 CPU-minutes to compile and 10^4 inputs did not finish in
20 minutes; the 10^4-input forms are in test_wide_graphs.py (``slow``).
600 inputs here: 19 chunks, the last one partial (a second chunk kernel)."""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.backends.numba import join as numba_join
from opgraph.kernel_core.backends.numba.linker import NumbaLinker
from opgraph.kernel_core.compile.mode import Mode

N = 600


def build():
    a, b, c = pt.vector("a"), pt.vector("b"), pt.vector("c")
    A, B = pt.matrix("A"), pt.matrix("B")
    s, t = pt.scalar("s"), pt.scalar("t")
    outs = [pt.concatenate([a, b, c] * (N // 3)),           # lengths differ: the order matters
            pt.concatenate([A, B] * (N // 2), axis=1),      # axis 1, row count checked per input
            pt.stack([s, t] * (N // 2)),                    # MakeVector
            pt.stack([a, a + 1.0] * (N // 2), axis=1)]      # ExpandDims on axis 1, then Join
    return [a, b, c, A, B, s, t], outs


def expected(a, b, c, A, B, s, t):
    return [np.concatenate([a, b, c] * (N // 3)), np.concatenate([A, B] * (N // 2), axis=1),
            np.array([s, t] * (N // 2)), np.stack([a, a + 1.0] * (N // 2), axis=1)]


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


@pytest.mark.parametrize("which", [0, 1])
def test_wide_join_checks_the_other_dims(compiled, which):
    bad = list(VALUES)
    bad[4] = np.zeros((3, 3))          # B has 3 rows, A has 2
    with pytest.raises(ValueError, match="join"):
        compiled[which](*bad)

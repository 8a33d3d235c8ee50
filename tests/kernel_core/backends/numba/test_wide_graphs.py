"""Wide and long graphs compile in NUMBA (issue 21): no RecursionError in code
generation, bounded loop bodies, huge graph functions cut into parts.

Before: ``pt.add`` of 500 ``exp`` terms failed with RecursionError in the
inliner, 3,000 terms in ``ast.parse``, 10^4 in every form, and a 10^5-node
chain ran out of 8 GB.  The default run compiles ONE function holding a
2,000-node chain and the issue's 500-term sum (about 15 s on an idle 2-core
machine), and the 300-term stack form (one loop, rewriting/join_elemwise.py);
the 2,000- and 10^4-term sums and the 10^5-node chain are ``slow`` (minutes;
the 10^4-term stack form 26 s at load 8).  Values are checked; times are not (see benchmarks/compile_scaling.py
for the growth figures).
"""

import numpy as np
import pytest

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.backends.numba import codegen
from opgraph.kernel_core.backends.numba.linker import NumbaLinker
from opgraph.kernel_core.compile.mode import Mode

XV = np.linspace(-1.0, 1.0, 7)


def numba_mode():
    # A linker of our own, to read the generated source (last_source).
    linker = NumbaLinker()
    return Mode(linker=linker, optimizer="fast_run"), linker


def chain(x, n):
    y = x
    for k in range(n):
        y = pt.sin(y) if k % 2 else pt.cos(y)
    return y


def chain_value(v, n):
    for k in range(n):
        v = np.sin(v) if k % 2 else np.cos(v)
    return v


def wide_sum(x, n, form):
    terms = [pt.exp(x * (k / n)) for k in range(n)]
    if form == "add":
        return pt.add(*terms)
    if form == "python_sum":
        return sum(terms)
    return pt.stack(terms).sum(axis=0)


def wide_value(v, n):
    return sum(np.exp(v * (k / n)) for k in range(n))


def test_two_thousand_node_chain_and_wide_sum_compile_in_parts():
    x = pt.vector("x")
    mode, linker = numba_mode()
    f = opgraph.function([x], [chain(x, 2000), wide_sum(x, 500, "add")], mode=mode)
    got_chain, got_sum = f(XV)
    np.testing.assert_allclose(got_chain, chain_value(XV, 2000), rtol=1e-12)
    np.testing.assert_allclose(got_sum, wide_value(XV, 500), rtol=1e-12)
    # The graph function was cut into part functions (codegen.PART_LINES).
    assert f"def {codegen.PART_FUNCTION}0(" in linker.last_source


def test_stack_form_compiles_one_elementwise_kernel():
    # The terms exp(x * c_k) differ only in their constant: rewriting/join_elemwise.py
    # makes the stack one loop over (n, len(x)) reading a constant column, where
    # there were n Composite kernels (about 0.25 CPU-s of compilation each).
    x = pt.vector("x")
    mode, linker = numba_mode()
    f = opgraph.function([x], wide_sum(x, 300, "stack"), mode=mode)
    np.testing.assert_allclose(f(XV), wide_value(XV, 300), rtol=1e-12)
    kernels = [ln for ln in linker.last_source.splitlines() if ln.startswith("def elemwise_")]
    assert len(kernels) == 1
    assert not any(type(node.op).__name__ == "Join" for node in f.maker.fgraph.apply_nodes)


@pytest.mark.slow
def test_two_thousand_term_sum():
    x = pt.vector("x")
    f = opgraph.function([x], wide_sum(x, 2000, "add"), mode=numba_mode()[0])
    np.testing.assert_allclose(f(XV), wide_value(XV, 2000), rtol=1e-12)


def test_parts_pass_exactly_the_values_that_cross():
    body = ["    a = i0 + 1.0", "    b = a * 2.0", "    c = b - i1", "    d = c * a", "    return (d, )"]
    new_body, parts = codegen.split_into_parts(body, [1, 2, 3, 4, 4], ["i0", "i1"],
                                               part_lines=1)
    namespace = {}
    src = "\n\n".join(parts) + "\n\ndef graph(i0, i1):\n" + "\n".join(new_body) + "\n"
    exec(src.replace("@numba.njit(cache=_CACHE, error_model='numpy')\n", ""), namespace)
    assert namespace["graph"](1.0, 0.5) == (((1.0 + 1.0) * 2.0 - 0.5) * 2.0, )
    assert "def opgraph_part0(i0):" in src and "return (a, )" in src   # only what crosses


@pytest.mark.slow
@pytest.mark.parametrize("form", ["add", "python_sum", "stack"])
def test_ten_thousand_term_sums(form):
    x = pt.vector("x")
    n = 10_000
    f = opgraph.function([x], wide_sum(x, n, form), mode=numba_mode()[0])
    np.testing.assert_allclose(f(XV), wide_value(XV, n), rtol=1e-11)


@pytest.mark.slow
def test_hundred_thousand_node_chain():
    x = pt.vector("x")
    n = 100_000
    f = opgraph.function([x], chain(x, n), mode=numba_mode()[0])
    np.testing.assert_allclose(f(XV), chain_value(XV, n), rtol=1e-10)

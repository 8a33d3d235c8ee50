"""dprint of deep graphs is linear: bounded indentation, memory growing with the node count, not its square."""

import textwrap
import tracemalloc

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.printing.dprint import CONTINUED, MAX_NESTING


def chain(n):
    x = pt.vector("x")
    y = x
    for _ in range(n):
        y = pt.exp(y)
    return y


def printed(y):
    """(text, peak bytes allocated while printing)."""
    tracemalloc.start()
    try:
        text = opgraph.dprint(y, file="str")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return text, peak


def test_deep_chain_continues_as_new_trees_with_the_same_ids():
    y = chain(5)
    assert opgraph.dprint(y, max_nesting=2, file="str") == textwrap.dedent(f"""\
        Exp [id A]
         └─ Exp [id B]
            └─ Exp [id C]
               └─ {CONTINUED}
        Exp [id C]
         └─ Exp [id D]
            └─ Exp [id E]
               └─ {CONTINUED}
        Exp [id E]
         └─ x [id F]
        """)


def test_twenty_thousand_node_chain_prints_in_linear_size_and_memory():
    small_n, big_n = 10_000, 20_000
    small_text, small_peak = printed(chain(small_n))
    big_text, big_peak = printed(chain(big_n))
    # Quadratic printing (the indentation of every level) would make these ratios ~4.
    assert big_peak / small_peak < 2.6
    assert 1.9 < len(big_text) / len(small_text) < 2.1
    lines = big_text.splitlines()
    longest_label = len("Exp [id ABCD]")
    # indentation (1 + 3 per level, at most MAX_NESTING + 1 levels) plus the marker and label
    assert max(len(line) for line in lines) <= 3 * (MAX_NESTING + 2) + max(longest_label, len(CONTINUED))
    # Every node is printed (expanded once), plus one repeated line per continuation.
    n_blocks = sum(1 for line in lines if line.startswith("Exp [id"))
    assert sum(1 for line in lines if "Exp [id" in line) == big_n + n_blocks - 1
    assert n_blocks - 1 == sum(1 for line in lines if line.endswith(CONTINUED))
    assert lines[-1].endswith("x [id " + lines[-1].rsplit("[id ", 1)[1])


def test_shallow_graphs_are_not_continued():
    y = chain(MAX_NESTING)
    text = opgraph.dprint(y, file="str")
    assert CONTINUED not in text and len(text.splitlines()) == MAX_NESTING + 1

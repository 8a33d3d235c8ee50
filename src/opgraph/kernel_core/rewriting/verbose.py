"""``config.optimizer_verbose``: one printed line per replacement, as PyTensor prints them.

    rewriting: rewrite log1p replaces Log.0 of Log(Add.0) with Log1p.0 of Log1p(x)

The node driver prints from the replacement it applies.  Whole-graph passes
(fusion, inplace, user ``GraphRewriter`` subclasses) change the graph
themselves, so ``VerbosePrinter`` -- a FunctionGraph feature -- prints their
replacements as the graph reports them, once per replaced variable.
"""

from __future__ import annotations

import contextlib
import sys

from opgraph.kernel_core.graph.fgraph import Feature


def optimizer_verbose():
    from opgraph.kernel_core.config import config

    return config.optimizer_verbose


def print_rewrite(rule, old, new):
    print(f"rewriting: rewrite {rule} replaces {old} of {old.owner} with {new} of {new.owner}", file=sys.stdout)


class VerbosePrinter(Feature):
    """Prints each variable a pass replaces (a replace of a variable with k clients is one line)."""

    def __init__(self, rule):
        self.rule = rule
        self.seen = set()

    def on_change_input(self, fgraph, node, i, old, new, reason):
        key = (id(old), id(new))
        if key in self.seen:
            return
        self.seen.add(key)
        print_rewrite(reason or self.rule, old, new)


@contextlib.contextmanager
def printing_replacements(fgraph, rule):
    """Print the replacements made inside the block when ``optimizer_verbose`` is on
    (and no printer is already attached: nested passes print once)."""
    if not optimizer_verbose() or fgraph.get_feature(VerbosePrinter) is not None:
        yield
        return
    printer = VerbosePrinter(rule)
    fgraph.attach_feature(printer)
    try:
        yield
    finally:
        fgraph.remove_feature(printer)

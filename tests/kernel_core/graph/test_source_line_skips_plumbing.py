"""Nodes record the user's line that built them, even when opgraph reaches its own
code through standard-library plumbing (logprob rules are singledispatch functions:
their nodes used to say "built at functools.py")."""

import functools
import os

import opgraph.tensor as pt
from opgraph.kernel_core.graph.traversal import ancestors
from opgraph.kernel_core.runtime_errors import source_of
from opgraph.logprob import logp


def test_logprob_rule_nodes_point_at_the_users_line():
    x = pt.random.normal(0.0, 1.0, name="x")
    value = pt.dscalar("value")
    lp = logp(x, value)  # the line every rule-built node must report
    sources = {source_of(v) for v in ancestors([lp]) if v.owner is not None}
    (where,) = sources
    assert where.startswith(f"{__file__}:")
    assert where.endswith(": lp = logp(x, value)  # the line every rule-built node must report")
    assert not any(os.path.basename(functools.__file__) in s for s in sources)

"""The dual-mode suite's coverage: every op of the library is compiled with mode="NUMBA"
and compared with mode="PYTHON" by some family of _dual_mode_cases.py.

The families (their case tables, ``run_both``, ``NOT_COMPILED``) are in
_dual_mode_cases.py; they run in test_dual_mode_<part>.py, one file per entry of
``PARTS`` (split so that ``--dist loadfile`` spreads the compiling over the workers).

``test_every_op_is_covered`` walks every Op class of the library and requires each
to appear in some family's NUMBA graph (scalar ops inside Elemwise / Composite count),
so a new op without a case fails the suite.  A new abstract Op base class goes into
``NOT_COMPILED`` in _dual_mode_cases.py.  The graphs are rewritten here, not compiled:
``test_every_family_runs_in_one_part`` checks that the part files compile and
compare every family.
"""

import os

import numpy as np
import pytest

import _dual_mode_cases as cases
import opgraph
import opgraph.tensor as pt
from _dual_mode_cases import NOT_COMPILED  # noqa: F401  (the list of abstract bases lives there)

_HERE = os.path.dirname(os.path.abspath(__file__))


def test_every_family_runs_in_one_part():
    parted = [family for families in cases.PARTS.values() for family in families]
    twice = sorted({f for f in parted if parted.count(f) > 1})
    assert not twice, f"families in more than one PARTS entry: {twice}"
    assert set(parted) == set(cases.FAMILIES), (
        f"families in no PARTS entry of _dual_mode_cases.py: {sorted(set(cases.FAMILIES) - set(parted))}; "
        f"PARTS names unknown families: {sorted(set(parted) - set(cases.FAMILIES))}")
    missing = [p for p in cases.PARTS if not os.path.exists(os.path.join(_HERE, f"test_dual_mode_{p}.py"))]
    assert not missing, f"PARTS entries without their test_dual_mode_<part>.py: {missing}"


def test_every_op_is_covered():
    covered = set()
    for family in cases.FAMILIES:
        covered |= cases.graph_ops(family)
    missing = sorted(c.__name__ for c in cases._library_op_classes() - covered if c.__name__ not in NOT_COMPILED)
    assert not missing, f"ops without a NUMBA-vs-PYTHON case: {missing}"


# -- errors ----------------------------------------------------------------------------------
def test_bad_values_raise_in_both_modes():
    """Out-of-bounds indices, bad split sizes, impossible broadcasts: both modes refuse them
    (numba itself does not bound-check; the generated code does)."""
    x = pt.matrix("x")
    i = pt.lscalar("i")
    iv = pt.lvector("iv")
    sizes = pt.lvector("sizes")
    v = pt.vector("v")
    n = pt.lscalar("n")
    outs = [x[i], x[iv], pt.set_subtensor(x[:, iv], 1.0), pt.take_along_axis(x[:1], iv[None, :], 1),
            *pt.split(x, sizes, 2, axis=0), pt.alloc(v, n, 3), pt.repeat(x[:3], iv, axis=0)]
    inputs = [x, i, iv, sizes, v, n]
    fns = [opgraph.function(inputs, outs, mode=mode) for mode in ("NUMBA", "PYTHON")]
    good = [np.arange(16.0).reshape(4, 4), np.int64(1), np.array([0, 1, 3]), np.array([1, 3]),
            np.ones(3), np.int64(2)]
    for f in fns:
        f(*good)
    bad_cases = {1: np.int64(4), 2: np.array([0, -5, 1]), 3: np.array([1, 1]), 4: np.ones(2)}
    for pos, value in bad_cases.items():
        args = list(good)
        args[pos] = value
        for f in fns:
            # Both report the failing node (NodeRuntimeError wrapping the IndexError / ValueError).
            with pytest.raises(Exception, match="Error"):
                f(*args)

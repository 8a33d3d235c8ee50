"""Seed 002's compiled NUMBA graph (dprint with destroy maps), golden.

The seed prints::

    Cos [id A] d={0: [0]} 5
    └─ Squeeze{axes=[0, 1]} [id B] 4
    └─ dot [id C] 3
    ├─ ExpandDims{axis=0} [id D] 2
    │ └─ Composite{exp(sin(i0))} [id E] 0
    │   └─ x [id F]
    └─ ExpandDims{axis=1} [id G] 1
    └─ Composite{exp(sin(i0))} [id E] 0
    └─ ···
    Inner graphs:
    Composite{exp(sin(i0))} [id E]
    ← exp [id H] 'o0'
    └─ sin [id I]
    └─ i0 [id J]

(the seed's tree indentation was lost when it was scraped).  The one
difference is the toposort index of the two ExpandDims: our scheduler visits
``dot``'s inputs left to right, so ``ExpandDims{axis=0}`` is 1 and
``ExpandDims{axis=1}`` is 2 (PyTensor's toposort happened to put them the
other way round).  Either order is a valid schedule; the test checks the
rest character for character and that the two indices are {1, 2}.
"""

import numpy as np

import opgraph
import opgraph.tensor as pt

EXPECTED = """\
Cos [id A] d={0: [0]} 5
 └─ Squeeze{axes=[0, 1]} [id B] 4
    └─ dot [id C] 3
       ├─ ExpandDims{axis=0} [id D] <i>
       │  └─ Composite{exp(sin(i0))} [id E] 0
       │     └─ x [id F]
       └─ ExpandDims{axis=1} [id G] <j>
          └─ Composite{exp(sin(i0))} [id E] 0
             └─ ···

Inner graphs:

Composite{exp(sin(i0))} [id E]
 ← exp [id H] 'o0'
    └─ sin [id I]
       └─ i0 [id J]
"""


def _seed_function():
    x = pt.vector("x")
    z = pt.exp(pt.sin(x))
    out = pt.cos((z[None, :] @ z[:, None]).squeeze())
    return opgraph.function([x], out, mode="NUMBA")


def test_seed_002_numba_dprint_golden():
    f = _seed_function()
    text = f.dprint(print_destroy_map=True, file="str")
    lines = text.rstrip("\n").splitlines()
    expected = EXPECTED.rstrip("\n").splitlines()
    assert len(lines) == len(expected), text
    indices = []
    for got, want in zip(lines, expected):
        if want.endswith(("<i>", "<j>")):
            head, idx = got.rsplit(" ", 1)
            assert head == want.rsplit(" ", 1)[0], text
            indices.append(int(idx))
        else:
            assert got == want, text
    assert sorted(indices) == [1, 2]


def test_seed_002_numba_values():
    f = _seed_function()
    f.wait_compiled()   # the values of Numba's code (the test suite starts on the Python tier)
    assert f.backend == "numba"
    for xv in (np.random.default_rng(0).normal(size=3), np.random.default_rng(1).normal(size=5)):
        z = np.exp(np.sin(xv))
        np.testing.assert_allclose(f(xv), np.cos(z @ z))

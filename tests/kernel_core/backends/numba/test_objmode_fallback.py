"""The objmode fallback every user-defined Op (only ``perform``) takes under NUMBA
(issue 12): inside a larger compiled graph it gives the right values, and the
profile names it as running in object mode."""

import numpy as np

import opgraph
import opgraph.tensor as pt
from opgraph.gradient import grad
from opgraph.kernel_core.backends.numba.linker import NumbaLinker
from opgraph.kernel_core.compile.mode import Mode
from opgraph.kernel_core.graph.basic import Apply
from opgraph.kernel_core.graph.op import Op

# The Numba linker itself (not whatever mode="NUMBA" selects first, e.g. a faster-to-start
# tier): these tests are about the compiled code.
NUMBA = Mode(linker=NumbaLinker(), optimizer="fast_run")


class CumulativeMax(Op):
    """A user op with only make_node and perform (no Numba implementation)."""

    __props__ = ()

    def make_node(self, x):
        x = pt.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.maximum.accumulate(inputs[0])


class ScaledPair(Op):
    """Two outputs, one of them a scalar: the objmode declaration covers both."""

    __props__ = ("scale",)

    def __init__(self, scale):
        self.scale = scale

    def make_node(self, x):
        x = pt.as_tensor_variable(x)
        return Apply(self, [x], [x.type(), pt.scalar(dtype=x.type.dtype)])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        output_storage[0][0] = x * self.scale
        output_storage[1][0] = np.asarray(x.sum(), dtype=x.dtype)


def test_user_ops_run_in_object_mode_inside_a_compiled_graph():
    x = pt.vector("x")
    y = pt.exp(x) - 1.0
    m = CumulativeMax()(y * 2.0)
    scaled, total = ScaledPair(3.0)(m + x)
    out = pt.log1p(pt.abs(scaled)) * total
    outputs = [out, m, grad((x ** 2).sum(), x)]
    xv = np.array([0.3, -1.0, 2.0, 0.5])
    ym = np.maximum.accumulate((np.exp(xv) - 1.0) * 2.0)
    expected = [np.log1p(np.abs((ym + xv) * 3.0)) * (ym + xv).sum(), ym, 2 * xv]
    # The whole graph as one compiled function (objmode blocks inside it) ...
    whole = opgraph.function([x], outputs, mode=NUMBA)
    for g, e in zip(whole(xv), expected):
        np.testing.assert_allclose(g, e)
    # ... and node by node under the profiler.
    f = opgraph.function([x], outputs, mode=NUMBA, profile=True)
    for _ in range(2):
        got = f(xv)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e)

    profile = f.profile
    names = sorted(str(n.op) for n in profile.object_mode_nodes)
    assert names == sorted([str(CumulativeMax()), str(ScaledPair(3.0))])   # everything else compiled
    text = profile.summary(file="str")
    assert "object mode (Python perform inside numba.objmode, not compiled)" in text
    lines = [ln for ln in text.splitlines() if ln.endswith("[object mode]")]
    assert len(lines) == 2 and any(str(CumulativeMax()) in ln for ln in lines)
    assert all(profile.apply_callcount[n] == 2 for n in profile.object_mode_nodes)

"""What opgraph keeps for a compiled NUMBA function is released with the Function
(issues 12 and 21: every compiled function used to stay in memory for good).

Checked with weak references, not RSS: after ``del f; gc.collect()`` the
Function, its generated module (disk-cached or in memory), the module's
dispatchers and its ``sys.modules`` entry are gone.  What numba keeps anyway
(machine code) is documented in NumbaLinker's docstring; the figures are in
benchmarks/memory_cycles.py.
"""

import gc
import sys
import weakref

import numpy as np

import opgraph
import opgraph.tensor as pt
from opgraph.kernel_core.backends.numba import cache
from opgraph.kernel_core.backends.numba.linker import NumbaLinker
from opgraph.kernel_core.compile.mode import Mode
from opgraph.kernel_core.graph.basic import Apply
from opgraph.kernel_core.graph.op import Op

# The Numba linker itself (not whatever mode="NUMBA" selects first, e.g. a faster-to-start
# tier): these tests are about the compiled code.
NUMBA = Mode(linker=NumbaLinker(), optimizer="fast_run")


class Halve(Op):
    """A user op (objmode): its graph's module is compiled in memory, not cached."""

    __props__ = ()

    def make_node(self, x):
        x = pt.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] / 2


def generated_modules():
    return {name: mod for name, mod in sys.modules.items() if name.startswith("_opgraph_numba")}


def test_deleting_a_function_releases_its_generated_module():
    x = pt.vector("x")
    gc.collect()   # earlier tests' garbage: their modules must not go away during this test
    before = set(generated_modules())
    f = opgraph.function([x], [pt.tanh(x) * 1.375 - 0.25, pt.exp(Halve()(x))], mode=NUMBA)
    xv = np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(f(xv)[1], np.exp(xv / 2))
    cached = opgraph.function([x], pt.tanh(x) * 1.625 - 0.75, mode=NUMBA)
    np.testing.assert_allclose(cached(xv), np.tanh(xv) * 1.625 - 0.75)
    again = opgraph.function([x], pt.tanh(x) * 1.625 - 0.75, mode=NUMBA)
    new = {n: m for n, m in generated_modules().items() if n not in before}
    assert len(new) == 2   # one in memory (objmode), one from the disk cache, shared by `again`
    assert any(n.startswith("_opgraph_numba_mem_") for n in new)
    refs = [weakref.ref(obj) for obj in (f, cached, again, *new.values())]
    refs += [weakref.ref(v) for m in new.values() for v in vars(m).values()   # its own, not imported kernels
             if type(v).__name__ == "CPUDispatcher" and v.py_func.__globals__ is vars(m)]
    assert len(refs) > 5
    keys = {m.__name__.split("_")[-1] for m in new.values()}
    del f, cached, again, new
    gc.collect()
    assert [r() for r in refs] == [None] * len(refs)
    assert not set(generated_modules()) - before   # this test's modules are gone
    assert not keys & set(cache._modules.keys())


def test_a_live_function_keeps_its_module_for_reuse():
    x = pt.vector("x")
    f = opgraph.function([x], pt.sin(x) * 2.875, mode=NUMBA)
    n = len(cache._modules)
    g = opgraph.function([x], pt.sin(x) * 2.875, mode=NUMBA)
    assert len(cache._modules) == n   # the same graph reuses the loaded module
    np.testing.assert_allclose(g(np.ones(2)), f(np.ones(2)))

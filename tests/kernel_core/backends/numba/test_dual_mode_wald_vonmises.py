"""NUMBA = PYTHON, part "wald_vonmises" of the dual-mode suite: the von Mises CDF op
(VonMisesCdf) across its branches and its gradients, the von Mises logcdf / icdf
(VonMisesLowerQuantile), the Wald icdf (WaldUnitQuantile) and its gradient.

The case is in _dual_mode_cases.py (PARTS["wald_vonmises"]): one function with many outputs,
compiled in both modes, every output compared; the JAX mode runs it in
tests/kernel_core/backends/jax/test_jax_dual_mode.py.
"""

import pytest

import _dual_mode_cases as cases


@pytest.mark.parametrize("family", cases.PARTS["wald_vonmises"])
def test_numba_equals_python(family):
    assert cases.seen_by(family)

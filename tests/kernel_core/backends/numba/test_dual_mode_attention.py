"""NUMBA = PYTHON, part "attention" of the dual-mode suite: FusedAttention and
FusedAttentionGrad (every mask kind, heads, several blocks, the q, k, v and scale
gradients), then the compiled attention kernels themselves: their numba signatures, and
their dropout mask and arithmetic called directly against the NumPy reference.

The family is in _dual_mode_cases.py (PARTS["attention"]): one function with many outputs,
compiled in both modes, every output compared.
"""

import numpy as np
import pytest

import _dual_mode_cases as cases
from opgraph.kernel_core.tensor.nnet.attention_fused import (
    BLOCK_K, BLOCK_Q, attention_backward, attention_forward, dropout_keep)


@pytest.mark.parametrize("family", cases.PARTS["attention"])
def test_numba_equals_python(family):
    assert cases.seen_by(family)


def test_the_kernels_take_mask_kinds_and_block_sizes_as_int64():
    """As literal constants numba would compile the shared kernels once per value
    (dispatch.int64_arg passes them as int64)."""
    from opgraph.kernel_core.backends.numba.attention_kernels import backward, forward

    cases.seen_by("attention")      # the family compiles the kernels in this process
    signatures = forward.signatures + backward.signatures
    assert signatures and not [s for s in signatures if "Literal" in str(s)]


def test_the_dropout_kernels_equal_python():
    """The compiled kernels' keep mask and arithmetic are the reference's (values, gradients);
    called with the argument types the family compiled them for."""
    from opgraph.kernel_core.backends.numba.attention_kernels import backward, forward, keep_mask

    cases.seen_by("attention")
    g = np.random.default_rng(0)
    q, k, v, w = (g.normal(size=s) for s in ((BLOCK_Q + 3, 3), (BLOCK_K + 9, 3), (BLOCK_K + 9, 2), (BLOCK_Q + 3, 2)))
    np.testing.assert_array_equal(keep_mask(7, 3, 40, 5, 90, 300, 0.4), dropout_keep(7, 3, 40, 5, 90, 300, 0.4))
    none = np.zeros((1, 1))
    out, lse = forward(q, k, v, 0.7, none, 0, 0.3, 9, BLOCK_Q, BLOCK_K)
    want = attention_forward(q, k, v, 0.7, dropout_p=0.3, seed=9)
    np.testing.assert_allclose(out, want[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(lse, want[1], rtol=1e-12)
    glse = np.zeros(len(q))
    got = backward(q, k, v, 0.7, none, 0, 0.3, 9, out, lse, w, glse, BLOCK_Q, BLOCK_K)
    ref = attention_backward(q, k, v, 0.7, None, None, out, lse, w, glse, 0.3, 9)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)

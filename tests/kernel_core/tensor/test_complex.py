"""real / imag / conj / complex / angle against NumPy, and their gradients."""

import numpy as np
import pytest

import opgraph.tensor as pt
from opgraph.kernel_core.gradient import grad, verify_grad

ZV = np.array([1 + 2j, -3j, 2, -0.5 + 0.25j])


def test_parts_match_numpy_with_numpy_dtypes():
    z = pt.vector("z", dtype="complex128")
    c = pt.vector("c", dtype="complex64")
    x = pt.dvector("x")
    for fn, np_fn in [(pt.real, np.real), (pt.imag, np.imag), (pt.conj, np.conj), (pt.angle, np.angle)]:
        got = fn(z).eval({z: ZV})
        want = np_fn(ZV)
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want)
        assert fn(c).dtype == np_fn(ZV.astype("complex64")).dtype.name
        np.testing.assert_allclose(fn(x).eval({x: ZV.real}), np_fn(ZV.real))
    both = pt.complex(x, 2 * x)
    assert both.dtype == "complex128" and pt.complex(pt.fvector("a"), pt.fvector("b")).dtype == "complex64"
    np.testing.assert_allclose(both.eval({x: ZV.real}), ZV.real + 2j * ZV.real)
    with pytest.raises(TypeError, match="complex: the parts must be real"):
        pt.complex(pt.conj(pt.vector("w", dtype="complex128")), x)


def test_gradients_through_complex_parts():
    # real(complex(a, b)) + imag(complex(a, b)) ** 2 == a + b ** 2
    verify_grad(lambda a, b: pt.real(pt.complex(a, b)) + pt.imag(pt.complex(a, b)) ** 2,
                [np.array([0.5, -1.0]), np.array([2.0, 0.25])])
    verify_grad(lambda a: pt.real(a) * 3 + pt.conj(a), [np.array([0.5, -1.0])])
    x = pt.dvector("x")
    assert grad(pt.imag(x).sum() + x.sum(), x).eval({x: np.ones(2)}).tolist() == [1.0, 1.0]


def test_tensor_variable_real_imag_conj():
    z = pt.vector("z", dtype="complex128")
    np.testing.assert_allclose(z.real.eval({z: ZV}), ZV.real)
    np.testing.assert_allclose(z.imag.eval({z: ZV}), ZV.imag)
    np.testing.assert_allclose(z.conj().eval({z: ZV}), ZV.conj())
    assert str(z.conjugate().owner.op) == "Conj"

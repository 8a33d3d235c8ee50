"""Elementwise tensor forms of ``scalar/special_functions.py`` (PyTensor's ``pt.gammainc``,
``pt.gammaincc``, ``pt.gammaincinv``, ``pt.gammainccinv``, ``pt.betainc``, ``pt.betaincinv``,
``pt.i0``, ``pt.i0e``, ``pt.i1``, ``pt.i1e`` and ``pt.special.ndtri``; ``pt.betainccinv`` is SciPy's,
not PyTensor's)."""

from __future__ import annotations

from opgraph.kernel_core.scalar import special_functions as psf
from opgraph.kernel_core.tensor.elemwise import Elemwise

__all__ = ["gammainc", "gammaincc", "gammaincinv", "gammainccinv", "betainc", "betaincinv", "betainccinv", "ndtri",
           "i0", "i0e", "i1", "i1e"]

gammainc = Elemwise(psf.gammainc)
gammaincc = Elemwise(psf.gammaincc)
gammaincinv = Elemwise(psf.gammaincinv)
gammainccinv = Elemwise(psf.gammainccinv)
betainc = Elemwise(psf.betainc)
betaincinv = Elemwise(psf.betaincinv)
betainccinv = Elemwise(psf.betainccinv)
ndtri = Elemwise(psf.ndtri)
i0 = Elemwise(psf.i0)
i0e = Elemwise(psf.i0e)
i1 = Elemwise(psf.i1)
i1e = Elemwise(psf.i1e)

# SciPy's inverses in k of the discrete CDFs (the discrete quantiles; not PyTensor names: not in __all__).
pdtrik = Elemwise(psf.pdtrik)
bdtrik = Elemwise(psf.bdtrik)
nbdtrik = Elemwise(psf.nbdtrik)

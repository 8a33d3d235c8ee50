"""Softmax and LogSoftmax: ``jax.nn``'s, over the op's axis (``None``: every element); the
inverse incomplete gamma / beta functions, which ``jax.scipy.special`` lacks.

``gammaincinv``, ``gammainccinv``, ``betaincinv``, ``betainccinv`` and the inverses in k of
the discrete CDFs (``pdtrik``, ``bdtrik``, ``nbdtrik``) run SciPy's functions on the host
through ``jax.pure_callback`` (as pt.optimize's solvers do): the results equal the other
modes' to the last bit, under ``jit`` and ``vmap`` (the ufuncs broadcast).  opgraph's
gradients of them are ordinary graphs (the inverse-function rule) and compile;
``jax.grad`` cannot differentiate through the callback of an exported function
(``opgraph.link.jax.to_jax``), and an exported function needs a host.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from opgraph.kernel_core.backends.jax.dispatch import jax_funcify
from opgraph.kernel_core.backends.jax.host_callback import host_callback   # 64-bit arguments and results with x64 off
from opgraph.kernel_core.backends.jax.scalar import register_scalar
from opgraph.kernel_core.scalar import special_functions as psf
from opgraph.kernel_core.scalar import iterative_quantiles as psf_iq
from opgraph.kernel_core.scalar import vonmises_cdf as psf_vonmises
from opgraph.kernel_core.scalar import vonmises_logcdf as psf_vonmises_log
from opgraph.kernel_core.tensor.special import LogSoftmax, Softmax


def _over_axis(fn, axis):
    if axis is not None:
        return lambda x: fn(x, axis=axis)

    def whole(x):
        return fn(jnp.reshape(x, (-1,)), axis=0).reshape(jnp.shape(x))
    return whole


@jax_funcify.register(Softmax)
def jax_funcify_softmax(op, node, **kwargs):
    return _over_axis(jax.nn.softmax, op.axis)


@jax_funcify.register(LogSoftmax)
def jax_funcify_log_softmax(op, node, **kwargs):
    return _over_axis(jax.nn.log_softmax, op.axis)


def _on_host(scipy_name):
    def fn(*args):
        arrays = [jnp.asarray(a) for a in args]
        dtype = jnp.result_type(*[a.dtype for a in arrays])
        dtype = dtype if jnp.issubdtype(dtype, jnp.floating) else jnp.float64
        arrays = [a.astype(dtype) for a in arrays]
        shape = jnp.broadcast_shapes(*[a.shape for a in arrays])

        def host(*values):
            import scipy.special

            wide = [np.asarray(v, dtype="float64") for v in values]   # as the other modes compute
            return np.asarray(getattr(scipy.special, scipy_name)(*wide), dtype=dtype)
        return host_callback(host, jax.ShapeDtypeStruct(shape, dtype), *arrays, vmap_method="broadcast_all")
    fn.__name__ = scipy_name
    return fn


for _cls, _name in [(psf.GammaIncInv, "gammaincinv"), (psf.GammaIncCInv, "gammainccinv"),
                    (psf.BetaIncInv, "betaincinv"), (psf.BetaIncCInv, "betainccinv"),
                    (psf.Pdtrik, "pdtrik"), (psf.Bdtrik, "bdtrik"), (psf.Nbdtrik, "nbdtrik")]:
    register_scalar(_cls, _on_host(_name))


# The von Mises CDF and log-CDF (scalar/vonmises_cdf.py, vonmises_logcdf.py): their array algorithms on jax.numpy (fixed quadrature
# nodes, every branch computed and selected by where: jit- and vmap-friendly).  The normalizer
# i0e by the module's own quadrature (jax.scipy.special.i0e is accurate to 3e-7 only; staying
# in the graph keeps it jit-, vmap- and device-friendly, where a host callback would not be).  XLA reassociates
# constant sums ((v + pi) + PI_LO becomes v + pi: a zero mass at x = -pi, a lost 7e-19 in
# log1p(-F) at x = pi): cdf_array's ``keep`` is jax.lax.optimization_barrier.
def _i0e(k):
    from opgraph.kernel_core.scalar.vonmises_cdf import i0e_array

    return i0e_array(k, jnp)


def _vonmises_cdf(x, mu, kappa):
    from opgraph.kernel_core.scalar.vonmises_cdf import cdf_array

    return cdf_array(x, mu, kappa, jnp, _i0e, jax.lax.optimization_barrier)


def _vonmises_cdf_dkappa(x, mu, kappa):
    from opgraph.kernel_core.scalar.vonmises_cdf import cdf_dkappa_array

    return cdf_dkappa_array(x, mu, kappa, jnp, _i0e, jax.lax.optimization_barrier)


def _vonmises_logcdf(x, mu, kappa):
    from opgraph.kernel_core.scalar.vonmises_logcdf import logcdf_array

    return logcdf_array(x, mu, kappa, jnp, _i0e, jax.lax.optimization_barrier)


def _vonmises_logcdf_dkappa(x, mu, kappa):
    from opgraph.kernel_core.scalar.vonmises_logcdf import logcdf_dkappa_array

    return logcdf_dkappa_array(x, mu, kappa, jnp, _i0e, jax.lax.optimization_barrier)


register_scalar(psf_vonmises.VonMisesCdf, _vonmises_cdf)
register_scalar(psf_vonmises.VonMisesCdfDKappa, _vonmises_cdf_dkappa)
register_scalar(psf_vonmises_log.VonMisesLogCdf, _vonmises_logcdf)
register_scalar(psf_vonmises_log.VonMisesLogCdfDKappa, _vonmises_logcdf_dkappa)


# The Newton quantiles (scalar/iterative_quantiles.py): their array algorithms on jax.numpy, the
# steps in a lax.fori_loop (a fixed count, as the other modes run).
def _fori(n, body, state):
    return jax.lax.fori_loop(0, n, lambda i, s: body(s), state)


class _JaxFns:
    import jax.scipy.special as _jsp

    erfc, erfcx, ndtri = staticmethod(_jsp.erfc), staticmethod(_jsp.erfcx), staticmethod(_jsp.ndtri)
    i0e = staticmethod(_i0e)
    # XLA folds (v + pi) + PI_LO into v + pi: the barrier keeps cdf_array's two-part pi.
    keep = staticmethod(jax.lax.optimization_barrier)


def _wald_unit_quantile(q, phi):
    from opgraph.kernel_core.scalar.iterative_quantiles import wald_quantile_array

    return wald_quantile_array(q, phi, jnp, _JaxFns, _fori)


def _vonmises_lower_quantile(p, mu, kappa):
    from opgraph.kernel_core.scalar.iterative_quantiles import vonmises_lower_quantile_array

    return vonmises_lower_quantile_array(p, mu, kappa, jnp, _JaxFns, _fori)


register_scalar(psf_iq.WaldUnitQuantile, _wald_unit_quantile)
register_scalar(psf_iq.VonMisesLowerQuantile, _vonmises_lower_quantile)

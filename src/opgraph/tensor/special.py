"""``opgraph.tensor.special`` (PyTensor's ``pytensor.tensor.special``): softmax,
log_softmax, logit, betaln, ... from the engine, and PyTensor's other names at this
path (``expit``, ``gammaln``, ...) resolved where opgraph defines them
(``opgraph._pytensor_api.FALLBACK``), so nothing is defined twice."""

from importlib import import_module

from opgraph._pytensor_api import known_resolvable, missing_names

_engine = import_module("opgraph.kernel_core.tensor.special")
from opgraph.kernel_core.tensor.special import *  # noqa: F401,F403,E402

__getattr__ = missing_names(__name__)
__all__ = [*_engine.__all__, *(n for n in known_resolvable(__name__) if n not in _engine.__all__)]

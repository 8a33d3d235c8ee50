"""``opgraph.tensor.nlinalg``: PyTensor's ``pytensor.tensor.nlinalg`` (opgraph's linear algebra lives in ``opgraph.tensor.linalg``).

No engine module of its own: PyTensor's names at this path resolve where
opgraph defines them (``opgraph._pytensor_api.FALLBACK``), so nothing is defined twice."""

from opgraph._pytensor_api import known_resolvable, missing_names

__getattr__ = missing_names(__name__)
__all__ = known_resolvable(__name__)

"""``opgraph.scalar``: PyTensor's ``pytensor.scalar``: scalar types and scalar ops.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_scalar_type = import_module("opgraph.kernel_core.scalar.type")
_scalar_basic = import_module("opgraph.kernel_core.scalar.basic")
_scalar_special = import_module("opgraph.kernel_core.scalar.special")
_scalar_composite = import_module("opgraph.kernel_core.scalar.composite")
from opgraph.kernel_core.scalar.type import *  # noqa: F401,F403
from opgraph.kernel_core.scalar.basic import *  # noqa: F401,F403
from opgraph.kernel_core.scalar.special import *  # noqa: F401,F403
from opgraph.kernel_core.scalar.composite import *  # noqa: F401,F403

__all__ = [*_scalar_type.__all__, *_scalar_basic.__all__, *_scalar_special.__all__, *_scalar_composite.__all__]
__getattr__ = missing_names(__name__)

from opgraph.scalar import basic, math  # noqa: E402,F401  (``ps.basic``, ``ps.math`` as in PyTensor)

"""``opgraph.scalar.math``: PyTensor's ``pytensor.scalar.math`` (special functions; opgraph keeps every scalar op in one engine module).

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_scalar_basic = import_module("opgraph.kernel_core.scalar.basic")
_scalar_special = import_module("opgraph.kernel_core.scalar.special")
from opgraph.kernel_core.scalar.basic import *  # noqa: F401,F403
from opgraph.kernel_core.scalar.special import *  # noqa: F401,F403
from opgraph.kernel_core.scalar.special_functions import *  # noqa: F401,F403

__all__ = [*_scalar_basic.__all__, *_scalar_special.__all__, *import_module("opgraph.kernel_core.scalar.special_functions").__all__]
__getattr__ = missing_names(__name__)

"""``opgraph.tensor.basic``: PyTensor's ``pytensor.tensor.basic``: constants, construction, joining.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_tensor_basic = import_module("opgraph.kernel_core.tensor.basic")
_tensor_construction = import_module("opgraph.kernel_core.tensor.construction")
_tensor_join = import_module("opgraph.kernel_core.tensor.join")
from opgraph.kernel_core.tensor.basic import *  # noqa: F401,F403
from opgraph.kernel_core.tensor.construction import *  # noqa: F401,F403
from opgraph.kernel_core.tensor.join import *  # noqa: F401,F403

__all__ = [*_tensor_basic.__all__, *_tensor_construction.__all__, *_tensor_join.__all__]
__getattr__ = missing_names(__name__)

"""``opgraph.configdefaults``: PyTensor's ``pytensor.configdefaults``: the settings object.

A re-export of the engine (see ``opgraph._pytensor_api`` for PyTensor names
opgraph does not implement)."""

from importlib import import_module

from opgraph._pytensor_api import missing_names
_config = import_module("opgraph.kernel_core.config")
from opgraph.kernel_core.config import *  # noqa: F401,F403

__all__ = [*_config.__all__]
__getattr__ = missing_names(__name__)

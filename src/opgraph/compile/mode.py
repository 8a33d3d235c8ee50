"""Public: compilation modes (mirrors pytensor.compile.mode), and ``optdb``."""

from opgraph._pytensor_api import missing_names
from opgraph.kernel_core.compile.mode import *  # noqa: F401,F403
from opgraph.kernel_core.compile.mode import __all__ as _mode_all
from opgraph.kernel_core.rewriting.optdb import optdb

__all__ = [*_mode_all, "optdb"]
__getattr__ = missing_names(__name__)

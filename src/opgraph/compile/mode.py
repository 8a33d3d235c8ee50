"""Public: compilation modes (mirrors pytensor.compile.mode)."""

from opgraph.kernel_core.compile.mode import *  # noqa: F401,F403
from opgraph.kernel_core.compile.mode import __all__  # noqa: F401

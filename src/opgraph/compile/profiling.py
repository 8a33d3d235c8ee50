"""Public: ProfileStats (mirrors pytensor.compile.profiling)."""

from opgraph.kernel_core.compile.profiling import *  # noqa: F401,F403
from opgraph.kernel_core.compile.profiling import __all__  # noqa: F401

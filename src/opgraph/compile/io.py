"""Public: In / Out (mirrors pytensor.compile.io)."""

from opgraph.kernel_core.compile.io import *  # noqa: F401,F403
from opgraph.kernel_core.compile.io import __all__  # noqa: F401

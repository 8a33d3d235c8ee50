"""Public: shared variables (mirrors pytensor.compile.sharedvalue)."""

from opgraph.kernel_core.compile.shared import *  # noqa: F401,F403
from opgraph.kernel_core.compile.shared import __all__  # noqa: F401

"""``opgraph.logprob.transforms``: value transforms (PyMC's ``pymc.logprob.transforms`` names)."""

from opgraph.kernel_core.logprob.transforms import *  # noqa: F401,F403
from opgraph.kernel_core.logprob.transforms import __all__  # noqa: F401

"""``opgraph.logprob``: logp derivation from generative graphs (PyMC's ``pymc.logprob`` names);
``opgraph.logprob.transforms`` holds the value transforms."""

from opgraph.kernel_core.logprob import *  # noqa: F401,F403
from opgraph.kernel_core.logprob import __all__  # noqa: F401
from opgraph.kernel_core.logprob import _icdf, _logcdf, _logprob  # noqa: F401
from opgraph.logprob import transforms  # noqa: F401
from opgraph.logprob.transforms import transformed_conditional_logp  # noqa: F401

"""Probability from graphs: logp / logcdf / icdf derivation, parameter checks, value transforms.

``opgraph.logprob`` re-exports this package under PyMC's ``pymc.logprob`` names.
"""

from opgraph.kernel_core.logprob.basic import (  # noqa: F401
    NotMeasurableError, conditional_logp, icdf, joint_logp, logcdf, logp,
)
from opgraph.kernel_core.logprob.check import (  # noqa: F401
    CheckParameterValue, ParameterValueError, check_parameters,
)
from opgraph.kernel_core.logprob.rules import _icdf, _logcdf, _logprob  # noqa: F401
from opgraph.kernel_core.logprob import transforms  # noqa: F401
from opgraph.kernel_core.logprob.marginal import marginal_logp, marginalize  # noqa: F401
from opgraph.kernel_core.logprob.hmm import DiscreteMarkovChain  # noqa: F401
from opgraph.kernel_core.logprob.recover import recover_marginals  # noqa: F401
from opgraph.kernel_core.logprob.transforms import transformed_conditional_logp  # noqa: F401

__all__ = ["logp", "logcdf", "icdf", "conditional_logp", "joint_logp", "NotMeasurableError",
           "CheckParameterValue", "ParameterValueError", "check_parameters", "transformed_conditional_logp",
           "marginal_logp", "marginalize", "DiscreteMarkovChain", "recover_marginals"]

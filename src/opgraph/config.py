"""``import opgraph.config`` / ``from opgraph.config import change_flags``: PyTensor's
``pytensor.config`` is the settings object, not a module.  This module makes the
import path work and puts the one settings object (``opgraph.kernel_core.config``)
in its place, so ``opgraph.config`` stays that object after the import."""

import sys

from opgraph.kernel_core.config import config

sys.modules[__name__] = config

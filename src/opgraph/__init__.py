"""opgraph: define, manipulate and compile computational graphs of NumPy programs."""

__version__ = "0.1.0"

from opgraph.kernel_core.config import config  # noqa: F401
from opgraph.kernel_core.printing.dprint import dprint, debugprint  # noqa: F401
from opgraph import tensor  # noqa: F401

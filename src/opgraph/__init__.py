"""opgraph: define, manipulate and compile computational graphs of NumPy programs."""

__version__ = "0.1.0"

from opgraph.kernel_core.config import config  # noqa: F401
from opgraph.kernel_core.printing.dprint import dprint, debugprint  # noqa: F401
from opgraph import tensor  # noqa: F401
from opgraph.kernel_core.compile import function, shared, In, Out, Mode, ProfileStats  # noqa: F401,E402
from opgraph.kernel_core.gradient import grad, jacobian, hessian, Lop, Rop  # noqa: F401,E402
from opgraph.kernel_core.graph.replace import graph_replace, clone_replace  # noqa: F401,E402


def load_ipython_extension(ipython):
    """``%load_ext opgraph``: the magics and rich displays (IPython imported only here)."""
    from opgraph.extension import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython):
    from opgraph.extension import unload_ipython_extension as _unload

    _unload(ipython)
